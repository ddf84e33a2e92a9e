// yollava train: personalization in a worker thread, with progress, Ctrl-C to cancel (the artifact is kept).
import path from 'node:path';
import { runTask } from '../../engine';
import { progressPrinter } from '../progress';
import { out, fmt, requireArg, type Flags, type CliCommand } from '../flags';

async function run(flags: Flags): Promise<number> {
  const file = requireArg(flags, 'train <file.subject.yaml>');
  const progress = progressPrinter(!flags.json);
  const ac = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ncancelling: the previous artifact is kept\n');
    ac.abort();
  });
  const r = await runTask(
    'personalize',
    {
      subjectFile: path.resolve(file),
      options: {
        modelDir: flags.model,
        pools: flags.pools,
        // Default: continue an interrupted run of the same data and settings; --fresh starts over.
        resume: flags.fresh ? false : undefined,
        warmStart: flags.warmStart,
      },
    },
    {
      signal: ac.signal,
      onProgress: (p) => progress.update(p),
      abortGraceMs: 5000,
    },
  );
  progress.done();
  if (flags.json) out(`${JSON.stringify(r)}\n`);
  else {
    const best = r.history.find((h) => h.epoch === r.meta.bestEpoch)!;
    out(
      `trained <${r.meta.name}> in ${r.seconds.total.toFixed(1)} s (embed ${r.seconds.embed.toFixed(1)} s, conversations ${r.seconds.conversations.toFixed(1)} s, training ${r.seconds.train.toFixed(1)} s)\n`,
    );
    out(
      `  data      ${r.data.positives.length} photos, ${r.data.negatives.filter((n) => n.kind === 'hard').length} hard + ${r.data.negatives.filter((n) => n.kind === 'random').length} random negatives, ${r.data.conversations.length} conversations (${r.data.choices.length} also as two options), ${r.data.samples} samples\n`,
    );
    if (r.data.skipped.length)
      out(
        `  warning   ${r.data.skipped.length} photo(s) or pool image(s) cannot be decoded and were left out: ${r.data.skipped.map((x) => path.basename(x.file)).join(', ')}\n`,
      );
    if (r.data.contamination.length)
      out(
        `  warning   ${r.data.contamination.length} pool image(s) duplicate a training photo and were left out: ${r.data.contamination.map((c) => path.basename(c.file)).join(', ')}\n`,
      );
    out(
      best.raw
        ? `  best      epoch ${r.meta.bestEpoch}: recognition on its training data ${fmt(best.raw.weighted)} (pos ${fmt(best.raw.positive)} / neg ${fmt(best.raw.negative)}), raw; ${fmt(best.recognition.weighted)} at the threshold that picked the epoch (held-out figures: yollava eval)\n`
        : `  best      epoch ${r.meta.bestEpoch}: recognition on its training data ${fmt(best.recognition.weighted)} at the threshold that picked the epoch\n`,
    );
    out(`  artifact  ${r.artifactDir}\n`);
  }
  return 0;
}

export const trainCommand: CliCommand = {
  name: 'train',
  usage:
    'yollava train <file.subject.yaml>        personalize the model to the subject (writes .yollava/<name>/)',
  run,
};
