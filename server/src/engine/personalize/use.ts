// Using trained subjects: recognition over photos, and chat with one or several concepts in the prompt.
import { loadChatTemplate, type ChatMessage } from '../models/llava/chat-template';
import { LlavaModel } from '../models/llava/model';
import { streamText } from '../generate/stream-text';
import { artifactDir, loadConcept, type Concept } from './concept';
import { conceptSet } from './concept-set';
import { openSubject, type PersonalizeOptions } from './personalize';
import { expandImageTokens } from '../models/llava/embeddings';
import { recognitionScores } from './recognition';
import type { SamplingOptions } from '../generate/sampling';
import { ImageFeatureStore } from './image-features';
import path from 'node:path';

export interface Recognition {
  image: string;
  /** logit(Yes) − logit(No) */
  score: number;
  threshold: number;
  present: boolean;
}

export async function recognize(
  subjectFile: string,
  images: string[],
  opts: Pick<PersonalizeOptions, 'modelDir' | 'model' | 'workspaceDir' | 'provider'> = {},
): Promise<Recognition[]> {
  const s = openSubject(subjectFile, opts);
  try {
    const { concept } = loadConcept(artifactDir(s.workspaceDir, s.subject.name), s.model);
    const scores = await recognitionScores(
      s.model,
      s.ctx,
      s.yesNo,
      { concept, nameText: concept.tokens.nameToken },
      await s.store.projected(images),
    );
    return images.map((image, i) => ({
      image,
      score: scores[i]!,
      threshold: concept.threshold,
      present: scores[i]! > concept.threshold,
    }));
  } finally {
    if (!opts.model) await s.model.release();
  }
}

export interface ChatOptions extends SamplingOptions {
  image?: string;
  history?: ChatMessage[];
  maxNewTokens?: number;
  signal?: AbortSignal;
}

/**
 * Streams the answer to `question` with every listed subject's soft prompt in the user turn. All subjects
 * must have been trained on the same base model.
 */
export async function* chat(
  subjectFiles: string[],
  question: string,
  opts: ChatOptions & Pick<PersonalizeOptions, 'modelDir' | 'model' | 'provider'> = {},
): AsyncGenerator<string> {
  if (!subjectFiles.length) throw new Error('chat: no subject given');
  const first = openSubject(subjectFiles[0]!, opts);
  const model: LlavaModel = first.model;
  try {
    const concepts: Concept[] = [];
    for (const f of subjectFiles) {
      const s = f === subjectFiles[0] ? first : openSubject(f, { ...opts, model });
      concepts.push(loadConcept(artifactDir(s.workspaceDir, s.subject.name), model).concept);
    }
    const set = conceptSet(model, concepts);
    // Questions name subjects by "<bo>"; with several concepts the latent tokens were renamed, names were not.
    const template = loadChatTemplate(model.dir, {
      bos: set.tokenizer.bosToken,
      eos: set.tokenizer.eosToken,
    });
    const messages: ChatMessage[] = [...(opts.history ?? [])];
    messages.push({ role: 'user', text: `${set.prefix} ${question}`, images: opts.image ? 1 : 0 });
    const text = template.render(messages, true);
    const ids = expandImageTokens(
      set.tokenizer.encode(text),
      model.config.imageTokenIndex,
      model.config.imageTokens,
    );
    const features = opts.image
      ? await new ImageFeatureStore(model, null).projected([path.resolve(opts.image)])
      : [];
    const embeds = model.embed(ids, features, set.embeddings);
    yield* streamText(model, set.tokenizer, embeds, {
      ...opts,
      extraHead: set.head,
      extraEmbeddings: set.embeddings,
      stopStrings: ['USER:'],
    });
  } finally {
    if (!opts.model) await model.release();
  }
}
