// Personalization benchmark on the embedded default model: the sample subject samples/bo (10 photos, a
// 200-image pool of ToyWorld scenes) with the full recipe: 16 tokens, 15 epochs, 10 questions per photo,
// 50 hard negatives (3 questions each) + 50 random (1 each), 10 conversations per photo. Prints the time
// split into embedding, conversation generation and training. --compare-init also trains each concept
// initialization (3 epochs each) and prints their losses and training recognition.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LlavaModel } from '../server/src/engine/models/llava/model';
import { personalize } from '../server/src/engine/personalize/personalize';
import { defaultModelDir } from '../server/src/engine/toyworld/default-model';
import { table } from './timing';

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
      threads: Number(process.env['YOLLAVA_THREADS'] ?? Math.min(2, os.cpus().length)),
      weights: process.env['YOLLAVA_WEIGHTS'] === 'initializers' ? 'initializers' : 'inputs',
    });
    const r = await personalize(file, { model });
    const result: Record<string, unknown> = {
      parameters: model.parameterCount(),
      samples: r.data.samples,
      steps: r.data.samples * r.history.length,
      seconds_total: round(r.seconds.total),
      seconds_embed: round(r.seconds.embed),
      seconds_conversations: round(r.seconds.conversations),
      seconds_train: round(r.seconds.train),
      ms_per_step: round((r.seconds.train * 1000) / (r.data.samples * r.history.length), 2),
      best_epoch: r.meta.bestEpoch,
      train_recognition_raw_weighted: r.meta.metrics['train_recognition_raw_weighted'],
      train_recognition_weighted: r.meta.metrics['train_recognition_weighted'],
    };
    if (compareInit) {
      for (const init of ['vocab-mean', 'image-mean', 'reference-photo'] as const) {
        const c = await personalize(file, { model, init, overrides: { epochs: 3 } });
        result[`init_${init}`] = {
          first_epoch_loss: round(c.history[0]!.meanLoss, 4),
          last_epoch_loss: round(c.history[2]!.meanLoss, 4),
          train_recognition_raw_weighted: c.meta.metrics['train_recognition_raw_weighted'],
          train_recognition_weighted: c.meta.metrics['train_recognition_weighted'],
        };
      }
    }
    await model.release();
    if (!json) {
      const rows: [string, string][] = [
        [
          'model',
          `${(Number(result['parameters']) / 1e6).toFixed(1)}M parameters (${path.relative(process.cwd(), modelDir)}), ${model.config.vision.imageSize}px images`,
        ],
        [
          'data',
          `${r.data.positives.length} photos, ${r.data.negatives.length} negatives, ${r.data.conversations.length} conversations → ${r.data.samples} samples`,
        ],
        ['total', `${result['seconds_total']} s`],
        ['  embedding', `${result['seconds_embed']} s`],
        ['  conversations', `${result['seconds_conversations']} s`],
        [
          '  training',
          `${result['seconds_train']} s (${r.history.length} epochs, ${result['ms_per_step']} ms per step)`,
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
