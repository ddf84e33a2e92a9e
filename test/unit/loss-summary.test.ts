// The training dashboard's loss summary: a 6,600-step run in at most 200 buckets that cover every step
// once, with the right mean, min and max, and buckets of one width from the first step to the last.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LossSummary, MAX_LOSS_BUCKETS } from '../../server/src/jobs/loss-summary';
import type { LossBucket } from '../../server/src/protocol';
import { Rng } from '../helpers/rng';

describe('LossSummary', () => {
  it('summarizes a 6,600-step run faithfully, the early steps as well as the late ones', () => {
    const rng = new Rng(5);
    const losses = Array.from({ length: 6600 }, (_, i) => 3 / (1 + i / 300) + rng.next() * 0.2);
    const buckets: LossBucket[] = [];
    const s = new LossSummary(buckets);
    losses.forEach((l, i) => s.add(i + 1, l));
    assert.ok(
      buckets.length <= MAX_LOSS_BUCKETS && buckets.length > MAX_LOSS_BUCKETS / 2,
      `${buckets.length}`,
    );
    assert.equal(buckets[0]!.from, 1);
    assert.equal(buckets.at(-1)!.to, 6600);
    const width = buckets[0]!.n;
    for (const [i, b] of buckets.entries()) {
      if (i > 0) assert.equal(b.from, buckets[i - 1]!.to + 1, 'buckets follow each other with no gap');
      assert.equal(b.n, b.to - b.from + 1);
      if (i < buckets.length - 1) assert.equal(b.n, width, 'every full bucket covers the same steps');
      const mine = losses.slice(b.from - 1, b.to);
      const mean = mine.reduce((a, c) => a + c, 0) / mine.length;
      assert.ok(Math.abs(b.mean - mean) < 1e-9, `bucket ${i}: mean ${b.mean} vs ${mean}`);
      assert.equal(b.min, Math.min(...mine));
      assert.equal(b.max, Math.max(...mine));
    }
    // The first 80 % of the run holds about 80 % of the buckets (the old thinning left it nearly empty).
    const early = buckets.filter((b) => b.to <= 0.8 * 6600).length;
    assert.ok(early >= 0.75 * buckets.length, `${early} of ${buckets.length} buckets in the first 80 %`);
  });

  it('keeps one step per bucket while the run is short', () => {
    const buckets: LossBucket[] = [];
    const s = new LossSummary(buckets);
    for (let i = 1; i <= 50; i++) s.add(i, i);
    assert.equal(buckets.length, 50);
    assert.deepEqual(buckets[9], { from: 10, to: 10, n: 1, mean: 10, min: 10, max: 10 });
  });
});
