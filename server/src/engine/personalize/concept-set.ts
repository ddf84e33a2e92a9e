// Several concepts in one prompt ("what would <bo> think of <mam>?"): their tokens get consecutive ids after
// the vocabulary, their rows are stacked in that order, and their soft prompts open the user turn together.
import type { LlavaModel } from '../models/llava/model';
import { LlavaTokenizer } from '../models/llava/tokenizer';
import type { Concept } from './concept';
import { conceptTokens, softPrompt, type ConceptTokens } from './prompts';

export interface ConceptSet {
  concepts: Concept[];
  /** Tokens renumbered for this set. */
  tokens: ConceptTokens[];
  embeddings: Float32Array;
  head: Float32Array;
  prefix: string;
  tokenizer: LlavaTokenizer;
}

/** `prefixes[i]`, when given, introduces concept i instead of its soft prompt (reference mode). */
export function conceptSet(
  model: LlavaModel,
  concepts: Concept[],
  prefixes: (string | undefined)[] = [],
): ConceptSet {
  const D = model.hidden;
  let next = model.vocab;
  const tokens = concepts.map((c) => {
    const t = conceptTokens(c.tokens.name, c.k, next);
    next += c.k + 1;
    return t;
  });
  // Latent token names must be distinct per concept when several are combined.
  const renamed = tokens.map((t) =>
    concepts.length === 1
      ? t
      : { ...t, latentTokens: t.latentTokens.map((l) => l.replace('<token', `<${t.name}_token`)) },
  );
  const embeddings = new Float32Array((next - model.vocab) * D);
  const head = new Float32Array((next - model.vocab) * D);
  let o = 0;
  for (const c of concepts) {
    embeddings.set(c.embeddings, o);
    head.set(c.head, o);
    o += c.embeddings.length;
  }
  const tokenizer = LlavaTokenizer.load(model.dir, {
    extraTokens: renamed.flatMap((t) => [t.nameToken, ...t.latentTokens]),
    firstExtraId: model.vocab,
  });
  return {
    concepts,
    tokens: renamed,
    embeddings,
    head,
    prefix: renamed.map((t, i) => prefixes[i] ?? softPrompt(t)).join(' '),
    tokenizer,
  };
}
