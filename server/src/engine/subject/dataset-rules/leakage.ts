// Test photos that are training photos (the same bytes, or near duplicates): evaluation would be meaningless.
import path from 'node:path';
import { duplicatePairs } from './duplicates';
import type { RuleRun } from './rule';

export function checkLeakage(run: RuleRun): void {
  const { ctx, summary, diag } = run;
  const train = (summary.images.get('images.train') ?? []).filter((f) => summary.checks.get(f)?.ok);
  const test = (summary.images.get('images.test') ?? []).filter((f) => summary.checks.get(f)?.ok);
  const leaks = duplicatePairs(test, train, summary.checks, ctx.nearDuplicateBits ?? 4);
  if (leaks.length) {
    const [a, b, exact] = leaks[0]!;
    diag(
      ['images', 'test'],
      'error',
      'leakage',
      `images.test: ${leaks.length} test photo(s) also in training (${path.basename(a)} ${exact ? 'is' : 'nearly matches'} ${path.basename(b)}): evaluation would be meaningless`,
    );
  }
}
