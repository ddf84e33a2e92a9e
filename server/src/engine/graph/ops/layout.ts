// Primitives that move or re-view data: Reshape, Expand, Transpose, Unsqueeze, Squeeze, and Shape.
import { definePrimitive } from '../registry';
import { broadcastShapes, formatShape, normalizeAxis, staticSize, UNKNOWN } from '../shape';
import { decodeDims, type Dim, type Tensor } from '../tensor';
import { emitAs, listAttr, numAttr, unbroadcast } from './common';

definePrimitive({
  name: 'Reshape',
  infer: (inputs, attrs) => {
    const x = inputs[0]!;
    const dims = decodeDims(attrs['dims']);
    const inferredAt = dims.indexOf(-1);
    if (dims.filter((d) => d === -1).length > 1) throw new Error(`at most one -1 in ${formatShape(dims)}`);
    const out: Dim[] = [...dims];
    const known = staticSize(x.shape);
    if (inferredAt >= 0) {
      const rest = staticSize(dims.filter((d) => d !== -1));
      out[inferredAt] = known !== null && rest !== null ? known / rest : UNKNOWN;
      if (typeof out[inferredAt] === 'number' && !Number.isInteger(out[inferredAt])) {
        throw new Error(`cannot reshape ${formatShape(x.shape)} to ${formatShape(dims)}`);
      }
    } else {
      const size = staticSize(dims);
      if (known !== null && size !== null && known !== size) {
        throw new Error(
          `cannot reshape ${formatShape(x.shape)} (${known} elements) to ${formatShape(dims)} (${size})`,
        );
      }
    }
    return { dtype: x.dtype, shape: out };
  },
  emit: emitAs('Reshape'),
  backward: (out, g) => [g.reshape(out.inputs[0]!.shape)],
});

definePrimitive({
  name: 'Expand',
  infer: (inputs, attrs) => ({
    dtype: inputs[0]!.dtype,
    shape: broadcastShapes(inputs[0]!.shape, decodeDims(attrs['dims']), 'Expand'),
  }),
  emit: emitAs('Expand'),
  backward: (out, g) => [unbroadcast(g, out.inputs[0]!)],
});

definePrimitive({
  name: 'Transpose',
  infer: (inputs, attrs) => {
    const x = inputs[0]!;
    const perm = listAttr(attrs, 'perm');
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
      throw new Error(`perm [${perm.join(', ')}] is not a permutation of rank ${x.rank}`);
    }
    return { dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) };
  },
  emit: emitAs('Transpose', (a) => ({ perm: { ints: listAttr(a, 'perm') } })),
  backward: (out, g) => {
    const perm = listAttr(out.attrs, 'perm');
    const inverse: number[] = [];
    perm.forEach((p, i) => (inverse[p] = i));
    return [g.transpose(inverse)];
  },
});

function axesInput(name: string) {
  return (ctx: import('../emit-context').EmitContext, out: Tensor, inputs: string[]): void => {
    const axes = listAttr(out.attrs, 'axes');
    ctx.node(name, [inputs[0]!, ctx.constant('axes', 'int64', [axes.length], axes)], [ctx.nameOf(out.id)]);
  };
}

definePrimitive({
  name: 'Unsqueeze',
  infer: (inputs, attrs) => {
    const x = inputs[0]!;
    const rank = x.rank + listAttr(attrs, 'axes').length;
    const axes = listAttr(attrs, 'axes').map((a) => normalizeAxis(a, rank));
    const out: Dim[] = [];
    let src = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x.shape[src++]!);
    return { dtype: x.dtype, shape: out };
  },
  emit: axesInput('Unsqueeze'),
  backward: (out, g) => [g.squeeze(listAttr(out.attrs, 'axes').map((a) => normalizeAxis(a, out.rank)))],
});

definePrimitive({
  name: 'Squeeze',
  infer: (inputs, attrs) => {
    const x = inputs[0]!;
    const axes = listAttr(attrs, 'axes').map((a) => normalizeAxis(a, x.rank));
    for (const a of axes) {
      if (x.shape[a] !== 1 && typeof x.shape[a] === 'number')
        throw new Error(`axis ${a} has size ${x.shape[a]}, not 1`);
    }
    return { dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) };
  },
  emit: axesInput('Squeeze'),
  backward: (out, g) => {
    const x = out.inputs[0]!;
    return [g.unsqueeze(listAttr(out.attrs, 'axes').map((a) => normalizeAxis(a, x.rank)))];
  },
});

definePrimitive({
  name: 'Shape',
  infer: (inputs, attrs) => {
    const x = inputs[0]!;
    const start = numAttr(attrs, 'start');
    const end = attrs['end'] === undefined ? x.rank : numAttr(attrs, 'end');
    return { dtype: 'int64', shape: [end - start] };
  },
  emit: emitAs('Shape', (a, out) => {
    const rank = out.inputs[0]!.rank;
    return {
      start: { int: numAttr(a, 'start') },
      end: { int: a['end'] === undefined ? rank : numAttr(a, 'end') },
    };
  }),
});
