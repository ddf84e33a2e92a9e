// AdamW against steps computed by hand (torch.optim.AdamW's update rule).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdamW } from '../../server/src/engine/personalize/adamw';

describe('AdamW', () => {
  it('first two steps match a hand computation', () => {
    const p = new Float32Array([1, -2]);
    const opt = new AdamW([p], { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    opt.step([new Float32Array([0.5, -4])]);
    // Step 1: m̂ = g and v̂ = g², so the Adam part is lr·sign(g) (up to eps); decay first: p·(1 − lr·wd).
    const s1 = [1 * (1 - 0.001) - 0.1 * (0.5 / (0.5 + 1e-8)), -2 * (1 - 0.001) + 0.1 * (4 / (4 + 1e-8))];
    assert.ok(
      Math.abs(p[0]! - s1[0]!) < 1e-6 && Math.abs(p[1]! - s1[1]!) < 1e-6,
      `step 1: ${Array.from(p)} vs ${s1}`,
    );
    opt.step([new Float32Array([1, 2])]);
    // Step 2 by hand: m = 0.9·m₁ + 0.1·g, v = 0.999·v₁ + 0.001·g², bias corrections 1 − β^2.
    const expect = s1.map((prev, i) => {
      const g1 = [0.5, -4][i]!;
      const g2 = [1, 2][i]!;
      const m = 0.9 * (0.1 * g1) + 0.1 * g2;
      const v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
      const mh = m / (1 - 0.81);
      const vh = v / (1 - 0.999 ** 2);
      return prev * (1 - 0.001) - (0.1 * mh) / (Math.sqrt(vh) + 1e-8);
    });
    assert.ok(
      Math.abs(p[0]! - expect[0]!) < 1e-6 && Math.abs(p[1]! - expect[1]!) < 1e-6,
      `step 2: ${Array.from(p)} vs ${expect}`,
    );
    assert.equal(opt.stepCount, 2);
  });

  it('with zero gradient only the decoupled weight decay acts', () => {
    const p = new Float32Array([3]);
    new AdamW([p], { lr: 0.5, weightDecay: 0.1 }).step([new Float32Array([0])]);
    assert.ok(Math.abs(p[0]! - 3 * (1 - 0.05)) < 1e-6);
  });

  it('saved state resumes to the same trajectory', () => {
    const run = (resumeAt: number | null): Float32Array => {
      const p = new Float32Array([0.3, -0.7, 1.1]);
      let opt = new AdamW([p]);
      for (let t = 1; t <= 6; t++) {
        if (t === resumeAt) {
          const saved = opt.saveState();
          opt = new AdamW([p]);
          opt.loadState(saved);
        }
        opt.step([new Float32Array([Math.sin(t), Math.cos(t), t / 10])]);
      }
      return p;
    };
    assert.deepEqual(Array.from(run(4)), Array.from(run(null)));
  });

  it('minimizes a quadratic', () => {
    const p = new Float32Array([5, -3]);
    const opt = new AdamW([p], { lr: 0.05, weightDecay: 0 });
    for (let i = 0; i < 2000; i++) opt.step([new Float32Array([2 * (p[0]! - 1), 2 * (p[1]! + 2)])]);
    assert.ok(Math.abs(p[0]! - 1) < 1e-2 && Math.abs(p[1]! + 2) < 1e-2, `ended at ${Array.from(p)}`);
  });

  it('refuses mismatched gradients', () => {
    const opt = new AdamW([new Float32Array(2)]);
    assert.throws(() => opt.step([new Float32Array(3)]), /3 values for 2 parameters/);
  });
});
