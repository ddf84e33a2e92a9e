// Activations and normalizations, written from primitives (their gradients come from the primitives' rules).
import { matmulTransB } from '../ops/matmul';
import type { Tensor } from '../tensor';

/** y = x Wᵀ + b with Hugging Face's [out, in] weight layout; `inOut` weights are already [in, out]. */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor,
  layout: 'outIn' | 'inOut' = 'outIn',
): Tensor {
  const inDim = layout === 'outIn' ? weight.shape[1]! : weight.shape[0]!;
  const outDim = layout === 'outIn' ? weight.shape[0]! : weight.shape[1]!;
  // One 2-d GEMM (and 2-d GEMMs in the backward pass) beats a batched MatMul whose weight gradient
  // would need a reduction over the batch.
  const flat = x.rank === 2 ? x : x.reshape([-1, inDim]);
  let y = layout === 'outIn' ? matmulTransB(flat, weight) : flat.matmul(weight);
  if (bias) y = y.add(bias);
  return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outDim]);
}

export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const mean = x.mean(-1, true);
  const d = x.sub(mean);
  const variance = d.mul(d).mean(-1, true);
  return d.mul(variance.add(eps).sqrt().reciprocal()).mul(weight).add(bias);
}

/** LLaMA's RMSNorm: x / sqrt(mean(x²) + eps) · weight. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  // Multiplying by the reciprocal of the small [.., 1] tensor costs fewer full-size ops in the backward
  // pass than dividing by it.
  const ms = x.mul(x).mean(-1, true);
  return x.mul(ms.add(eps).sqrt().reciprocal()).mul(weight);
}

/** Exact GELU: 0.5 · x · (1 + erf(x / √2)). */
export function gelu(x: Tensor): Tensor {
  return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
}

/** CLIP's quick GELU: x · σ(1.702 x). */
export function quickGelu(x: Tensor): Tensor {
  return x.mul(x.mul(1.702).sigmoid());
}

export function silu(x: Tensor): Tensor {
  return x.mul(x.sigmoid());
}

/** The tanh approximation of GELU (gelu_pytorch_tanh, used by SigLIP). */
export function geluTanh(x: Tensor): Tensor {
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(inner.tanh().add(1));
}
