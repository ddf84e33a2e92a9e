// The benchmark's vision probe (bench/vision-probe.ts): a weighted logistic regression. It must separate
// what is separable, and weighting one class more must move the boundary toward the other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLogisticProbe } from '../../bench/vision-probe';
import { Rng } from '../../server/src/engine/util/rng';

function cloud(rng: Rng, n: number, centre: number): Float32Array[] {
  return Array.from({ length: n }, () =>
    Float32Array.from([centre + rng.next() - 0.5, rng.next(), rng.next()]),
  );
}

describe('vision probe', () => {
  it('separates two clouds apart along one feature, whatever the others do', () => {
    const rng = new Rng(1);
    const yes = cloud(rng, 20, 2);
    const no = cloud(rng, 40, 0);
    const probe = fitLogisticProbe(
      [...yes, ...no],
      [...yes.map(() => 1 as const), ...no.map(() => 0 as const)],
      [...yes.map(() => 1), ...no.map(() => 1)],
    );
    assert.ok(cloud(new Rng(2), 10, 2).every((x) => probe(x) > 0));
    assert.ok(cloud(new Rng(3), 10, 0).every((x) => probe(x) < 0));
  });

  it('weighing the positives more says yes to more of an overlapping middle', () => {
    const rng = new Rng(4);
    const yes = cloud(rng, 30, 0.6);
    const no = cloud(rng, 30, 0);
    const x = [...yes, ...no];
    const y = x.map((_, i) => (i < yes.length ? 1 : 0) as 0 | 1);
    const middle = Array.from({ length: 21 }, (_, i) => Float32Array.from([i * 0.03, 0.5, 0.5]));
    const saysYes = (w: number) => {
      const probe = fitLogisticProbe(
        x,
        y,
        x.map((_, i) => (i < yes.length ? w : 1)),
      );
      return middle.filter((m) => probe(m) > 0).length;
    };
    assert.ok(saysYes(10) > saysYes(1), `${saysYes(10)} vs ${saysYes(1)}`);
  });
});
