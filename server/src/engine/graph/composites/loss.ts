// Cross-entropy over labelled positions, ignoring those marked with an ignore index (Hugging Face's -100).
import { equal } from '../ops/elementwise';
import { range } from '../ops/indexing';
import type { Tensor } from '../tensor';

/**
 * Mean over positions whose label ≠ ignoreIndex of −log softmax(logits)[label].
 * logits: [..., V] float; labels: [...] int64 (already aligned with logits: no shift here).
 * With no labelled position the loss is 0, not NaN.
 */
export function maskedCrossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = -100): Tensor {
  if (labels.dtype !== 'int64')
    throw new Error(`maskedCrossEntropy: labels must be int64, got ${labels.dtype}`);
  const g = logits.graph;
  const V = logits.shape[logits.rank - 1]!;
  const logp = logits.logSoftmax(-1);
  const vocab = range(g.scalar(0, 'int64'), g.dimTensor(V).reshape([]), V);
  const oneHot = equal(labels.unsqueeze(-1), vocab).cast(logits.dtype);
  const valid = equal(labels, g.scalar(ignoreIndex, 'int64')).cast(logits.dtype).neg().add(1);
  const allAxes = Array.from({ length: labels.rank }, (_, i) => i);
  const picked = logp.mul(oneHot).sum(-1).mul(valid).sum(allAxes);
  const count = valid.sum(allAxes);
  // max(count, 1) without a Max primitive: count + (count == 0)
  const safe = count.add(equal(count, g.scalar(0, logits.dtype)).cast(logits.dtype));
  return picked.neg().div(safe);
}

/**
 * Σ w·(−log softmax(logits)[label]) / Σ w: per-position weights (e.g. each sample's answer counting once).
 * Positions with weight 0 count for nothing; with no weight at all the loss is 0, not NaN.
 */
export function weightedCrossEntropy(logits: Tensor, labels: Tensor, weights: Tensor): Tensor {
  const g = logits.graph;
  const V = logits.shape[logits.rank - 1]!;
  const logp = logits.logSoftmax(-1);
  const vocab = range(g.scalar(0, 'int64'), g.dimTensor(V).reshape([]), V);
  const oneHot = equal(labels.unsqueeze(-1), vocab).cast(logits.dtype);
  const picked = logp.mul(oneHot).sum(-1);
  const total = weights.sum(0);
  const safe = total.add(equal(total, g.scalar(0, logits.dtype)).cast(logits.dtype));
  return picked.mul(weights).sum(0).neg().div(safe);
}
