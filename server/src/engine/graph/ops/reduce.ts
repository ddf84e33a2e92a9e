// Reductions and the normalized exponentials (Softmax, LogSoftmax) along one axis.
import type { Dim } from '../tensor';
import { definePrimitive, type Attrs, type InferredType } from '../registry';
import type { Tensor } from '../tensor';
import { listAttr, numAttr } from './common';
import { equal } from './elementwise';

function reduceInfer(inputs: readonly Tensor[], attrs: Attrs): InferredType {
  const x = inputs[0]!;
  const axes = listAttr(attrs, 'axes');
  const keep = Boolean(attrs['keepdims']);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return { dtype: x.dtype, shape };
}

function reduceEmit(op: string) {
  return (ctx: import('../emit-context').EmitContext, out: Tensor, inputs: string[]): void => {
    const axes = ctx.constant(
      'axes',
      'int64',
      [listAttr(out.attrs, 'axes').length],
      listAttr(out.attrs, 'axes'),
    );
    ctx.node(op, [inputs[0]!, axes], [ctx.nameOf(out.id)], {
      keepdims: { int: out.attrs['keepdims'] ? 1 : 0 },
    });
  };
}

/** The gradient of a reduction's output, broadcast back over the reduced axes of `x`. */
function spread(out: Tensor, g: Tensor): Tensor {
  const x = out.inputs[0]!;
  const kept = out.attrs['keepdims'] ? g : g.unsqueeze(listAttr(out.attrs, 'axes'));
  return kept.expand(x.shape);
}

/** Number of elements reduced over, as a scalar of x's dtype (read at run time if the dims are symbolic). */
function reducedCount(x: Tensor, axes: number[]): Tensor {
  const dims = axes.map((a) => x.shape[a]!);
  if (dims.every((d) => typeof d === 'number')) {
    return x.graph.scalar(
      (dims as number[]).reduce((p, d) => p * d, 1),
      x.dtype,
    );
  }
  // A scalar, not [1]: a [1] count would add an axis to the gradient of a reduction over every axis.
  let n = x.graph.dimTensor(dims[0]!).reshape([]);
  for (const d of dims.slice(1)) n = n.mul(x.graph.dimTensor(d).reshape([]));
  return n.cast(x.dtype);
}

definePrimitive({
  name: 'ReduceSum',
  infer: reduceInfer,
  emit: reduceEmit('ReduceSum'),
  backward: (out, g) => [spread(out, g)],
});

definePrimitive({
  name: 'ReduceMean',
  infer: reduceInfer,
  emit: reduceEmit('ReduceMean'),
  // Dividing the reduced gradient before spreading it touches fewer elements.
  backward: (out, g) => [spread(out, g.div(reducedCount(out.inputs[0]!, listAttr(out.attrs, 'axes'))))],
});

definePrimitive({
  name: 'ReduceMax',
  infer: reduceInfer,
  emit: reduceEmit('ReduceMax'),
  backward: (out, g) => {
    // The gradient goes to the maxima; ties share it equally.
    const x = out.inputs[0]!;
    const axes = listAttr(out.attrs, 'axes');
    const maxKept = out.attrs['keepdims'] ? out : out.unsqueeze(axes);
    const mask = equal(x, maxKept).cast(x.dtype);
    const count = mask.sum(axes, true);
    return [mask.mul(spread(out, g)).div(count)];
  },
});

definePrimitive({
  name: 'Softmax',
  infer: (inputs) => ({ dtype: inputs[0]!.dtype, shape: inputs[0]!.shape }),
  emit: (ctx, out, inputs) =>
    ctx.node('Softmax', inputs, [ctx.nameOf(out.id)], { axis: { int: numAttr(out.attrs, 'axis') } }),
  backward: (out, g) => {
    const axis = numAttr(out.attrs, 'axis');
    return [out.mul(g.sub(g.mul(out).sum(axis, true)))];
  },
});

definePrimitive({
  name: 'LogSoftmax',
  infer: (inputs) => ({ dtype: inputs[0]!.dtype, shape: inputs[0]!.shape }),
  emit: (ctx, out, inputs) =>
    ctx.node('LogSoftmax', inputs, [ctx.nameOf(out.id)], { axis: { int: numAttr(out.attrs, 'axis') } }),
  backward: (out, g) => {
    const axis = numAttr(out.attrs, 'axis');
    return [g.sub(out.exp().mul(g.sum(axis, true)))];
  },
});
