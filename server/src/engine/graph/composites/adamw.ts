// One AdamW update as graph nodes, so that an optimizer step runs where the gradient was computed (the same
// graph run, on whatever provider runs it) instead of in a host loop over every value. The bias corrections
// and the learning rate change every step and come in as scalars:
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p·decay − stepSize · m / (√v · invSqrtC2 + ε)
// with decay = 1 − lr·wd, stepSize = lr / (1 − β1ᵗ), invSqrtC2 = 1 / √(1 − β2ᵗ), as torch.optim.AdamW.
import type { Tensor } from '../tensor';

export interface AdamWScalars {
  /** 1 − lr·weight decay, a scalar tensor. */
  decay: Tensor;
  stepSize: Tensor;
  invSqrtC2: Tensor;
}

export function adamwUpdate(
  p: Tensor,
  g: Tensor,
  m: Tensor,
  v: Tensor,
  s: AdamWScalars,
  opts: { beta1?: number; beta2?: number; eps?: number } = {},
): { p: Tensor; m: Tensor; v: Tensor } {
  const b1 = opts.beta1 ?? 0.9;
  const b2 = opts.beta2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  const m2 = m.mul(b1).add(g.mul(1 - b1));
  const v2 = v.mul(b2).add(g.mul(g).mul(1 - b2));
  const p2 = p.mul(s.decay).sub(m2.mul(s.stepSize).div(v2.sqrt().mul(s.invSqrtC2).add(eps)));
  return { p: p2, m: m2, v: v2 };
}
