// Negatives: without any, training only ever hears "yes", the concept says yes to every photo, and
// recognition reports 0.50. Warned of, so that nobody trains that way without knowing.
import type { RuleRun } from './rule';

export function checkNegatives(run: RuleRun): void {
  const { ctx, summary, diag } = run;
  const v = run.value;
  const named = v.negatives?.pools ?? [];
  if (!named.length) {
    if (ctx.defaultPools?.length) return; // the workspace's default pools stand in
    diag(
      v.negatives ? ['negatives'] : ['name'],
      'warning',
      'no-negatives',
      'negatives: no negative pool: the concept would learn only "yes" and say it to every photo (recognition 0.50); add negatives.pools (folders of other images), or set yollava.negativePools',
    );
    return;
  }
  const usable = [...summary.images]
    .filter(([field]) => field.startsWith('negatives'))
    .flatMap(([, files]) => files)
    .filter((f) => summary.checks.get(f)?.ok).length;
  if (!usable)
    diag(
      ['negatives', 'pools'],
      'warning',
      'no-negatives',
      'negatives.pools: no usable image in these folders: the concept would learn only "yes" and say it to every photo (recognition 0.50)',
    );
}
