// Model benchmark on a generated LLaVA checkpoint of about 10M parameters: vision ms per image, forward ms
// for a 128-token prompt, KV-cache decode tokens/s, and the train graph's step time with its FLOP/s as a
// fraction of the same run's plain-MatMul peak.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph, serialize } from '../server/src/engine/graph/index';
import { LlavaModel, emptyCache } from '../server/src/engine/models/llava/model';
import { writeTinyLlava } from '../server/src/engine/models/llava/random-checkpoint';
import { f32 } from '../server/src/engine/runtime/host-tensor';
import { GraphSession, type ProviderSetting } from '../server/src/engine/runtime/session';
import { bestOf, table } from './timing';

const THREADS = Math.min(2, os.cpus().length);
export const MODEL_SPEC = {
  vision: { hidden: 192, intermediate: 768, layers: 6, heads: 3, imageSize: 112, patchSize: 14 },
  text: { hidden: 256, intermediate: 704, layers: 6, heads: 4, kvHeads: 4, vocab: 4096 },
  seed: 7,
};

async function matmulPeak(): Promise<number> {
  let best = 0;
  for (const [m, k, n] of [
    [1024, 1024, 1024],
    [2048, 2048, 2048],
    [512, 256, 704],
  ] as const) {
    const g = new Graph();
    const a = g.input('a', 'float32', [m, k]);
    const b = g.input('b', 'float32', [k, n]);
    const s = await GraphSession.create(serialize({ c: a.matmul(b) }), { threads: THREADS });
    const feeds = {
      a: f32([m, k], new Float32Array(m * k).fill(0.01)),
      b: f32([k, n], new Float32Array(k * n).fill(0.02)),
    };
    best = Math.max(best, (2 * m * k * n) / (await bestOf(5, 1, () => s.run(feeds))) / 1e9);
    await s.release();
  }
  return best;
}

export async function runModelBench(
  json: boolean,
  provider: ProviderSetting = 'cpu',
): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yollava-bench-model-'));
  writeTinyLlava(dir, MODEL_SPEC);
  const model = LlavaModel.load(dir, { provider, threads: THREADS });
  try {
    const c = model.config;
    const D = model.hidden;
    const V = model.vocab;
    const images = 8;
    const px = f32(
      [images, 3, c.vision.imageSize, c.vision.imageSize],
      Float32Array.from({ length: images * 3 * c.vision.imageSize ** 2 }, (_, i) => Math.sin(i)),
    );
    const visionSeconds = await bestOf(3, 1, () => model.encodeImages(px));

    const T = 128;
    const ids = Array.from({ length: T }, (_, i) => 3 + ((i * 37) % (V - 4)));
    const embeds = model.embed(ids);
    const forwardSeconds = await bestOf(5, 1, () => model.logits(embeds, 1, T, [T - 1]));

    let step = await model.decodeStep(embeds, emptyCache());
    const steps = 32;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < steps; i++) step = await model.decodeStep(model.embed([5 + i]), step.cache);
    const decodeTps = steps / (Number(process.hrtime.bigint() - t0) / 1e9);

    // A batch of 4 recognition-like sequences: 64 image tokens + 64 text tokens, 8 supervised positions each.
    const B = 4;
    const batchEmbeds = new Float32Array(B * T * D);
    for (let b = 0; b < B; b++) batchEmbeds.set(embeds, b * T * D);
    const positions = Array.from({ length: B * 8 }, (_, i) => Math.floor(i / 8) * T + 119 + (i % 8));
    const labels = positions.map((_, i) => 10 + i);
    const extra = new Float32Array(17 * D).fill(0.01);
    const train = {
      embeds: batchEmbeds,
      batch: B,
      seq: T,
      labelPositions: positions,
      labelIds: labels,
      extraHead: extra,
    };
    const trainSeconds = await bestOf(5, 1, () => model.trainStep(train));
    const t = c.text;
    const perTokenForward =
      t.layers *
        2 *
        (t.hidden * t.heads * t.headDim * 2 +
          2 * t.hidden * t.kvHeads * t.headDim +
          3 * t.hidden * t.intermediate) +
      t.layers * 4 * T * t.hidden;
    // Forward, plus a backward pass that only needs gradients for the inputs (weights are frozen).
    const trainFlops = 2 * B * T * perTokenForward + 2 * 2 * positions.length * (V + 17) * D;
    const peak = await matmulPeak();
    const trainGflops = trainFlops / trainSeconds / 1e9;
    const result = {
      parameters: model.parameterCount(),
      provider: provider,
      vision_ms_per_image: round((visionSeconds * 1000) / images, 2),
      forward_ms_128_tokens: round(forwardSeconds * 1000, 2),
      decode_tokens_per_s: round(decodeTps, 1),
      train_step_ms: round(trainSeconds * 1000, 2),
      train_gflops: round(trainGflops, 1),
      train_efficiency: round(trainGflops / peak, 3),
      matmul_peak_gflops: round(peak, 1),
    };
    if (!json) {
      process.stdout.write(
        table(
          `model (${(result.parameters / 1e6).toFixed(1)}M-parameter LLaVA, ${provider}, ${THREADS} threads)`,
          [
            [
              'vision',
              `${result.vision_ms_per_image} ms per image (${c.vision.imageSize}px, ${c.imageTokens} tokens; batch of ${images})`,
            ],
            [
              'forward',
              `${result.forward_ms_128_tokens} ms for a 128-token prompt (logits at the last position)`,
            ],
            ['decode', `${result.decode_tokens_per_s} tokens/s with the KV cache`],
            [
              'train step',
              `${result.train_step_ms} ms for ${B}×${T} tokens (loss, d/d inputs_embeds, d/d 17 head rows)`,
            ],
            [
              'train FLOP/s',
              `${result.train_gflops} GFLOP/s = ${result.train_efficiency} of the MatMul peak (${result.matmul_peak_gflops})`,
            ],
          ],
        ),
      );
    }
    return result;
  } finally {
    await model.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(v: number, d = 1): number {
  return Math.round(v * 10 ** d) / 10 ** d;
}
