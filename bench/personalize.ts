// Personalization benchmark: a generated LLaVA checkpoint of about 5M parameters (random weights), drawn
// ToyWorld photos (5 of the subject, 200 in the negative pool) and the full recipe: 16 tokens, 15 epochs,
// 15 questions per photo, 100 hard + 100 random negatives, 10 conversations per photo. Prints the time
// split into embedding, conversation generation and training. --compare-init also trains both concept
// initializations (3 epochs each) and prints their losses and training recognition.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LlavaModel } from '../server/src/engine/models/llava/model';
import { writeTinyLlava, writeTinyTokenizer } from '../server/src/engine/models/llava/random-checkpoint';
import { personalize } from '../server/src/engine/personalize/personalize';
import { writeSubjectWorkspace } from '../server/src/engine/toyworld/workspace';
import { table } from './timing';

export const PERSONALIZE_MODEL = {
  vision: { hidden: 128, intermediate: 512, layers: 4, heads: 4, imageSize: 64, patchSize: 16 },
  text: { hidden: 256, intermediate: 704, layers: 4, heads: 4, kvHeads: 4, vocab: 2048 },
  seed: 5,
};

export async function runPersonalizeBench(
  json: boolean,
  compareInit = false,
): Promise<Record<string, unknown>> {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'yollava-bench-pers-'));
  try {
    const modelDir = path.join(ws, 'model');
    writeTinyLlava(modelDir, PERSONALIZE_MODEL);
    writeTinyTokenizer(modelDir, PERSONALIZE_MODEL.text.vocab);
    const file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: { kind: 'mug', color: 'red', pattern: 'striped', accessory: 'bow' },
      train: 5,
      test: 3,
      negatives: 200,
      model: '../model',
      size: 96,
    });
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
      train_recognition_weighted: r.meta.metrics['train_recognition_weighted'],
    };
    if (compareInit) {
      for (const init of ['vocab-mean', 'image-mean'] as const) {
        const c = await personalize(file, { model, init, overrides: { epochs: 3 } });
        result[`init_${init}`] = {
          first_epoch_loss: round(c.history[0]!.meanLoss, 4),
          last_epoch_loss: round(c.history[2]!.meanLoss, 4),
          train_recognition_weighted: c.meta.metrics['train_recognition_weighted'],
        };
      }
    }
    await model.release();
    if (!json) {
      const rows: [string, string][] = [
        [
          'model',
          `${(Number(result['parameters']) / 1e6).toFixed(1)}M parameters (random weights), ${PERSONALIZE_MODEL.vision.imageSize}px images`,
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
        for (const k of ['init_vocab-mean', 'init_image-mean']) rows.push([k, JSON.stringify(result[k])]);
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
