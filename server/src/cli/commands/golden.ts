// yollava golden: the implementation against Hugging Face reference outputs, in both image-token conventions.
import { runGoldenCheck } from '../../engine';
import { out, requireArg, type Flags, type CliCommand } from '../flags';

async function run(flags: Flags): Promise<number> {
  const dir = requireArg(flags, 'golden <dir>');
  let ok = true;
  const reports = [];
  for (const convention of ['expanded', 'legacy'] as const) {
    const r = await runGoldenCheck(dir, convention, { provider: flags.provider });
    reports.push(r);
    ok &&= r.ok;
    if (!flags.json) {
      out(
        `\n${dir} — image tokens ${convention === 'expanded' ? 'expanded in input_ids' : 'legacy (one per image)'}\n`,
      );
      out(
        `  ${'quantity'.padEnd(34)} ${'max abs'.padStart(10)} ${'max rel'.padStart(10)} ${'tolerance'.padStart(10)}\n`,
      );
      for (const c of r.comparisons) {
        out(
          `  ${c.name.padEnd(34)} ${c.maxAbs.toExponential(2).padStart(10)} ${c.maxRel.toExponential(2).padStart(10)} ${c.tolerance.toExponential(0).padStart(10)}  ${c.ok ? 'ok' : 'FAIL'}\n`,
        );
      }
      out(
        `  ${'greedy tokens'.padEnd(34)} expected [${r.tokens.expected.join(', ')}], got [${r.tokens.actual.join(', ')}]  ${r.tokens.ok ? 'ok' : 'FAIL'}\n`,
      );
    }
  }
  if (flags.json) out(`${JSON.stringify({ ok, reports })}\n`);
  else out(ok ? '\ngolden: all within tolerance\n' : '\ngolden: FAILED\n');
  return ok ? 0 : 1;
}

export const goldenCommand: CliCommand = {
  name: 'golden',
  usage:
    'yollava golden <dir> [--provider P]      check the implementation against Hugging Face reference outputs',
  run,
};
