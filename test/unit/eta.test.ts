// The training ETA: remaining steps at the measured rate (the first step, which builds the session, left
// out) plus the scoring after every remaining epoch, estimated before it is first measured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EtaEstimator } from '../../server/src/engine/personalize/eta';

describe('training ETA', () => {
  it('counts steps at the measured rate and scoring for every epoch left, measured or estimated', () => {
    let now = 0;
    // 2 epochs of 4 steps; batch 10; 30 images scored after each epoch.
    const eta = new EtaEstimator(8, 2, { batch: 10, scoredPerEpoch: 30 }, () => now);
    now = 5; // the first step also built the session: slow
    eta.stepDone();
    assert.equal(eta.seconds(), 0, 'no rate from one step');
    now += 1;
    eta.stepDone();
    // 6 steps left at 1 s, and 2 scorings estimated at (1 s / 10 samples) · 30 images · 1/3 = 1 s each.
    assert.ok(Math.abs(eta.seconds() - 8) < 1e-9, `got ${eta.seconds()}`);
    now += 2;
    eta.stepDone();
    eta.stepDone();
    now += 3; // the first epoch's scoring, measured
    eta.epochScored(3);
    // 3 steps in 3 s of stepping: 1 s each; 4 steps left and one scoring of 3 s.
    assert.ok(Math.abs(eta.seconds() - 7) < 1e-9, `got ${eta.seconds()}`);
  });
});
