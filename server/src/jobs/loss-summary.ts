// A training run's loss, summarized so that the whole run fits a chart of bounded size: consecutive steps
// share a bucket (min, mean and max over its steps), every bucket covers the same number of steps, and
// when the buckets run out, neighbours merge in pairs and each bucket covers twice as many. Every step
// stays counted in exactly one bucket, so the first steps of a long run are summarized as faithfully as
// the last ones.
import type { LossBucket } from '../protocol';

/** Most buckets a summary keeps (a chart of about 360 pixels draws at most this many). */
export const MAX_LOSS_BUCKETS = 200;

export class LossSummary {
  /** Steps per bucket: doubles whenever the buckets run out. */
  private width = 1;

  constructor(
    readonly buckets: LossBucket[] = [],
    private readonly maxBuckets = MAX_LOSS_BUCKETS,
  ) {}

  /** Adds the loss of one step (steps counted from 1 over the whole run, in order). */
  add(step: number, loss: number): void {
    const last = this.buckets[this.buckets.length - 1];
    // A bucket holds the steps [from, from + width); the steps of a run are consecutive.
    if (last && step < last.from + this.width) {
      last.mean += (loss - last.mean) / (last.n + 1);
      last.n += 1;
      last.to = step;
      last.min = Math.min(last.min, loss);
      last.max = Math.max(last.max, loss);
      return;
    }
    // Every bucket is full here, so after merging the last one is too: the step opens a new one.
    if (this.buckets.length === this.maxBuckets) this.halve();
    this.buckets.push({ from: step, to: step, n: 1, mean: loss, min: loss, max: loss });
  }

  /** Merges neighbouring buckets in pairs: half as many, each covering twice the steps. */
  private halve(): void {
    const merged: LossBucket[] = [];
    for (let i = 0; i < this.buckets.length; i += 2) {
      const a = this.buckets[i]!;
      const b = this.buckets[i + 1];
      merged.push(
        b
          ? {
              from: a.from,
              to: b.to,
              n: a.n + b.n,
              mean: (a.mean * a.n + b.mean * b.n) / (a.n + b.n),
              min: Math.min(a.min, b.min),
              max: Math.max(a.max, b.max),
            }
          : a,
      );
    }
    this.buckets.splice(0, this.buckets.length, ...merged);
    this.width *= 2;
  }
}
