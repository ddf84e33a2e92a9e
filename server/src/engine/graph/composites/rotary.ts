// Rotary position embedding in the half-split layout (LLaMA, Qwen2): rotate_half(x) = [-x₂, x₁].
import { concat } from '../ops/slicing';
import type { Tensor } from '../tensor';

/**
 * cos and sin tables for integer `positions` ([T] or [B, T], int64), shaped to broadcast against
 * [B, H, T, headDim]. inv_freq is rounded to float32 as Hugging Face computes it.
 */
export function rotaryTables(
  positions: Tensor,
  headDim: number,
  theta: number,
): { cos: Tensor; sin: Tensor } {
  const g = positions.graph;
  const dtype = 'float32';
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++)
    inv[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
  const freqs = positions
    .cast(dtype)
    .unsqueeze(-1)
    .mul(g.constant(inv, [half]));
  const emb = concat([freqs, freqs], -1);
  const shaped = positions.rank === 1 ? emb : emb.unsqueeze(1); // [T, hd] or [B, 1, T, hd]
  return { cos: shaped.cos(), sin: shaped.sin() };
}

/**
 * x·cos + rotate_half(x)·sin for x [..., headDim]. rotate_half is a signed permutation, applied as a MatMul
 * with a constant ±1 matrix: exact in floating point, and cheaper in the backward pass than slicing and
 * concatenating halves (whose gradients would be padded and summed).
 */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const hd = x.shape[x.rank - 1] as number;
  const c = cos.dtype === x.dtype ? cos : cos.cast(x.dtype);
  const s = sin.dtype === x.dtype ? sin : sin.cast(x.dtype);
  return x.mul(c).add(x.matmul(rotateHalfMatrix(x, hd)).mul(s));
}

/** R with x·R = concat(−x[h:], x[:h]), h = hd/2. */
function rotateHalfMatrix(like: Tensor, hd: number): Tensor {
  const h = hd / 2;
  const r = like.dtype === 'float64' ? new Float64Array(hd * hd) : new Float32Array(hd * hd);
  for (let j = 0; j < h; j++) r[(j + h) * hd + j] = -1;
  for (let j = h; j < hd; j++) r[(j - h) * hd + j] = 1;
  return like.graph.constant(r, [hd, hd]);
}
