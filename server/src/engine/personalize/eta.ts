// The time a training run has left: its remaining steps at the rate measured so far, plus the scoring that
// follows every epoch. The first step is left out of the rate, since it also builds the graph's session
// (seconds at real size), and scoring is counted before it is first measured, from the step rate, so that
// the estimate shown early in a run already includes it.

/** A forward pass over one image costs about a third of a training step's forward and backward passes. */
const SCORING_SHARE_OF_A_SAMPLE_STEP = 1 / 3;

export class EtaEstimator {
  private stepsDone = 0;
  private firstStepEnd = 0;
  private scoringsLeft: number;
  private lastScoring: number | null = null;
  /** Scoring time since the first step ended, kept out of the step rate. */
  private scoredSinceFirstStep = 0;

  constructor(
    private readonly totalSteps: number,
    epochs: number,
    /** Samples per step, and images scored after each epoch: what the first estimate of scoring uses. */
    private readonly shape: { batch: number; scoredPerEpoch: number },
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.scoringsLeft = epochs;
  }

  stepDone(): void {
    this.stepsDone++;
    if (this.stepsDone === 1) this.firstStepEnd = this.now();
  }

  epochScored(seconds: number): void {
    this.scoringsLeft--;
    this.lastScoring = seconds;
    if (this.stepsDone >= 1) this.scoredSinceFirstStep += seconds;
  }

  /** Seconds left; 0 until a rate can be measured (two steps). */
  seconds(): number {
    if (this.stepsDone < 2) return 0;
    const perStep = (this.now() - this.firstStepEnd - this.scoredSinceFirstStep) / (this.stepsDone - 1);
    const perScoring =
      this.lastScoring ??
      (perStep / this.shape.batch) * this.shape.scoredPerEpoch * SCORING_SHARE_OF_A_SAMPLE_STEP;
    return Math.max(0, (this.totalSteps - this.stepsDone) * perStep + this.scoringsLeft * perScoring);
  }
}
