// The training data of one subject (DESIGN §3.2): positives × recognition templates; hard negatives
// retrieved by vision-embedding similarity; random negatives; text-only conversations whose answers the
// base model wrote while looking at each training photo, with the subject's mention rewritten to <name>.
import { createHash } from 'node:crypto';
import type { LlavaModel } from '../models/llava/model';
import type { LlavaTokenizer } from '../models/llava/tokenizer';
import { streamText } from '../generate/stream-text';
import type { Rng } from '../util/rng';
import { contentHash } from '../subject/image-files';
import type { ImageFeatureStore } from './image-features';
import {
  fillName,
  promptIds,
  softPrompt,
  trainingSample,
  type ConceptTokens,
  type PromptContext,
  type Sample,
} from './prompts';
import { retrieveHardNegatives, type RetrievalResult } from './retrieval';
import {
  conversationQuestions,
  NEGATIVE_ANSWERS,
  POSITIVE_ANSWERS,
  RECOGNITION_QUESTIONS,
  rewriteMentions,
  SUBJECT_PHRASES,
  type Category,
} from './templates';

export interface TrainingSample extends Sample {
  kind: 'positive' | 'negative' | 'conversation';
  /** The photo this sample shows (image samples only). */
  image?: string;
}

export interface DataPlan {
  train: string[];
  pool: string[];
  hard: number;
  random: number;
  category: Category;
  questionsPerPhoto?: number;
  conversationTokens?: number;
  /** false: no text-only conversations (default true). */
  conversations?: boolean;
}

export interface TrainingData {
  samples: TrainingSample[];
  positives: string[];
  negatives: { file: string; kind: 'hard' | 'random' }[];
  contamination: { file: string; duplicateOf: string; similarity: number; exact: boolean }[];
  conversations: { image: string; question: string; answer: string }[];
  /** Hash of the photos, negatives and sample texts: a trained artifact records it. */
  dataHash: string;
  seconds: { embed: number; conversations: number };
}

export async function buildTrainingData(
  model: LlavaModel,
  tokenizer: LlavaTokenizer,
  ctx: PromptContext,
  store: ImageFeatureStore,
  concept: ConceptTokens,
  plan: DataPlan,
  rng: Rng,
  hooks: {
    signal?: AbortSignal;
    progress?: (p: { phase: string; done: number; total: number }) => void;
  } = {},
): Promise<TrainingData> {
  const t0 = Date.now();
  const trainEmb = await store.pooled(plan.train);
  hooks.progress?.({ phase: 'embed', done: plan.train.length, total: plan.train.length + plan.pool.length });
  const poolEmb = await store.pooled(plan.pool);
  hooks.progress?.({
    phase: 'embed',
    done: plan.train.length + plan.pool.length,
    total: plan.train.length + plan.pool.length,
  });
  const retrieval: RetrievalResult = retrieveHardNegatives(
    plan.train.map((f, i) => ({ embedding: trainEmb[i]!, hash: contentHash(f) })),
    plan.pool.map((f, i) => ({ embedding: poolEmb[i]!, hash: contentHash(f) })),
    plan.hard,
  );
  const excluded = new Set([...retrieval.hard, ...retrieval.contamination.map((c) => c.pool)]);
  const rest = rng.shuffle(plan.pool.map((_, i) => i).filter((i) => !excluded.has(i)));
  const randomIdx = rest.slice(0, plan.random);
  const negatives = [
    ...retrieval.hard.map((i) => ({ file: plan.pool[i]!, kind: 'hard' as const })),
    ...randomIdx.map((i) => ({ file: plan.pool[i]!, kind: 'random' as const })),
  ];
  // Projector features for training: computed now, once per image and per flip.
  await store.projected([...plan.train, ...negatives.map((n) => n.file)]);
  await store.projected(
    [...plan.train, ...negatives.map((n) => n.file)],
    new Array(plan.train.length + negatives.length).fill(true),
  );
  const embedSeconds = (Date.now() - t0) / 1000;

  const prefix = softPrompt(concept);
  const samples: TrainingSample[] = [];
  const perPhoto = plan.questionsPerPhoto ?? 15;
  for (const image of plan.train) {
    for (let q = 0; q < perPhoto; q++) {
      const question = fillName(
        RECOGNITION_QUESTIONS[rng.int(RECOGNITION_QUESTIONS.length)]!,
        concept.nameToken,
      );
      const answer = fillName(POSITIVE_ANSWERS[rng.int(POSITIVE_ANSWERS.length)]!, concept.nameToken);
      samples.push({ kind: 'positive', image, ...trainingSample(ctx, prefix, question, answer, 1) });
    }
  }
  for (const n of negatives) {
    const question = fillName(
      RECOGNITION_QUESTIONS[rng.int(RECOGNITION_QUESTIONS.length)]!,
      concept.nameToken,
    );
    const answer = fillName(NEGATIVE_ANSWERS[rng.int(NEGATIVE_ANSWERS.length)]!, concept.nameToken);
    samples.push({ kind: 'negative', image: n.file, ...trainingSample(ctx, prefix, question, answer, 1) });
  }

  const t1 = Date.now();
  const conversations: TrainingData['conversations'] = [];
  const questions = plan.conversations === false ? [] : conversationQuestions(plan.category);
  const phrase = SUBJECT_PHRASES[plan.category].ask;
  const features = questions.length ? await store.projected(plan.train) : [];
  let done = 0;
  for (const [i, image] of plan.train.entries()) {
    for (const q of questions) {
      if (hooks.signal?.aborted) throw new Error('cancelled');
      // The base model (no concept tokens) looks at the photo and answers about "the pet", "the person", ….
      const ids = promptIds(ctx, '', q.replace('<subject>', phrase), 1);
      let answer = '';
      for await (const d of streamText(model, tokenizer, model.embed(ids, [features[i]!]), {
        maxNewTokens: plan.conversationTokens ?? 24,
      }))
        answer += d;
      answer = rewriteMentions(answer.trim(), plan.category, concept.nameToken);
      hooks.progress?.({ phase: 'conversations', done: ++done, total: plan.train.length * questions.length });
      if (!answer) continue;
      const question = q.replace('<subject>', concept.nameToken);
      conversations.push({ image, question, answer });
      samples.push({ kind: 'conversation', ...trainingSample(ctx, prefix, question, answer, 0) });
    }
  }
  const conversationSeconds = (Date.now() - t1) / 1000;

  const h = createHash('sha256');
  for (const f of plan.train) h.update(`t:${contentHash(f)}`);
  for (const n of negatives) h.update(`${n.kind}:${contentHash(n.file)}`);
  for (const s of samples) h.update(`${s.kind}:${s.ids.join(',')}`);
  return {
    samples,
    positives: plan.train,
    negatives,
    contamination: retrieval.contamination.map((c) => ({
      file: plan.pool[c.pool]!,
      duplicateOf: plan.train[c.train]!,
      similarity: c.similarity,
      exact: c.exact,
    })),
    conversations,
    dataHash: h.digest('hex').slice(0, 32),
    seconds: { embed: embedSeconds, conversations: conversationSeconds },
  };
}
