// Multi-head attention with grouped key/value heads, and the causal mask.
import { greater, where } from '../ops/elementwise';
import { range } from '../ops/indexing';
import type { Dim, Tensor } from '../tensor';

/** Large enough to zero a softmax term, small enough that adding it to a score cannot overflow. */
const MASKED = -1e30;

export interface AttentionArgs {
  /** [B, Hq, T, hd] */
  q: Tensor;
  /** [B, Hkv, S, hd]; Hq must be a multiple of Hkv. Query head h reads kv head floor(h / (Hq/Hkv)). */
  k: Tensor;
  v: Tensor;
  /** Additive mask broadcastable to [B, Hq, T, S] (0 or a large negative). */
  mask?: Tensor;
  /** Default 1/√hd. */
  scale?: number;
}

/** softmax(q kᵀ · scale + mask) v, returned as [B, Hq, T, hd]. */
export function attention({ q, k, v, mask, scale }: AttentionArgs): Tensor {
  const [B, Hq, T, hd] = q.shape as [Dim, number, Dim, number];
  const Hkv = k.shape[1] as number;
  if (Hq % Hkv !== 0) throw new Error(`attention: ${Hq} query heads do not group over ${Hkv} kv heads`);
  const r = Hq / Hkv;
  const s = scale ?? 1 / Math.sqrt(hd);
  // Grouped heads: fold each group's r query heads into the row dim so the kv heads need no copies.
  const qg = r === 1 ? q : q.reshape([B, Hkv, -1, hd]);
  let scores = (s === 1 ? qg : qg.mul(s)).matmul(k.transpose([0, 1, 3, 2]));
  if (r !== 1) scores = scores.reshape([B, Hq, T, k.shape[2]!]);
  if (mask) scores = scores.add(mask);
  const probs = scores.softmax(-1);
  const pg = r === 1 ? probs : probs.reshape([B, Hkv, -1, k.shape[2]!]);
  const out = pg.matmul(v);
  return r === 1 ? out : out.reshape([B, Hq, T, hd]);
}

/**
 * [T, S] additive causal mask for T queries at positions past…past+T-1 over S = past+T keys.
 * `S` is a dim, or an int64 scalar tensor computed at run time; `past` is a 1-element int64 tensor or a number.
 */
export function causalMask(like: Tensor, T: Dim, S: Dim | Tensor, past: Tensor | number = 0): Tensor {
  const g = like.graph;
  const scalarOf = (d: Dim): Tensor => g.dimTensor(d).reshape([]);
  const zero = g.scalar(0, 'int64');
  let rows = range(zero, scalarOf(T), T);
  if (typeof past !== 'number' || past !== 0)
    rows = rows.add(typeof past === 'number' ? g.scalar(past, 'int64') : past);
  const cols = typeof S === 'object' ? range(zero, S) : range(zero, scalarOf(S), S);
  const future = greater(cols.unsqueeze(0), rows.unsqueeze(1));
  return where(future, g.scalar(MASKED, like.dtype), g.scalar(0, like.dtype));
}

/** Splits the last dim into heads: [B, T, H·hd] → [B, H, T, hd]. */
export function splitHeads(x: Tensor, heads: number, headDim: number): Tensor {
  const [B, T] = x.shape as [Dim, Dim];
  return x.reshape([B, T, heads, headDim]).transpose([0, 2, 1, 3]);
}

/** [B, H, T, hd] → [B, T, H·hd]. */
export function mergeHeads(x: Tensor): Tensor {
  const [B, H, T, hd] = x.shape as [Dim, number, Dim, number];
  return x.transpose([0, 2, 1, 3]).reshape([B, T, H * hd]);
}
