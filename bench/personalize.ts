// Personalization benchmark on the embedded default model: the sample subject samples/bo (10 photos, a
// 200-image pool of ToyWorld scenes) with the full recipe. Prints the time split into embedding,
// conversation generation, training (batch packing, graph runs, AdamW) and the scoring after each epoch;
// in the same run, one epoch of the per-sample trainer (batch 1) beside the recipe's batched epoch; the
// batched step's FLOP/s against this machine's MatMul peak; and how far the ETA shown 5% into training was
// from the time training really took. --compare-init also trains each concept initialization (3 epochs
// each) and prints their losses and training recognition.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlavaConfig } from '../server/src/engine/models/llava/config';
import { LlavaModel } from '../server/src/engine/models/llava/model';
import { personalize } from '../server/src/engine/personalize/personalize';
import { defaultModelDir } from '../server/src/engine/toyworld/default-model';
import { matmulPeak } from './model';
import { table } from './timing';

const THREADS = Number(process.env['YOLLAVA_THREADS'] ?? Math.min(2, os.cpus().length));

/** FLOPs of one token through the decoder, forward only: the linear layers and attention over `seq` keys. */
export function decoderFlopsPerToken(c: LlavaConfig, seq: number): number {
  const t = c.text;
  const linear = 2 * t.hidden * (2 * t.heads * t.headDim + 2 * t.kvHeads * t.headDim + 3 * t.intermediate);
  return t.layers * (linear + 4 * seq * t.heads * t.headDim);
}

export async function runPersonalizeBench(
  json: boolean,
  compareInit = false,
): Promise<Record<string, unknown>> {
  const modelDir = defaultModelDir();
  if (!modelDir)
    throw new Error('the default model (samples/models/toy-llava) is missing: run npm run pretrain');
  const ws = mkdtempSync(path.join(os.tmpdir(), 'yollava-bench-pers-'));
  try {
    // A copy, so that the bench neither reads nor writes the sample's own .yollava/.
    cpSync(path.join(__dirname, '..', 'samples', 'bo'), path.join(ws, 'bo'), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}.yollava`),
    });
    const file = path.join(ws, 'bo', 'bo.subject.yaml');
    const model = LlavaModel.load(modelDir, {
      threads: THREADS,
      weights: process.env['YOLLAVA_WEIGHTS'] === 'initializers' ? 'initializers' : 'inputs',
    });
    // The ETA shown once 5% of the training steps are done, against the training time that really remained
    // (until the last epoch was scored and checkpointed).
    let etaAt5: { at: number; eta: number } | null = null;
    let trainEnd = 0;
    const r = await personalize(file, {
      model,
      resume: false,
      onProgress: (p) => {
        if (!('epoch' in p)) return;
        const now = performance.now() / 1000;
        if (p.phase === 'select') trainEnd = now;
        const done = (p.epoch - 1) * p.steps + p.step;
        if (p.phase === 'train' && !etaAt5 && done >= 0.05 * p.steps * p.epochs)
          etaAt5 = { at: now, eta: p.etaSeconds };
      },
    });
    const split = r.seconds.trainSplit;
    const epochs = r.history.length;
    const batchSize = r.recipe.batchSize;
    // One epoch of the per-sample trainer on the same data, in the same run.
    const perSample = await personalize(file, {
      model,
      resume: false,
      overrides: { batchSize: 1, epochs: 1 },
    });
    const s1 = perSample.seconds.trainSplit;
    const perSampleEpoch = s1.prepare + s1.graph + s1.optimizer;
    const batchedEpoch = (split.prepare + split.graph + split.optimizer) / epochs;
    // Step efficiency: useful FLOPs (real tokens, no padding) of the batched steps over their graph time.
    const c = model.config;
    const meanSeq = r.data.tokens / r.data.samples;
    const forward = r.data.tokens * decoderFlopsPerToken(c, meanSeq);
    const head = 2 * r.data.labels * (c.text.vocab + 17) * c.text.hidden;
    // The backward pass needs gradients of activations only (the weights are frozen): about one forward.
    const stepFlops = 2 * (forward + head);
    const peak = await matmulPeak(THREADS);
    const gflops = (stepFlops * epochs) / split.graph / 1e9;
    const at5 = etaAt5 as { at: number; eta: number } | null;
    const etaError = at5 ? Math.abs(at5.eta - (trainEnd - at5.at)) / (trainEnd - at5.at) : null;
    const result: Record<string, unknown> = {
      parameters: model.parameterCount(),
      samples: r.data.samples,
      epochs,
      batch_size: batchSize,
      steps: Math.ceil(r.data.samples / batchSize) * epochs,
      seconds_total: round(r.seconds.total),
      seconds_embed: round(r.seconds.embed),
      seconds_conversations: round(r.seconds.conversations),
      seconds_train: round(r.seconds.train),
      seconds_prepare: round(split.prepare, 2),
      seconds_graph: round(split.graph, 2),
      seconds_optimizer: round(split.optimizer, 3),
      seconds_scoring: round(split.scoring, 2),
      seconds_per_sample_epoch: round(perSampleEpoch, 2),
      seconds_batched_epoch: round(batchedEpoch, 2),
      speedup_vs_per_sample: round(perSampleEpoch / batchedEpoch, 2),
      train_gflops: round(gflops, 1),
      matmul_peak_gflops: round(peak, 1),
      train_efficiency: round(gflops / peak, 3),
      eta_error_at_5_percent: etaError === null ? null : round(etaError, 3),
      best_epoch: r.meta.bestEpoch,
      train_recognition_raw_weighted: r.meta.metrics['train_recognition_raw_weighted'],
      train_recognition_weighted: r.meta.metrics['train_recognition_weighted'],
    };
    if (compareInit) {
      for (const init of ['vocab-mean', 'image-mean', 'reference-photo'] as const) {
        const ci = await personalize(file, { model, init, resume: false, overrides: { epochs: 3 } });
        result[`init_${init}`] = {
          first_epoch_loss: round(ci.history[0]!.meanLoss, 4),
          last_epoch_loss: round(ci.history[2]!.meanLoss, 4),
          train_recognition_raw_weighted: ci.meta.metrics['train_recognition_raw_weighted'],
          train_recognition_weighted: ci.meta.metrics['train_recognition_weighted'],
        };
      }
    }
    await model.release();
    if (!json) {
      const rows: [string, string][] = [
        [
          'model',
          `${(Number(result['parameters']) / 1e6).toFixed(1)}M parameters (${path.relative(process.cwd(), modelDir)}), ${c.vision.imageSize}px images, ${THREADS} threads`,
        ],
        [
          'data',
          `${r.data.positives.length} photos, ${r.data.negatives.length} negatives, ${r.data.conversations.length} conversations → ${r.data.samples} samples (mean ${meanSeq.toFixed(0)} tokens)`,
        ],
        ['total', `${result['seconds_total']} s`],
        ['  embedding', `${result['seconds_embed']} s`],
        ['  conversations', `${result['seconds_conversations']} s`],
        [
          '  training',
          `${result['seconds_train']} s: ${epochs} epochs of ${Math.ceil(r.data.samples / batchSize)} steps, batch ${batchSize}`,
        ],
        ['    packing batches', `${result['seconds_prepare']} s`],
        ['    graph runs', `${result['seconds_graph']} s`],
        ['    AdamW', `${result['seconds_optimizer']} s`],
        ['    epoch scoring', `${result['seconds_scoring']} s`],
        [
          'one epoch',
          `${result['seconds_batched_epoch']} s batched against ${result['seconds_per_sample_epoch']} s one sample per step: ${result['speedup_vs_per_sample']}× faster`,
        ],
        [
          'step efficiency',
          `${result['train_gflops']} GFLOP/s = ${result['train_efficiency']} of this run's MatMul peak (${result['matmul_peak_gflops']} GFLOP/s)`,
        ],
        [
          'ETA at 5%',
          etaError === null
            ? 'not measured'
            : `${(etaError * 100).toFixed(0)}% off the training time that remained`,
        ],
      ];
      if (compareInit)
        for (const k of ['init_vocab-mean', 'init_image-mean', 'init_reference-photo'])
          rows.push([k, JSON.stringify(result[k])]);
      process.stdout.write(table('personalize (full recipe, one subject)', rows));
    }
    return result;
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

function round(v: number, d = 1): number {
  return Math.round(v * 10 ** d) / 10 ** d;
}
