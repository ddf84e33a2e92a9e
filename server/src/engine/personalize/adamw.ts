// AdamW (Loshchilov & Hutter) over Float32Arrays, matching torch.optim.AdamW: decoupled weight decay
// p ← p − lr·wd·p, then the bias-corrected Adam step p ← p − lr · m̂ / (√v̂ + eps).
export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
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
  step(grads: readonly Float32Array[], lr = this.lr): void {
    if (grads.length !== this.params.length)
      throw new Error(`AdamW: ${grads.length} gradients for ${this.params.length} parameters`);
    const [b1, b2] = this.betas;
    const t = ++this.state.step;
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    const decay = 1 - lr * this.weightDecay;
    this.params.forEach((p, k) => {
      const g = grads[k]!;
      if (g.length !== p.length)
        throw new Error(`AdamW: gradient ${k} has ${g.length} values for ${p.length} parameters`);
      const m = this.state.m[k]!;
      const v = this.state.v[k]!;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        p[i] = p[i]! * decay - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + this.eps);
      }
    });
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
