// What a trained concept says of itself: after training, the concept answers "Describe <bo> in one
// sentence." once (greedy, no photo) and the sentence is stored in concept.json, so the editor and the CLI
// can show what the concept learned in words. Chat does not replace the soft prompt with it: measured on
// the ToyWorld benchmark's k = 16 concepts, free-form answers after the sentence alone start with "No, …"
// or say "<bo> is not in the picture" (the trained <bo> rows expect the soft prompt around them), while
// after the soft prompt they read "<bo> is made of metal." and even name an accessory the sentence left
// out. bench toyworld's yollava_k16_self_description variant puts the sentence in front of text-only
// two-option questions, which the model reads far better from words than from learned vectors.
import type { LlavaModel } from '../models/llava/model';
import { streamText } from '../generate/stream-text';
import type { Concept } from './concept';
import { promptIds, softPrompt, type PromptContext } from './prompts';

/** The question the concept answers about itself; one of the recipe's conversation questions. */
export const SELF_DESCRIPTION_QUESTION = 'Describe <name> in one sentence.';

/**
 * The concept's one-sentence description of itself, or null when the sentence does not name the subject
 * (a sentence about "the object" does not say what <bo> is).
 */
export async function describeItself(
  model: LlavaModel,
  ctx: PromptContext,
  concept: Concept,
  maxNewTokens = 24,
): Promise<string | null> {
  const name = concept.tokens.nameToken;
  const question = SELF_DESCRIPTION_QUESTION.replace('<name>', name);
  const ids = promptIds(ctx, softPrompt(concept.tokens), question, 0);
  let text = '';
  for await (const delta of streamText(model, ctx.tokenizer, model.embed(ids, [], concept.embeddings), {
    maxNewTokens,
    extraHead: concept.head,
    extraEmbeddings: concept.embeddings,
    stopStrings: ['USER:'],
  }))
    text += delta;
  text = text.trim();
  return text.includes(name) ? text : null;
}
