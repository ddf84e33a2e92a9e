// A diagnostic beside the paper's table, not a method: a logistic probe on the frozen vision tower's
// features, trained on exactly the recognition data the recipe trains a concept on (the training photos and
// their mirrors against the same hard and random negatives, each weighted by the questions the recipe asks
// of it). No language model, no soft prompt: what the photos and the tower allow a recognizer to learn.
// Where a trained concept and this probe recognise the same share of test photos, the concept is not what
// holds recognition back.
import { buildTrainingData } from '../server/src/engine/personalize/data-builder';
import type { SubjectSession } from '../server/src/engine/personalize/personalize';
import { conceptTokens } from '../server/src/engine/personalize/prompts';
import { Rng } from '../server/src/engine/util/rng';

/** Each image's projector features [tokens·D] averaged over its image tokens: where the subject sits drops out. */
function meanOverTokens(features: Float32Array[], D: number): Float32Array[] {
  return features.map((f) => {
    const tokens = f.length / D;
    const out = new Float32Array(D);
    for (let t = 0; t < tokens; t++) for (let d = 0; d < D; d++) out[d]! += f[t * D + d]! / tokens;
    return out;
  });
}

/**
 * Weighted L2-regularized logistic regression on standardized features, by full-batch gradient descent
 * (a few hundred examples of a few hundred features: no library needed). Returns the logit of "yes".
 */
export function fitLogisticProbe(
  x: Float32Array[],
  y: (0 | 1)[],
  weight: number[],
  o: { l2?: number; steps?: number; lr?: number } = {},
): (features: Float32Array) => number {
  const D = x[0]!.length;
  const mean = new Float64Array(D);
  const scale = new Float64Array(D);
  for (const v of x) for (let d = 0; d < D; d++) mean[d]! += v[d]! / x.length;
  for (const v of x) for (let d = 0; d < D; d++) scale[d]! += (v[d]! - mean[d]!) ** 2 / x.length;
  for (let d = 0; d < D; d++) scale[d] = Math.sqrt(scale[d]!) + 1e-6;
  const standardize = (v: Float32Array) => Float64Array.from(v, (a, d) => (a - mean[d]!) / scale[d]!);
  const z = x.map(standardize);
  const total = weight.reduce((a, b) => a + b, 0);
  const w = new Float64Array(D);
  let bias = 0;
  const logit = (v: Float64Array) => {
    let s = bias;
    for (let d = 0; d < D; d++) s += w[d]! * v[d]!;
    return s;
  };
  const l2 = o.l2 ?? 1e-2;
  const lr = o.lr ?? 0.5;
  for (let step = 0; step < (o.steps ?? 400); step++) {
    const g = new Float64Array(D);
    let gb = 0;
    z.forEach((v, i) => {
      const e = ((1 / (1 + Math.exp(-logit(v))) - y[i]!) * weight[i]!) / total;
      for (let d = 0; d < D; d++) g[d]! += e * v[d]!;
      gb += e;
    });
    for (let d = 0; d < D; d++) w[d]! -= lr * (g[d]! + l2 * w[d]!);
    bias -= lr * gb;
  }
  return (v) => logit(standardize(v));
}

/** The probe of one subject, trained on its recipe data: a scorer of image files (logit of "yes"). */
export async function visionProbe(
  s: SubjectSession,
  /** How much more the training photos weigh than the recipe's questions make them (1: as the recipe). */
  positiveWeight = 1,
): Promise<(images: string[]) => Promise<number[]>> {
  const model = s.model;
  const cfg = s.subject.training;
  // With conversations off, the data builder only retrieves and draws: the same negatives the recipe
  // draws with the same seed, and the same number of questions for each photo.
  const data = await buildTrainingData(
    model,
    s.tokenizer,
    s.ctx,
    s.store,
    conceptTokens(s.subject.name, cfg.tokens, model.vocab),
    {
      train: s.subject.train,
      pool: s.subject.pools,
      hard: s.subject.hard,
      random: s.subject.random,
      category: s.subject.category,
      conversations: false,
    },
    new Rng(cfg.seed + 1),
  );
  const asked = new Map<string, number>();
  for (const x of data.samples) if (x.image) asked.set(x.image, (asked.get(x.image) ?? 0) + 1);
  const D = model.hidden;
  const features = async (files: string[], flip = false) =>
    meanOverTokens(await s.store.projected(files, flip ? files.map(() => true) : undefined), D);
  const negatives = data.negatives.map((n) => n.file);
  const x = [
    ...(await features(data.positives)),
    ...(await features(data.positives, true)),
    ...(await features(negatives)),
  ];
  const y: (0 | 1)[] = [...x.keys()].map((i) => (i < 2 * data.positives.length ? 1 : 0));
  // Training flips half the photos at random: the questions of a photo split between it and its mirror.
  const weight = [
    ...data.positives.map((f) => (positiveWeight * asked.get(f)!) / 2),
    ...data.positives.map((f) => (positiveWeight * asked.get(f)!) / 2),
    ...negatives.map((f) => asked.get(f)!),
  ];
  const probe = fitLogisticProbe(x, y, weight);
  return async (images) => (await features(images)).map(probe);
}
