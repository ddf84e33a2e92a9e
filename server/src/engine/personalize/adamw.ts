// AdamW (Loshchilov & Hutter) over Float32Arrays, matching torch.optim.AdamW: decoupled weight decay
// p ← p − lr·wd·p, then the bias-corrected Adam step p ← p − lr · m̂ / (√v̂ + eps).
export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Per parameter: false exempts it from weight decay (norms, biases, embeddings). Default: all decay. */
  decay?: boolean[];
}

export interface AdamWState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class AdamW {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decayMask?: boolean[];
  private state: AdamWState;

  /** `params` are updated in place by step(). */
  constructor(
    readonly params: Float32Array[],
    opts: AdamWOptions = {},
  ) {
    this.lr = opts.lr ?? 1e-3;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    this.decayMask = opts.decay;
    this.state = {
      step: 0,
      m: params.map((p) => new Float32Array(p.length)),
      v: params.map((p) => new Float32Array(p.length)),
    };
  }

  get stepCount(): number {
    return this.state.step;
  }

  /** One update with one gradient per parameter (same lengths). */
  step(grads: readonly ArrayLike<number>[], lr = this.lr): void {
    if (grads.length !== this.params.length)
      throw new Error(`AdamW: ${grads.length} gradients for ${this.params.length} parameters`);
    const [b1, b2] = this.betas;
    const t = ++this.state.step;
    const stepSize = lr / (1 - b1 ** t);
    const invSqrtC2 = 1 / Math.sqrt(1 - b2 ** t);
    const ob1 = 1 - b1;
    const ob2 = 1 - b2;
    const eps = this.eps;
    this.params.forEach((p, k) => {
      const g = grads[k]!;
      if (g.length !== p.length)
        throw new Error(`AdamW: gradient ${k} has ${g.length} values for ${p.length} parameters`);
      const m = this.state.m[k]!;
      const v = this.state.v[k]!;
      const decay = 1 - lr * (this.decayMask?.[k] === false ? 0 : this.weightDecay);
      // One pass, each value read once: this loop is a large share of a pretraining step.
      for (let i = 0, n = p.length; i < n; i++) {
        const gi = g[i]!;
        const mi = b1 * m[i]! + ob1 * gi;
        const vi = b2 * v[i]! + ob2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) * invSqrtC2 + eps);
      }
    });
  }

  /**
   * The next step's scalars, for an update computed elsewhere (in a graph: graph/composites/adamw.ts); the
   * step count advances as step() would. Decay is the same for every parameter here (no decay mask).
   */
  nextStepScalars(lr = this.lr): { decay: number; stepSize: number; invSqrtC2: number } {
    if (this.decayMask) throw new Error('AdamW: an update made elsewhere takes no per-parameter decay');
    const t = ++this.state.step;
    return {
      decay: 1 - lr * this.weightDecay,
      stepSize: lr / (1 - this.betas[0] ** t),
      invSqrtC2: 1 / Math.sqrt(1 - this.betas[1] ** t),
    };
  }

  /** Parameter k's moments, as they stand (read by an update made elsewhere). */
  moments(k: number): { m: Float32Array; v: Float32Array } {
    return { m: this.state.m[k]!, v: this.state.v[k]! };
  }

  /** Takes parameter k's values and moments from an update made elsewhere (copied in place). */
  adopt(k: number, p: ArrayLike<number>, m: ArrayLike<number>, v: ArrayLike<number>): void {
    this.params[k]!.set(p);
    this.state.m[k]!.set(m);
    this.state.v[k]!.set(v);
  }

  /** A copy of the moments and step count, to resume training later. */
  saveState(): AdamWState {
    return {
      step: this.state.step,
      m: this.state.m.map((a) => a.slice()),
      v: this.state.v.map((a) => a.slice()),
    };
  }

  loadState(s: AdamWState): void {
    if (s.m.length !== this.params.length || s.m.some((a, i) => a.length !== this.params[i]!.length)) {
      throw new Error('AdamW: the saved state does not match these parameters');
    }
    this.state = { step: s.step, m: s.m.map((a) => a.slice()), v: s.v.map((a) => a.slice()) };
  }
}
