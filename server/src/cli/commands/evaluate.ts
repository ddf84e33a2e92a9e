// yollava eval: held-out recognition and QA of a trained subject, with the paper's baselines.
import { evaluateSubject } from '../../engine';
import { out, fmt, requireArg, type Flags, type CliCommand } from '../flags';

async function run(flags: Flags): Promise<number> {
  const file = requireArg(flags, 'eval <file.subject.yaml>');
  const r = await evaluateSubject(file, {
    modelDir: flags.model,
    pools: flags.pools,
    provider: flags.provider,
  });
  if (flags.json) out(`${JSON.stringify(r)}\n`);
  else {
    out(
      `<${r.concept.name}> on ${r.counts.positives} held-out photos and ${r.counts.negatives_other_subjects + r.counts.negatives_unseen_pool} negatives\n`,
    );
    const row = (label: string, a: { weighted: number; positive: number; negative: number }): string =>
      `${label.padEnd(22)} weighted ${fmt(a.weighted)} (pos ${fmt(a.positive)} / neg ${fmt(a.negative)})`;
    out(
      `  recognition, raw (P(Yes) > P(No)); calibrated (threshold from ${r.counts.calibration_positives} training photos vs ${r.counts.calibration_negatives} pool images)\n`,
    );
    const ours = {
      weighted: r.recognition_weighted,
      positive: r.recognition_positive,
      negative: r.recognition_negative,
    };
    out(`    ${row(`<${r.concept.name}>`, ours)}; calibrated ${fmt(r.calibrated.weighted)}\n`);
    for (const [label, b] of Object.entries(r.baselines))
      if (b) out(`    ${row(label.replace('_', ' '), b.raw)}; calibrated ${fmt(b.calibrated.weighted)}\n`);
    const orders = (x?: number) => (x === undefined ? '' : `; in both option orders ${fmt(x)}`);
    if (r.visual_qa !== undefined)
      out(`  visual QA     ${fmt(r.visual_qa)}${orders(r.calibrated.visual_qa)}\n`);
    if (r.text_qa !== undefined) out(`  text QA       ${fmt(r.text_qa)}${orders(r.calibrated.text_qa)}\n`);
    if (r.concept.selfDescription) out(`  it says of itself: ${r.concept.selfDescription}\n`);
  }
  return 0;
}

export const evaluateCommand: CliCommand = {
  name: 'eval',
  usage: 'yollava eval <file.subject.yaml>         recognition (and QA) on held-out photos, with baselines',
  run,
};
