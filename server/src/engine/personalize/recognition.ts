// Recognition: "is <name> in this photo?" answered by comparing the logits of "Yes" and "No" at the first
// answer position (no sampling). Images are scored in batches: the prompt is the same for every image,
// so each batch is one padded-free forward pass.
import type { LlavaModel } from '../models/llava/model';
import type { Concept } from './concept';
import { tokensPerImage } from '../models/llava/embeddings';
import { fillName, promptIds, softPrompt, type PromptContext } from './prompts';
import { RECOGNITION_QUESTIONS } from './templates';

export interface RecognitionPrompt {
  concept: Concept | null;
  /** How the question names the subject: the concept token, or plain text for baselines. */
  nameText: string;
  /** Text placed before the question when there is no concept (the description baseline). */
  textPrefix?: string;
  /** Replaces the concept's soft prompt (reference mode: "<bo> is <image><image>."). */
  prefix?: string;
  /** Projector features of the reference photos the prefix's <image> tokens stand for. */
  references?: Float32Array[];
}

/** logit(Yes) − logit(No) for each image's projector features. */
export async function recognitionScores(
  model: LlavaModel,
  ctx: PromptContext,
  yesNo: { yes: number; no: number },
  prompt: RecognitionPrompt,
  features: Float32Array[],
  batch = 16,
): Promise<number[]> {
  const prefix =
    prompt.prefix ?? (prompt.concept ? softPrompt(prompt.concept.tokens) : (prompt.textPrefix ?? ''));
  const refs = prompt.references ?? [];
  const question = fillName(RECOGNITION_QUESTIONS[0]!, prompt.nameText);
  const D = model.hidden;
  if (model.config.anyres) return anyresScores(model, ctx, yesNo, prompt, prefix, question, features);
  const ids = promptIds(ctx, prefix, question, 1);
  const T = ids.length;
  const V = model.vocab;
  const extraEmb = prompt.concept?.embeddings;
  const extraHead = prompt.concept?.head;
  const E = extraHead ? extraHead.length / D : 0;
  const scores: number[] = [];
  for (let s = 0; s < features.length; s += batch) {
    const chunk = features.slice(s, s + batch);
    const embeds = new Float32Array(chunk.length * T * D);
    // The photo asked about comes first (the template puts its <image> at the start), then the references.
    chunk.forEach((f, b) => embeds.set(model.embed(ids, [f, ...refs], extraEmb), b * T * D));
    const logits = await model.logits(
      embeds,
      chunk.length,
      T,
      chunk.map((_, b) => b * T + T - 1),
      extraHead,
    );
    chunk.forEach((_, b) => scores.push(logits[b * (V + E) + yesNo.yes]! - logits[b * (V + E) + yesNo.no]!));
  }
  return scores;
}

/**
 * Anyres models (LLaVA-NeXT, OneVision): each photo has its own number of image tokens, so each is its own
 * prompt and graph run. The photo asked about comes first, then the references, as above.
 */
async function anyresScores(
  model: LlavaModel,
  ctx: PromptContext,
  yesNo: { yes: number; no: number },
  prompt: RecognitionPrompt,
  prefix: string,
  question: string,
  features: Float32Array[],
): Promise<number[]> {
  const refs = prompt.references ?? [];
  const scores: number[] = [];
  for (const f of features) {
    const ids = promptIds(ctx, prefix, question, 1, tokensPerImage([f, ...refs], model.hidden));
    const T = ids.length;
    const logits = await model.logits(
      model.embed(ids, [f, ...refs], prompt.concept?.embeddings),
      1,
      T,
      [T - 1],
      prompt.concept?.head,
    );
    scores.push(logits[yesNo.yes]! - logits[yesNo.no]!);
  }
  return scores;
}

export interface RecognitionAccuracy {
  positive: number;
  negative: number;
  weighted: number;
}

export function accuracy(pos: number[], neg: number[], threshold: number): RecognitionAccuracy {
  const p = pos.length ? pos.filter((s) => s > threshold).length / pos.length : 0;
  const n = neg.length ? neg.filter((s) => s <= threshold).length / neg.length : 0;
  return { positive: p, negative: n, weighted: (p + n) / 2 };
}

/** The threshold that maximizes weighted accuracy on these scores (ties: the one closest to 0). */
export function calibrateThreshold(pos: number[], neg: number[]): number {
  const all = [...pos, ...neg].sort((a, b) => a - b);
  const candidates = [
    0,
    all[0]! - 1,
    ...all.map((v, i) => (i + 1 < all.length ? (v + all[i + 1]!) / 2 : v + 1)),
  ];
  let best = 0;
  let bestAcc = -1;
  for (const t of candidates) {
    const acc = accuracy(pos, neg, t).weighted;
    if (acc > bestAcc + 1e-12 || (Math.abs(acc - bestAcc) <= 1e-12 && Math.abs(t) < Math.abs(best))) {
      best = t;
      bestAcc = acc;
    }
  }
  return best;
}

export interface ScoredRecognition {
  raw: RecognitionAccuracy;
  calibrated: RecognitionAccuracy;
  threshold: number;
}

/**
 * Honest scoring of one method: raw (P(Yes) > P(No), threshold 0) and calibrated with the threshold that
 * is best on `calibration`, a set that must not be the test set. Every method gets the same treatment.
 */
export function scoreRecognition(
  test: { pos: number[]; neg: number[] },
  calibration: { pos: number[]; neg: number[] },
): ScoredRecognition {
  const threshold = calibrateThreshold(calibration.pos, calibration.neg);
  return {
    raw: accuracy(test.pos, test.neg, 0),
    calibrated: accuracy(test.pos, test.neg, threshold),
    threshold,
  };
}
