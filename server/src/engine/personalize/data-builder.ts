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
  imageCounts,
  promptIds,
  softPrompt,
  trainingSample,
  type ConceptTokens,
  type PromptContext,
  type Sample,
} from './prompts';
import { choicePrompt } from './qa';
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

const RIVALS_PER_QUESTION = 3;
/** Random negatives asked at most per question for its rivals. */
const RIVAL_ASKS = 4 * RIVALS_PER_QUESTION;
/**
 * Recipe revision 3: each training photo is asked 10 recognition questions (15 before) and each hard
 * negative 3 (1 before), so that the photos most like the subject weigh as much as the subject does. With
 * one question each, the fine detail that tells a look-alike apart was outweighed by the positives and
 * training drifted toward "Yes" for anything with the subject's attributes (docs/recipe.md).
 */
const QUESTIONS_PER_PHOTO = 10;
const QUESTIONS_PER_HARD_NEGATIVE = 3;

export interface TrainingSample extends Sample {
  kind: 'positive' | 'negative' | 'conversation' | 'choice';
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
  /** Recognition questions asked of each hard negative (default 3; random negatives get one). */
  questionsPerHardNegative?: number;
  conversationTokens?: number;
  /** false: no text-only conversations (default true). */
  conversations?: boolean;
  /** false: conversations only in free form, none asked as two options (default true). */
  choices?: boolean;
}

export interface TrainingData {
  samples: TrainingSample[];
  positives: string[];
  negatives: { file: string; kind: 'hard' | 'random' }[];
  contamination: { file: string; duplicateOf: string; similarity: number; exact: boolean }[];
  conversations: { image: string; question: string; answer: string }[];
  /** The conversations also asked as two options: the subject's answer against another photo's. */
  choices: { question: string; right: string; wrong: string; wrongImage: string }[];
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
  const perPhoto = plan.questionsPerPhoto ?? QUESTIONS_PER_PHOTO;
  for (const image of plan.train) {
    for (let q = 0; q < perPhoto; q++) {
      const question = fillName(
        RECOGNITION_QUESTIONS[rng.int(RECOGNITION_QUESTIONS.length)]!,
        concept.nameToken,
      );
      const answer = fillName(POSITIVE_ANSWERS[rng.int(POSITIVE_ANSWERS.length)]!, concept.nameToken);
      const counts = imageCounts(ctx, await store.projected([image]));
      samples.push({ kind: 'positive', image, ...trainingSample(ctx, prefix, question, answer, 1, counts) });
    }
  }
  for (const n of negatives) {
    const asks = n.kind === 'hard' ? (plan.questionsPerHardNegative ?? QUESTIONS_PER_HARD_NEGATIVE) : 1;
    for (let q = 0; q < asks; q++) {
      const question = fillName(
        RECOGNITION_QUESTIONS[rng.int(RECOGNITION_QUESTIONS.length)]!,
        concept.nameToken,
      );
      const answer = fillName(NEGATIVE_ANSWERS[rng.int(NEGATIVE_ANSWERS.length)]!, concept.nameToken);
      const counts = imageCounts(ctx, await store.projected([n.file]));
      samples.push({
        kind: 'negative',
        image: n.file,
        ...trainingSample(ctx, prefix, question, answer, 1, counts),
      });
    }
  }

  const t1 = Date.now();
  const conversations: TrainingData['conversations'] = [];
  const questions = plan.conversations === false ? [] : conversationQuestions(plan.category);
  const phrase = SUBJECT_PHRASES[plan.category].ask;
  const features = questions.length ? await store.projected(plan.train) : [];
  // The base model (no concept tokens) looks at a photo and answers about "the pet", "the person", ….
  const answerAbout = async (q: string, photo: Float32Array): Promise<string> => {
    if (hooks.signal?.aborted) throw new Error('cancelled');
    const ids = promptIds(ctx, '', q.replace('<subject>', phrase), 1, imageCounts(ctx, [photo]));
    let answer = '';
    for await (const d of streamText(model, tokenizer, model.embed(ids, [photo]), {
      maxNewTokens: plan.conversationTokens ?? 24,
    }))
      answer += d;
    return rewriteMentions(answer.trim(), plan.category, concept.nameToken);
  };
  // The phase's total also counts the rival answers the two-option questions may ask for, at most
  // RIVAL_ASKS per question; a question that needs fewer moves the count on by the rest at once.
  const randomNegatives = negatives.filter((n) => n.kind === 'random').map((n) => n.file);
  const askRivals = plan.choices !== false && randomNegatives.length > 0;
  const total = questions.length * (plan.train.length + (askRivals ? RIVAL_ASKS : 0));
  let done = 0;
  for (const [i, image] of plan.train.entries()) {
    for (const q of questions) {
      const answer = await answerAbout(q, features[i]!);
      hooks.progress?.({ phase: 'conversations', done: ++done, total });
      if (!answer) continue;
      const question = q.replace('<subject>', concept.nameToken);
      conversations.push({ image, question, answer });
      samples.push({ kind: 'conversation', ...trainingSample(ctx, prefix, question, answer, 0) });
    }
  }

  // The same questions asked as two options, the way a user's quiz (and the paper's text-only QA) asks
  // them. Trained on free-form answers alone, a soft prompt carries the answer the concept writes but not
  // one the model's two-option reading picks: that reading leans on a letter. Only an answer the base
  // model gave for most training photos is a fact about the subject (not the scene); its rival is the
  // answer the base model gives about a random negative, shown in both orders so no letter can win.
  const choices: TrainingData['choices'] = [];
  const spells = (text: string) => tokenizer.decode(tokenizer.encode(text, false), true) === text;
  if (askRivals) {
    const rivals = rng.shuffle(randomNegatives.slice());
    let next = 0;
    for (const q of questions) {
      const question = q.replace('<subject>', concept.nameToken);
      const right = stableAnswer(
        conversations.filter((c) => c.question === question).map((c) => c.answer),
        plan.train.length,
      );
      const questionDone = done + RIVAL_ASKS;
      if (right) {
        // Up to three rivals, each a different answer; a negative often shares a colour or a material, so
        // a few more photos are asked than rivals are wanted (an answer costs ~20 ms).
        const seen = new Set([normalizeAnswer(right)]);
        for (let asked = 0; asked < RIVAL_ASKS && seen.size <= RIVALS_PER_QUESTION; asked++) {
          const wrongImage = rivals[next++ % rivals.length]!;
          const [photo] = await store.projected([wrongImage]);
          const wrong = await answerAbout(q, photo!);
          hooks.progress?.({ phase: 'conversations', done: ++done, total });
          // An answer cut off at the token limit is no rival: its cut end would give it away.
          if (!/[.!?]$/.test(wrong) || seen.has(normalizeAnswer(wrong))) continue;
          seen.add(normalizeAnswer(wrong));
          const [rightOption, wrongOption] = optionTexts(right, wrong, spells);
          choices.push({ question, right: rightOption, wrong: wrongOption, wrongImage });
          for (const order of [[rightOption, wrongOption] as const, [wrongOption, rightOption] as const]) {
            const letter = order[0] === rightOption ? 'A.' : 'B.';
            samples.push({
              kind: 'choice',
              ...trainingSample(ctx, prefix, choicePrompt(question, order), letter, 0),
            });
          }
        }
      }
      done = questionDone;
      hooks.progress?.({ phase: 'conversations', done, total });
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
    choices,
    dataHash: h.digest('hex').slice(0, 32),
    seconds: { embed: embedSeconds, conversations: conversationSeconds },
  };
}

function normalizeAnswer(a: string): string {
  return a
    .toLowerCase()
    .replace(/[\s.,!]+/g, ' ')
    .trim();
}

/** The answer given for at least 60 % of the photos (and two of them), or null when answers differ. */
export function stableAnswer(answers: string[], photos: number): string | null {
  const counts = new Map<string, { n: number; text: string }>();
  for (const a of answers) {
    const key = normalizeAnswer(a);
    const c = counts.get(key) ?? { n: 0, text: a };
    c.n++;
    counts.set(key, c);
  }
  const need = Math.max(2, Math.ceil(0.6 * photos));
  for (const c of counts.values()) if (c.n >= need) return c.text;
  return null;
}

/**
 * Two answers as two options: the words they share at the start and end are dropped and the rest is
 * capitalized ("<bo> is made of fur." / "<bo> is made of glass." → "Fur" / "Glass"), the short form in
 * which two-option questions show their options; it stays lower-case where the tokenizer cannot spell the
 * capital (a word-level vocabulary may know "small" but not "Small"). Answers with nothing in common stay
 * whole.
 */
export function optionTexts(
  a: string,
  b: string,
  spells: (text: string) => boolean = () => true,
): [string, string] {
  const words = (x: string) => x.replace(/[.!]+$/, '').split(/\s+/);
  const [wa, wb] = [words(a), words(b)];
  let start = 0;
  while (start < wa.length - 1 && start < wb.length - 1 && wa[start] === wb[start]) start++;
  let end = 0;
  while (
    end < wa.length - 1 - start &&
    end < wb.length - 1 - start &&
    wa[wa.length - 1 - end] === wb[wb.length - 1 - end]
  )
    end++;
  const cap = (x: string) => {
    const capped = x.charAt(0).toUpperCase() + x.slice(1);
    return spells(capped) ? capped : x;
  };
  if (start === 0 && end === 0) return [a, b];
  return [cap(wa.slice(start, wa.length - end).join(' ')), cap(wb.slice(start, wb.length - end).join(' '))];
}
