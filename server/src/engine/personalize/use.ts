// Using trained subjects: recognition over photos, and chat with one or several concepts in the prompt.
import { loadChatTemplate, type ChatMessage } from '../models/llava/chat-template';
import { LlavaModel } from '../models/llava/model';
import { streamText } from '../generate/stream-text';
import { PromptTooLongError } from '../generate/generate';
import { conceptSet } from './concept-set';
import { openSubject, type PersonalizeOptions } from './personalize';
import { expandImageTokens, tokensPerImage } from '../models/llava/embeddings';
import { recognitionScores } from './recognition';
import { subjectUse, type SubjectUse, type UseMode, type UseModeSetting } from './reference-mode';
import type { SamplingOptions } from '../generate/sampling';
import { ImageFeatureStore } from './image-features';
import path from 'node:path';

export interface Recognition {
  image: string;
  /** logit(Yes) − logit(No) */
  score: number;
  threshold: number;
  present: boolean;
  /** Whether the trained concept answered, or the subject's reference photos (instant mode). */
  mode: UseMode;
}

export async function recognize(
  subjectFile: string,
  images: string[],
  opts: Pick<PersonalizeOptions, 'modelDir' | 'model' | 'workspaceDir' | 'provider'> & {
    mode?: UseModeSetting;
  } = {},
): Promise<Recognition[]> {
  const s = openSubject(subjectFile, opts);
  try {
    const use = subjectUse(s, opts.mode);
    // Each prompt holds the photo asked about and the references (OneVision lays several out its own way).
    const inPrompt = 1 + use.references.length;
    const scores = await recognitionScores(
      s.model,
      s.ctx,
      s.yesNo,
      {
        concept: use.concept,
        nameText: use.concept.tokens.nameToken,
        prefix: use.mode === 'trained' ? undefined : use.prefix,
        references: await s.store.projected(use.references, undefined, inPrompt),
      },
      await s.store.projected(images, undefined, inPrompt),
    );
    // Every mode answers as the model does, P(Yes) > P(No). The threshold a trained concept calibrated on
    // its own training photos is kept in concept.json but not used: on the benchmark's forty subjects it
    // recognised 0.850 of their new photos against 0.920 (docs/evaluation.md).
    const threshold = 0;
    return images.map((image, i) => ({
      image,
      score: scores[i]!,
      threshold,
      present: scores[i]! > threshold,
      mode: use.mode,
    }));
  } finally {
    if (!opts.model) await s.model.release();
  }
}

/** A question longer than this is refused before it is tokenized (a page of text is about 3,000). */
export const MAX_QUESTION_CHARS = 16_000;
/** History beyond this many messages is never rendered, whatever fits. */
export const MAX_HISTORY_MESSAGES = 64;

export interface ChatOptions extends SamplingOptions {
  image?: string;
  /** auto (default): trained concepts where they exist, reference photos otherwise. */
  mode?: UseModeSetting;
  /** Told how each subject is used before the answer starts. */
  onModes?: (modes: { name: string; mode: UseMode }[]) => void;
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
  // Refused before anything is loaded or encoded for it.
  if (question.length > MAX_QUESTION_CHARS)
    throw new PromptTooLongError(
      `the question is ${question.length} characters; ask at most ${MAX_QUESTION_CHARS}`,
    );
  const first = openSubject(subjectFiles[0]!, opts);
  const model: LlavaModel = first.model;
  try {
    const uses: SubjectUse[] = [];
    const names: string[] = [];
    for (const f of subjectFiles) {
      const s = f === subjectFiles[0] ? first : openSubject(f, { ...opts, model });
      uses.push(subjectUse(s, opts.mode));
      names.push(s.subject.name);
    }
    opts.onModes?.(uses.map((u, i) => ({ name: names[i]!, mode: u.mode })));
    const set = conceptSet(
      model,
      uses.map((u) => u.concept),
      uses.map((u) => (u.mode === 'trained' ? undefined : u.prefix)),
    );
    const store = new ImageFeatureStore(model, null);
    const referenceFiles = uses.flatMap((u) => u.references);
    const inPrompt = referenceFiles.length + (opts.image ? 1 : 0);
    const references = await store.projected(referenceFiles, undefined, inPrompt);
    const features = [
      ...(opts.image ? await store.projected([path.resolve(opts.image)], undefined, inPrompt) : []),
      ...references,
    ];
    // Anyres models give each image its own number of tokens; the others one count for all.
    const perImage = model.config.anyres ? tokensPerImage(features, model.hidden) : model.config.imageTokens;
    // Questions name subjects by "<bo>"; with several concepts the latent tokens were renamed, names were not.
    const template = loadChatTemplate(model.dir, {
      bos: set.tokenizer.bosToken,
      eos: set.tokenizer.eosToken,
    });
    const maxNew = Math.max(1, opts.maxNewTokens ?? 64);
    const turn: ChatMessage = { role: 'user', text: `${set.prefix} ${question}`, images: opts.image ? 1 : 0 };
    const promptIds = (history: ChatMessage[]): number[] =>
      expandImageTokens(
        set.tokenizer.encode(template.render([...history, turn], true)),
        model.config.imageTokenIndex,
        perImage,
      );
    // The prompt and the answer must fit the model's positions: the oldest turns go first, a pair at a time,
    // until the prompt leaves room for an answer (all of it, or a quarter of the positions when more was
    // asked); a longer answer than fits is cut where the positions end.
    const limit = model.config.text.maxPositions;
    const room = Math.min(maxNew, Math.max(1, Math.floor(limit / 4)));
    let history = (opts.history ?? []).slice(-MAX_HISTORY_MESSAGES);
    let ids = promptIds(history);
    while (ids.length + room > limit && history.length) {
      history = history.slice(history[0]?.role === 'user' && history[1]?.role === 'assistant' ? 2 : 1);
      ids = promptIds(history);
    }
    if (ids.length + room > limit)
      throw PromptTooLongError.tokens(
        'the question (with the subject and the photo)',
        ids.length,
        limit - room,
      );
    const embeds = model.embed(ids, features, set.embeddings);
    yield* streamText(model, set.tokenizer, embeds, {
      ...opts,
      maxNewTokens: Math.min(maxNew, limit - ids.length),
      extraHead: set.head,
      extraEmbeddings: set.embeddings,
      stopStrings: ['USER:'],
    });
  } finally {
    if (!opts.model) await model.release();
  }
}
