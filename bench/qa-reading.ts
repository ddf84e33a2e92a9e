// How well the default model reads two-option questions about a subject that its description names
// (npm run bench -- qa-reading [--seeds A..B]): "<bo> is a green striped car. What kind of thing is <bo>?
// A. A car B. A teddy". No training is involved, so this is the ceiling a trained concept's text-only QA
// can reach through the same reading. Per kind of question: the mean logit margin of the right option
// (both option orders averaged, so a letter bias cancels) and the share of subjects where it is positive.
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LlavaModel } from '../server/src/engine/models/llava/model';
import { openSubject } from '../server/src/engine/personalize/personalize';
import { readQaFile, rightOptionMargin } from '../server/src/engine/personalize/qa';
import { referenceConcept } from '../server/src/engine/personalize/reference-mode';
import { defaultModelDir } from '../server/src/engine/toyworld/default-model';
import { writeToyworldSubject } from '../server/src/engine/toyworld/workspace';
import { seedRange } from './arguments';
import { questionKind } from '../server/src/engine/toyworld/paper-table';

/** Fresh subjects, apart from the benchmark's (7200..7209, and 7000..7009 before them) and from every test's. */
const DEFAULT_SEEDS: [number, number] = [6100, 6119];

export async function runQaReadingBench(
  json: boolean,
  args: string[] = [],
): Promise<Record<string, unknown>> {
  const [a, b] = seedRange(args, DEFAULT_SEEDS);
  const modelDir = defaultModelDir();
  if (!modelDir)
    throw new Error('the default model (samples/models/toy-llava) is missing: run npm run pretrain');
  const model = LlavaModel.load(modelDir, { threads: Math.min(2, os.cpus().length) });
  const root = path.join(__dirname, '..', '.cache', 'bench-qa-reading');
  const margins: Record<string, number[]> = {};
  for (let seed = a; seed <= b; seed++) {
    const out = path.join(root, `seed-${seed}`);
    const existing = existsSync(out) ? readdirSync(out).find((f) => f.endsWith('.subject.yaml')) : undefined;
    const file = existing
      ? path.join(out, existing)
      : (await writeToyworldSubject({ seed, out, train: 3, test: 0, pool: 0, lookalikes: 0 })).file;
    const s = openSubject(file, { model, workspaceDir: out });
    const concept = referenceConcept(model, s.subject.name);
    const name = concept.tokens.nameToken;
    const prefix = `${name} is ${s.subject.description}.`;
    const rows = { embeddings: concept.embeddings, head: concept.head };
    for (const q of readQaFile(file)!.text) {
      let margin = 0;
      for (const swapped of [false, true])
        margin += (await rightOptionMargin(model, s.ctx, s.store, q, swapped, prefix, name, rows)) / 2;
      (margins[questionKind(q.question)] ??= []).push(margin);
    }
  }
  await model.release();
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const table = Object.fromEntries(
    Object.entries(margins).map(([k, m]) => [
      k,
      {
        mean_margin: round(m.reduce((x, y) => x + y, 0) / m.length),
        right: round(m.filter((x) => x > 0).length / m.length),
        subjects: m.length,
      },
    ]),
  );
  if (!json) {
    const lines = [
      `\nTwo-option questions about a subject named by its description, ${b - a + 1} fresh subjects (seeds ${a}..${b})`,
      `${'question'.padEnd(10)} ${'margin'.padStart(7)} ${'right'.padStart(6)}`,
      ...Object.entries(table).map(
        ([k, r]) =>
          `${k.padEnd(10)} ${r.mean_margin.toFixed(2).padStart(7)} ${r.right.toFixed(2).padStart(6)}`,
      ),
      'margin: logit of the right option minus the wrong one, both orders averaged; right: share with margin > 0',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return table;
}
