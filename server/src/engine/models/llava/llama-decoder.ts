// The LLaMA-family decoder stack (LLaMA, and Qwen2 with q/k/v biases) as a graph over given weight tensors.
// The caller decides whether weights are frozen initializers or trainable inputs.
import {
  applyRotary,
  attention,
  concat,
  causalMask,
  linear,
  mergeHeads,
  range,
  rmsNorm,
  rotaryTables,
  silu,
  splitHeads,
  type Dim,
  type Tensor,
} from '../../graph/index';

export interface DecoderShape {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  rmsEps: number;
  ropeTheta: number;
  /** Hugging Face stores linear weights [out, in]; 'inOut' weights are pre-transposed. */
  layout?: 'outIn' | 'inOut';
}

export interface DecoderLayerWeights {
  inputNorm: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  o: Tensor;
  qBias?: Tensor;
  kBias?: Tensor;
  vBias?: Tensor;
  postNorm: Tensor;
  gate: Tensor;
  up: Tensor;
  down: Tensor;
}

/** Rotary tables for keys, and for queries with the 1/√hd score scale folded in (built once per graph). */
export interface LayerRope {
  cos: Tensor;
  sin: Tensor;
  qCos: Tensor;
  qSin: Tensor;
}

/** Rotary tables for int64 `positions`; the score scale rides on the small q tables, not on q itself. */
export function layerRope(positions: Tensor, s: DecoderShape): LayerRope {
  const { cos, sin } = rotaryTables(positions, s.headDim, s.ropeTheta);
  const scale = 1 / Math.sqrt(s.headDim);
  return { cos, sin, qCos: cos.mul(scale), qSin: sin.mul(scale) };
}

export interface LayerCache {
  /** [B, Hkv, past, hd] keys and values of earlier positions. */
  k: Tensor;
  v: Tensor;
}

/**
 * One pre-norm layer: h = x + o(attn(norm(x))); out = h + down(silu(gate(n)) · up(n)), n = norm(h).
 * With `past`, attention also reads the cached keys and values; the layer's full keys/values are returned
 * so that a decoding step can hand them to the next one.
 */
export function decoderLayer(
  x: Tensor,
  w: DecoderLayerWeights,
  s: DecoderShape,
  rope: LayerRope,
  mask: Tensor,
  past?: LayerCache,
): { out: Tensor; k: Tensor; v: Tensor } {
  const layout = s.layout ?? 'outIn';
  const n = rmsNorm(x, w.inputNorm, s.rmsEps);
  const q = applyRotary(
    splitHeads(linear(n, w.q, w.qBias, layout), s.heads, s.headDim),
    rope.qCos,
    rope.qSin,
  );
  let k = applyRotary(splitHeads(linear(n, w.k, w.kBias, layout), s.kvHeads, s.headDim), rope.cos, rope.sin);
  let v = splitHeads(linear(n, w.v, w.vBias, layout), s.kvHeads, s.headDim);
  if (past) {
    k = concat([past.k, k], 2);
    v = concat([past.v, v], 2);
  }
  const a = mergeHeads(attention({ q, k, v, mask, scale: 1 }));
  const h = x.add(linear(a, w.o, undefined, layout));
  const m = rmsNorm(h, w.postNorm, s.rmsEps);
  const ff = silu(linear(m, w.gate, undefined, layout)).mul(linear(m, w.up, undefined, layout));
  return { out: h.add(linear(ff, w.down, undefined, layout)), k, v };
}

/**
 * The whole stack over `x` [B, T, hidden] at positions 0…T-1, with a causal mask, ending in the final norm
 * (none when `finalNorm` is null).
 */
export function decoderStack(
  x: Tensor,
  layers: DecoderLayerWeights[],
  finalNorm: Tensor | null,
  s: DecoderShape,
): Tensor {
  const g = x.graph;
  const T = x.shape[1] as Dim;
  const positions = range(g.scalar(0, 'int64'), g.dimTensor(T).reshape([]), T);
  const rope = layerRope(positions, s);
  const mask = causalMask(x, T, T);
  let h = x;
  for (const w of layers) h = decoderLayer(h, w, s, rope, mask).out;
  return finalNorm ? rmsNorm(h, finalNorm, s.rmsEps) : h;
}
