// `yollava demo` (npm run demo): personalizes samples/bo on the embedded default model, then prints its
// held-out recognition beside the base model's and answers a few questions about <bo> with no image,
// checked against the subject's ground truth (truth.json).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LlavaModel } from '../engine';
import { evaluateSubject } from '../engine';
import { chat } from '../engine';
import { runTask } from '../engine';
import { defaultModelDir, DEFAULT_MODEL_RELATIVE } from '../engine';
import type { ObjectInstance } from '../engine';
import { KINDS } from '../engine';
import { progressPrinter } from './progress';

const out = (s: string): boolean => process.stdout.write(s);
const f3 = (x: number): string => x.toFixed(3);

/** Questions asked with no image, and what a right answer must contain. */
function textQuestions(o: ObjectInstance): { question: string; expect: string[] }[] {
  return [
    { question: 'What color is <bo>?', expect: [o.color] },
    { question: 'What shape is <bo>?', expect: [o.kind] },
    { question: 'Describe <bo> in one sentence.', expect: [o.color, o.kind] },
    { question: 'What is <bo> made of?', expect: [KINDS[o.kind].material] },
  ];
}

export async function runDemo(root: string): Promise<number> {
  const modelDir = defaultModelDir();
  if (!modelDir) {
    process.stderr.write(
      `yollava demo: the embedded default model (${DEFAULT_MODEL_RELATIVE}) is missing; build it with \`npm run pretrain\`.\n`,
    );
    return 2;
  }
  const file = path.join(root, 'samples', 'bo', 'bo.subject.yaml');
  if (!existsSync(file)) {
    process.stderr.write(`yollava demo: ${file} is missing; regenerate it with \`npm run samples\`.\n`);
    return 2;
  }
  const truth = JSON.parse(readFileSync(path.join(path.dirname(file), 'truth.json'), 'utf8')) as {
    description: string;
    object: ObjectInstance;
  };
  out(`Personalizing <bo> (${truth.description}) on ${path.relative(root, modelDir)}\n`);
  const progress = progressPrinter(true);
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  const r = await runTask(
    'personalize',
    { subjectFile: file, options: { modelDir } },
    { signal: ac.signal, onProgress: (p) => progress.update(p), abortGraceMs: 5000 },
  );
  progress.done();
  out(
    `trained in ${r.seconds.total.toFixed(1)} s: ${r.data.positives.length} photos, ${r.data.negatives.length} negatives, ${r.data.conversations.length} conversations, best epoch ${r.meta.bestEpoch}\n\n`,
  );
  const model = LlavaModel.load(modelDir);
  try {
    const e = await evaluateSubject(file, { model });
    const n = e.counts.negatives_other_subjects + e.counts.negatives_unseen_pool;
    out(`Recognition on ${e.counts.positives} held-out photos of <bo> and ${n} photos without it:\n`);
    out(
      `  ${''.padEnd(20)} ${'positive'.padStart(9)} ${'negative'.padStart(9)} ${'weighted'.padStart(9)}   calibrated weighted\n`,
    );
    const row = (
      label: string,
      a: { positive: number; negative: number; weighted: number },
      cal: number,
    ): void => {
      out(
        `  ${label.padEnd(20)} ${f3(a.positive).padStart(9)} ${f3(a.negative).padStart(9)} ${f3(a.weighted).padStart(9)}   ${f3(cal)}\n`,
      );
    };
    row(
      'yollava <bo>',
      {
        positive: e.recognition_positive,
        negative: e.recognition_negative,
        weighted: e.recognition_weighted,
      },
      e.calibrated.weighted,
    );
    row('base model', e.baselines.base_model.raw, e.baselines.base_model.calibrated.weighted);
    const d = e.baselines.description_prompt;
    if (d) row('base + description', d.raw, d.calibrated.weighted);
    const ref = e.baselines.reference_images;
    if (ref) row('reference photos', ref.raw, ref.calibrated.weighted);
    out('  (raw: P(Yes) > P(No); calibrated: threshold chosen on training photos vs pool images)\n');
    if (e.visual_qa !== undefined)
      out(
        `  visual QA ${f3(e.visual_qa)}, text-only QA ${f3(e.text_qa ?? NaN)} (in both option orders: ${f3(e.calibrated.visual_qa ?? NaN)}, ${f3(e.calibrated.text_qa ?? NaN)})\n`,
      );
    if (e.concept.selfDescription)
      out(`\nWhat <bo> says of itself (written once after training): ${e.concept.selfDescription}\n`);
    out('\nWith no image:\n');
    let right = 0;
    const qs = textQuestions(truth.object);
    for (const q of qs) {
      let answer = '';
      for await (const d of chat([file], q.question, { model, maxNewTokens: 32 })) answer += d;
      answer = answer.trim();
      const ok = q.expect.every((w) => answer.toLowerCase().includes(w));
      if (ok) right++;
      out(
        `  Q: ${q.question}\n  A: ${answer}${q.expect.length ? (ok ? '   ✓' : `   ✗ (expected ${q.expect.join(', ')})`) : ''}\n`,
      );
    }
    out(`\n${right}/${qs.length} text-only answers name what truth.json says.\n`);
  } finally {
    await model.release();
  }
  return 0;
}
