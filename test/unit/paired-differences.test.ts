// The benchmark's paired comparison of two variants (bench/paired-differences.ts), on hand-made figures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPaired, pairedDifference } from '../../bench/paired-differences';

describe('paired differences', () => {
  it('gives the mean per-subject difference, its standard error and the subjects each way', () => {
    // Differences 0.1, 0.0, −0.05, 0.15: mean 0.05, sample sd √(0.0250/3), se = sd / 2.
    const p = pairedDifference([0.9, 0.8, 0.7, 1.0], [0.8, 0.8, 0.75, 0.85]);
    assert.equal(p.subjects, 4);
    assert.ok(Math.abs(p.mean - 0.05) < 1e-12);
    assert.ok(Math.abs(p.se - Math.sqrt(0.025 / 3) / 2) < 1e-12);
    assert.equal(p.better, 2);
    assert.equal(p.worse, 1);
    assert.equal(formatPaired(p), '+0.050 ± 0.046 (2↑ 1↓)');
  });

  it('leaves out subjects that lack either figure', () => {
    const p = pairedDifference([0.5, NaN, 0.7], [0.6, 0.9]);
    assert.equal(p.subjects, 1);
    assert.ok(Math.abs(p.mean + 0.1) < 1e-12);
    assert.ok(Number.isNaN(p.se));
    assert.equal(formatPaired(p), '−0.100 (0↑ 1↓)');
    assert.equal(formatPaired(pairedDifference([], [])), '—');
  });
});
