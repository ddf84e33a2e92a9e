// MatMul with numpy batching. Rank-1 operands are not supported: reshape to a matrix first.
import { definePrimitive } from '../registry';
import { broadcastShapes, formatShape } from '../shape';
import { apply, type Tensor } from '../tensor';
import { emitAs, unbroadcast } from './common';

/** Swaps the last two axes. */
export function transposeLast(t: Tensor): Tensor {
  const perm = Array.from({ length: t.rank }, (_, i) => i);
  perm[t.rank - 1] = t.rank - 2;
  perm[t.rank - 2] = t.rank - 1;
  return t.transpose(perm);
}

definePrimitive({
  name: 'MatMul',
  infer: (inputs) => {
    const [a, b] = inputs as [Tensor, Tensor];
    if (a.dtype !== b.dtype) throw new Error(`mixed dtypes ${a.dtype} and ${b.dtype}`);
    if (a.rank < 2 || b.rank < 2)
      throw new Error('operands must have rank ≥ 2 (reshape vectors to matrices)');
    const k1 = a.shape[a.rank - 1]!;
    const k2 = b.shape[b.rank - 2]!;
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
      throw new Error(
        `inner dims differ: ${formatShape(a.shape)} × ${formatShape(b.shape)} (${k1} vs ${k2})`,
      );
    }
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
    return { dtype: a.dtype, shape: [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!] };
  },
  emit: emitAs('MatMul'),
  backward: (out, g, needs) => {
    const [a, b] = out.inputs as [Tensor, Tensor];
    return [
      needs[0] ? unbroadcast(g.matmul(transposeLast(b)), a) : null,
      needs[1] ? unbroadcast(transposeLast(a).matmul(g), b) : null,
    ];
  },
});

/**
 * a · bᵀ for 2-d a [M, K] and b [N, K] (ONNX Gemm with transB = 1): the Hugging Face [out, in] weight
 * layout multiplies without a Transpose node, which matters when weights are fed at run time.
 */
definePrimitive({
  name: 'MatMulTransB',
  infer: (inputs) => {
    const [a, b] = inputs as [Tensor, Tensor];
    if (a.dtype !== b.dtype) throw new Error(`mixed dtypes ${a.dtype} and ${b.dtype}`);
    if (a.rank !== 2 || b.rank !== 2) throw new Error('operands must be matrices');
    const [k1, k2] = [a.shape[1]!, b.shape[1]!];
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
      throw new Error(
        `inner dims differ: ${formatShape(a.shape)} × ${formatShape(b.shape)}ᵀ (${k1} vs ${k2})`,
      );
    }
    return { dtype: a.dtype, shape: [a.shape[0]!, b.shape[0]!] };
  },
  emit: (ctx, out, inputs) => ctx.node('Gemm', inputs, [ctx.nameOf(out.id)], { transB: { int: 1 } }),
  backward: (out, g, needs) => {
    const [a, b] = out.inputs as [Tensor, Tensor];
    return [needs[0] ? g.matmul(b) : null, needs[1] ? transposeLast(g).matmul(a) : null];
  },
});

export function matmulTransB(a: Tensor, b: Tensor): Tensor {
  return apply('MatMulTransB', [a, b]);
}
