// npm run bench -- real-size [--shape llava-1.5-7b|interleave-0.5b] [--provider P] [--json]
// A synthetic checkpoint with the exact shapes of a model people use (random BF16, sharded, written under
// .cache/ at bench time) is loaded, answers one prompt, and makes one personalization step, each in a
// process of its own so that its peak RSS is measured alone. The targets (peak RSS ≤ 1.3 × the files,
// inspect within 15 % of the peak, instant mode with the cached prefix ≥ 3× faster) are printed beside
// the figures, never asserted.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { inspectModel } from '../server/src/engine/models/llava/inspect';
import { UsageError } from './arguments';
import { ensureRealSizeCheckpoint, REAL_SHAPES, type RealShape } from './real-size-checkpoint';
import { table } from './timing';

/** Samples per epoch of samples/bo under the current recipe (bench personalize), and its epochs. */
const RECIPE_SAMPLES_PER_EPOCH = 442;
const RECIPE_EPOCHS = 6;

/** One line of the runner's JSON: numbers, and a label or two. */
type Figures = Record<string, number> & { step_sample?: string };

function runPart(dir: string, part: 'forward' | 'step', extra: string[]): Figures {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'real-size-run.ts'), dir, part, ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0)
    throw new Error(`real-size ${part} run failed (exit ${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
}

export async function runRealSizeBench(json: boolean, args: string[]): Promise<Record<string, unknown>> {
  const at = args.indexOf('--shape');
  const shape = (at >= 0 ? args[at + 1] : 'interleave-0.5b') as RealShape;
  if (!REAL_SHAPES.includes(shape)) throw new UsageError(`--shape must be one of ${REAL_SHAPES.join(', ')}`);
  const log = (s: string): void => {
    if (!json) process.stdout.write(`${s}\n`);
  };
  const dir = path.join(__dirname, '..', '.cache', 'bench-real-size', shape);
  log(`real-size: ${shape} in ${path.relative(process.cwd(), dir)}`);
  const t0 = Date.now();
  const { bytes, wrote } = ensureRealSizeCheckpoint(dir, shape, log);
  if (wrote) log(`  generated in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const estimate = inspectModel(dir);
  const pAt = args.indexOf('--provider');
  const provider = pAt >= 0 ? ['--provider', args[pAt + 1]!] : [];
  const forward = runPart(dir, 'forward', [
    ...(shape === 'interleave-0.5b' ? ['--instant'] : []),
    ...provider,
  ]);
  // At 7B, the saved activations of a 600-token sample's backward pass do not fit beside the weights on
  // a 24 GB machine: the step is measured on a conversation sample there.
  const step = runPart(dir, 'step', [...(shape === 'llava-1.5-7b' ? ['--text-only'] : []), ...provider]);
  const peak = forward['peak_rss_bytes']!;
  const result: Record<string, unknown> = {
    shape,
    provider: provider[1] ?? 'cpu',
    parameters: estimate.parameters,
    file_bytes: bytes,
    peak_rss_bytes: peak,
    rss_ratio: peak / bytes,
    inspect_estimate_bytes: estimate.estimatedInferenceBytes,
    inspect_error: estimate.estimatedInferenceBytes / peak - 1,
    load_seconds: forward['load_seconds'],
    prompt_tokens: forward['prompt_tokens'],
    vision_seconds: forward['vision_seconds'],
    prefill_seconds: forward['prefill_seconds'],
    decode_tokens_per_s: forward['decode_tokens_per_s'],
    step_tokens: step['step_tokens'],
    step_sample: step['step_sample'],
    step_seconds: step['step_seconds'],
    step_peak_rss_bytes: step['peak_rss_bytes'],
    recipe_seconds_estimate: step['step_seconds']! * RECIPE_SAMPLES_PER_EPOCH * RECIPE_EPOCHS,
    instant_seconds_per_photo_cached: forward['instant_seconds_per_photo_cached'] ?? null,
    instant_seconds_per_photo_uncached: forward['instant_seconds_per_photo_uncached'] ?? null,
    instant_cached_vs_uncached_max_logit_diff: forward['instant_cached_vs_uncached_max_logit_diff'] ?? null,
  };
  const gb = (b: number): string => `${(b / 1e9).toFixed(2)} GB`;
  const s = (x: unknown): string => (typeof x === 'number' ? `${x.toFixed(2)} s` : 'n/a');
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const rows: [string, string][] = [
    ['parameters', estimate.parameters.toLocaleString('en-US')],
    ['checkpoint files (BF16)', gb(bytes)],
    ['peak RSS, load + answer', `${gb(peak)}, ${ratio(peak, bytes)} the files (target ≤ 1.3×)`],
    [
      'inspect estimate',
      `${gb(estimate.estimatedInferenceBytes)}, ${((estimate.estimatedInferenceBytes / peak - 1) * 100).toFixed(0)} % off the peak (target within 15 %)`,
    ],
    ['load', s(forward['load_seconds'])],
    [
      `prefill, ${forward['prompt_tokens']} tokens`,
      `${s(forward['prefill_seconds'])} (vision ${s(forward['vision_seconds'])})`,
    ],
    ['decode', `${forward['decode_tokens_per_s']!.toFixed(2)} tokens/s`],
    [
      `personalization step, 1 ${step['step_sample']} sample of ${step['step_tokens']} tokens`,
      s(step['step_seconds']),
    ],
    ['  peak RSS of the step', gb(step['peak_rss_bytes']!)],
    [
      `full recipe at that step (${RECIPE_SAMPLES_PER_EPOCH} samples × ${RECIPE_EPOCHS} epochs)`,
      `${((result['recipe_seconds_estimate'] as number) / 3600).toFixed(1)} h`,
    ],
  ];
  const cached = forward['instant_seconds_per_photo_cached'];
  const uncached = forward['instant_seconds_per_photo_uncached'];
  if (cached !== undefined && uncached !== undefined) {
    rows.push(['instant mode, cached reference prefix', `${s(cached)} per photo`]);
    rows.push([
      'instant mode, prefix recomputed',
      `${s(uncached)} per photo: cached is ${ratio(uncached, cached)} faster (target ≥ 3×)`,
    ]);
    rows.push([
      '  max |logit difference|',
      `${forward['instant_cached_vs_uncached_max_logit_diff']!.toExponential(1)}`,
    ]);
  }
  log(table(`real-size ${shape}`, rows));
  return result;
}
