// Pretraining's first stage: the vision tower alone, supervised by linear probes on what each photo shows
// (probes.ts). It stands in for the CLIP pretraining a real LLaVA starts from. Run jointly with the language
// model from the start, the tower learned too slowly to be read: the joint step sees about 25 photos, this
// one sees dozens at a fraction of the cost.
import { Graph, serialize } from '../graph/index';
import type { LlavaConfig } from '../models/llava/config';
import { WeightInputs } from '../models/llava/weight-inputs';
import type { WeightMap } from '../models/llava/weights';
import { buildVisionProbeGraph } from '../models/llava/whole-model-graph';
import { AdamW } from '../personalize/adamw';
import { f32 } from '../runtime/host-tensor';
import { GraphSession } from '../runtime/session';
import { Rng } from '../util/rng';
import { scenePixels } from './pretrain-batch';
import { addProbeWeight, PROBES, probeFeeds } from './probes';
import { randomScene } from './scenes';
import { randomInstance } from './world';

export interface VisionStageOptions {
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: { step: number; steps: number; loss: number; accuracy: Record<string, number> }) => void;
}

export interface VisionStageRecord {
  steps: number;
  batch: number;
  lr: number;
  wallSeconds: number;
  /** Per logged window: mean loss and each probe's accuracy on the photos of that window. */
  curve: { step: number; loss: number; accuracy: Record<string, number> }[];
}

/** Trains the vision weights of `weights` in place; returns null when stopped by the signal. */
export async function trainVisionStage(
  config: LlavaConfig,
  weights: WeightMap,
  o: VisionStageOptions,
): Promise<VisionStageRecord | null> {
  const inputs = config.imageTokens * config.vision.hidden * config.featureLayers.length;
  const init = new Rng(o.seed + 31);
  const probeWeights: WeightMap = new Map(weights);
  for (const p of PROBES) {
    probeWeights.delete(`vprobe.${p.name}.weight`);
    addProbeWeight(probeWeights, `vprobe.${p.name}.weight`, p.classes, inputs, init);
  }
  const g = new Graph('vision-stage');
  const w = new WeightInputs(g, probeWeights);
  const outputs = buildVisionProbeGraph(g, config, w, PROBES);
  const names = w.names().filter((n) => !n.startsWith('projector.'));
  const session = await GraphSession.create(serialize(outputs), {
    threads: o.threads,
    name: 'vision stage graph',
  });
  const feeds = Object.fromEntries(Object.entries(w.feeds()).filter(([n]) => !n.startsWith('projector.')));
  const opt = new AdamW(
    names.map((n) => probeWeights.get(n)!.data as Float32Array),
    { lr: o.lr, weightDecay: 0 },
  );
  const size = config.vision.imageSize;
  const record: VisionStageRecord = { steps: o.steps, batch: o.batch, lr: o.lr, wallSeconds: 0, curve: [] };
  let window = { loss: 0, n: 0, right: {} as Record<string, number>, seen: {} as Record<string, number> };
  try {
    for (let step = 0; step < o.steps; step++) {
      if (o.signal?.aborted) return null;
      const t0 = performance.now();
      const rng = new Rng((Math.imul(o.seed + 7919, 2654435761) ^ Math.imul(step + 1, 40503)) >>> 0);
      const scenes = Array.from({ length: o.batch }, () => randomScene(randomInstance(rng), rng));
      const labels = probeFeeds(scenes, scenes.length);
      const out = await session.run({
        ...feeds,
        pixel_values: f32([scenes.length, 3, size, size], await scenePixels(scenes, size)),
        ...labels,
      });
      const grads = names.map((n) => out[`grad_${n}`]!.data as Float32Array);
      const warm = Math.min(1, (step + 1) / 100);
      const lr = o.lr * warm * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * step) / o.steps)));
      opt.step(grads, lr);
      window.loss += (out['loss']!.data as Float32Array)[0]!;
      window.n++;
      for (const p of PROBES) {
        const logits = out[`logits_${p.name}`]!.data as Float32Array;
        const ys = labels[`probe_${p.name}`]!.data as BigInt64Array;
        ys.forEach((y, i) => {
          if (y < 0n) return;
          let best = 0;
          for (let k = 1; k < p.classes; k++)
            if (logits[i * p.classes + k]! > logits[i * p.classes + best]!) best = k;
          window.seen[p.name] = (window.seen[p.name] ?? 0) + 1;
          if (BigInt(best) === y) window.right[p.name] = (window.right[p.name] ?? 0) + 1;
        });
      }
      record.wallSeconds += (performance.now() - t0) / 1000;
      if ((step + 1) % 50 === 0 || step + 1 === o.steps) {
        const accuracy = Object.fromEntries(
          PROBES.map((p) => [p.name, (window.right[p.name] ?? 0) / Math.max(1, window.seen[p.name] ?? 0)]),
        );
        const entry = { step: step + 1, loss: window.loss / window.n, accuracy };
        record.curve.push(entry);
        o.onProgress?.({ ...entry, steps: o.steps });
        window = { loss: 0, n: 0, right: {}, seen: {} };
      }
    }
  } finally {
    await session.release();
  }
  return record;
}
