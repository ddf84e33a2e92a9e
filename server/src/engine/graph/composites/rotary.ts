// Rotary position embedding in the half-split layout (LLaMA, Qwen2): rotate_half(x) = [-x₂, x₁].
import { concat } from '../ops/slicing';
import type { Tensor } from '../tensor';

/**
 * cos and sin tables for integer `positions` ([T] or [B, T], int64), shaped to broadcast against
 * [B, H, T, headDim]. inv_freq is rounded to float32 as Hugging Face computes it.
 */
export function rotaryTables(positions: Tensor, headDim: number, theta: number): { cos: Tensor; sin: Tensor } {
  const g = positions.graph;
  const dtype = 'float32';
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
  const freqs = positions.cast(dtype).unsqueeze(-1).mul(g.constant(inv, [half]));
  const emb = concatLast(freqs, freqs);
  const shaped = positions.rank === 1 ? emb : emb.unsqueeze(1); // [T, hd] or [B, 1, T, hd]
  return { cos: shaped.cos(), sin: shaped.sin() };
}

export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const hd = x.shape[x.rank - 1] as number;
  const c = cos.dtype === x.dtype ? cos : cos.cast(x.dtype);
  const s = sin.dtype === x.dtype ? sin : sin.cast(x.dtype);
  const x1 = x.slice(-1, 0, hd / 2);
  const x2 = x.slice(-1, hd / 2, hd);
  return x.mul(c).add(concatLast(x2.neg(), x1).mul(s));
}

function concatLast(a: Tensor, b: Tensor): Tensor {
  return concat([a, b], -1);
}
