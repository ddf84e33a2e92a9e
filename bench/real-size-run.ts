// One measurement of the real-size benchmark, in a process of its own so that its peak RSS is its own:
//   forward  load, one prompt (an image and 40 text tokens) prefilled, greedy decoding, and (with
//            --instant) instant-mode recognition with and without the reference prefix's KV cache;
//   step     load and one personalization step (forward and backward to the concept's rows).
// Prints one JSON line. Usage: node --import tsx bench/real-size-run.ts <dir> forward|step [--instant]
// [--text-only] [--provider P]
import { performance } from 'node:perf_hooks';
import { emptyCache, LlavaModel, type KvCache } from '../server/src/engine/models/llava/model';
import { packConceptBatch } from '../server/src/engine/personalize/concept-batch';
import { f32 } from '../server/src/engine/runtime/host-tensor';
import type { ProviderSetting } from '../server/src/engine/runtime/session';

const [dir, part] = process.argv.slice(2);
const instant = process.argv.includes('--instant');
const textOnly = process.argv.includes('--text-only');
const providerAt = process.argv.indexOf('--provider');
const provider = (providerAt >= 0 ? process.argv[providerAt + 1] : 'cpu') as ProviderSetting;
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const peak = (): number => process.resourceUsage().maxRSS * 1024;

/** A deterministic photo's pixels (already normalized). */
function photo(model: LlavaModel, seed: number): Float32Array {
  const S = model.config.vision.imageSize;
  return Float32Array.from({ length: 3 * S * S }, (_, i) => Math.sin(i * 0.37 + seed) * 1.5);
}

async function imageFeatures(model: LlavaModel, seed: number): Promise<Float32Array> {
  const S = model.config.vision.imageSize;
  const r = await model.encodeImages(f32([1, 3, S, S], photo(model, seed)));
  return r.features.data as Float32Array;
}

/** Text ids drawn from the ordinary vocabulary (no special ids). */
function textIds(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => 1000 + ((i * 7919 + seed * 104729) % 20000));
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

async function forwardPart(model: LlavaModel, loadSeconds: number): Promise<Record<string, unknown>> {
  const c = model.config;
  const N = c.imageTokens;
  const img = c.imageTokenIndex;
  let t0 = performance.now();
  const features = await imageFeatures(model, 1);
  const visionSeconds = seconds(t0);
  // "USER: <image>\n" + a 40-token question, as one chat turn's prompt.
  const ids = [...textIds(3, 1), ...new Array<number>(N).fill(img), ...textIds(37, 2)];
  t0 = performance.now();
  const step = await model.decodeStep(model.embed(ids, [features]), emptyCache());
  const prefillSeconds = seconds(t0);
  const decodeTokens = 8;
  let cache = step.cache;
  let next = argmax(step.logits);
  t0 = performance.now();
  for (let i = 0; i < decodeTokens; i++) {
    const s = await model.decodeStep(model.embed([next]), cache);
    cache = s.cache;
    next = argmax(s.logits);
  }
  const decodeSeconds = seconds(t0);
  const out: Record<string, unknown> = {
    load_seconds: loadSeconds,
    vision_seconds: visionSeconds,
    prompt_tokens: ids.length,
    prefill_seconds: visionSeconds + prefillSeconds,
    decode_tokens_per_s: decodeTokens / decodeSeconds,
  };
  if (instant) Object.assign(out, await instantPart(model));
  out['peak_rss_bytes'] = peak();
  return out;
}

/**
 * Instant-mode recognition of new photos against three reference photos: "<bo> is <image><image><image>."
 * then the photo and the question. With the cache, the references' prefix is prefilled once and every
 * photo only runs its own tokens after it; without, every photo runs the whole prompt. Reference
 * features are computed once in both; each photo's own encoding is counted in both.
 */
async function instantPart(model: LlavaModel): Promise<Record<string, unknown>> {
  const c = model.config;
  const N = c.imageTokens;
  const img = c.imageTokenIndex;
  const references = [
    await imageFeatures(model, 11),
    await imageFeatures(model, 12),
    await imageFeatures(model, 13),
  ];
  const prefixIds = [...textIds(4, 3), ...new Array<number>(3 * N).fill(img), ...textIds(2, 4)];
  const suffixIds = (p: number) => [...new Array<number>(N).fill(img), ...textIds(12, 5 + p)];
  const photos = 3;
  let t0 = performance.now();
  const prefix = await model.decodeStep(model.embed(prefixIds, references), emptyCache());
  const prefixSeconds = seconds(t0);
  const cached: Float32Array[] = [];
  t0 = performance.now();
  for (let p = 0; p < photos; p++) {
    const f = await imageFeatures(model, 100 + p);
    cached.push((await model.decodeStep(model.embed(suffixIds(p), [f]), prefix.cache as KvCache)).logits);
  }
  const cachedSeconds = seconds(t0) / photos;
  let maxDiff = 0;
  t0 = performance.now();
  for (let p = 0; p < photos; p++) {
    const f = await imageFeatures(model, 100 + p);
    const ids = [...prefixIds, ...suffixIds(p)];
    const full = await model.decodeStep(model.embed(ids, [...references, f]), emptyCache());
    for (let i = 0; i < full.logits.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(full.logits[i]! - cached[p]![i]!));
  }
  const uncachedSeconds = seconds(t0) / photos;
  return {
    instant_prefix_tokens: prefixIds.length,
    instant_prefix_seconds: prefixSeconds,
    instant_seconds_per_photo_cached: cachedSeconds,
    instant_seconds_per_photo_uncached: uncachedSeconds,
    instant_cached_vs_uncached_max_logit_diff: maxDiff,
  };
}

async function stepPart(model: LlavaModel, loadSeconds: number): Promise<Record<string, unknown>> {
  const c = model.config;
  const D = model.hidden;
  const V = model.vocab;
  const N = c.imageTokens;
  const k = 16;
  const E = k + 1;
  // A recognition sample as the recipe builds them: "<bo> is <token0>…<token15>." then the photo and
  // "Is <bo> in this photo?", answered "Yes, …" (labels on the answer). --text-only: a conversation
  // sample, the same without the photo (most of the recipe's samples).
  const concept = Array.from({ length: E }, (_, i) => V + i);
  const prompt = [
    ...textIds(3, 1),
    concept[0]!,
    ...textIds(1, 2),
    ...concept.slice(1),
    ...textIds(1, 3),
    ...new Array<number>(textOnly ? 0 : N).fill(c.imageTokenIndex),
    ...textIds(8, 4),
    concept[0]!,
    ...textIds(4, 5),
  ];
  const answer = [...textIds(6, 6), concept[0]!, ...textIds(3, 7)];
  const ids = [...prompt, ...answer];
  const labels = ids.map((id, i) => (i < prompt.length ? -100 : id));
  const rows = Float32Array.from({ length: E * D }, (_, i) => Math.sin(i) * 0.02);
  const head = Float32Array.from({ length: E * D }, (_, i) => Math.cos(i) * 0.02);
  const features = textOnly ? [] : [await imageFeatures(model, 1)];
  const batch = packConceptBatch(model, [{ sample: { ids, labels }, features }], rows, head);
  // The first run also builds the session; the second is the step time.
  let t0 = performance.now();
  await model.conceptStep(batch);
  const firstSeconds = seconds(t0);
  t0 = performance.now();
  const r = await model.conceptStep(batch);
  return {
    load_seconds: loadSeconds,
    step_tokens: ids.length,
    step_sample: textOnly ? 'conversation (no photo)' : 'recognition (one photo)',
    step_seconds: seconds(t0),
    step_first_seconds: firstSeconds,
    step_loss: r.loss,
    peak_rss_bytes: peak(),
  };
}

async function main(): Promise<void> {
  if (!dir || (part !== 'forward' && part !== 'step'))
    throw new Error('usage: real-size-run.ts <dir> forward|step [--instant]');
  const t0 = performance.now();
  const model = LlavaModel.load(dir, { threads: 2, provider });
  const loadSeconds = seconds(t0);
  const load = { load_rss_bytes: peak() };
  const out = part === 'forward' ? await forwardPart(model, loadSeconds) : await stepPart(model, loadSeconds);
  process.stdout.write(`${JSON.stringify({ ...load, ...out })}\n`);
  await model.release();
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
