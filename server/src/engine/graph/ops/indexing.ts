// Index-driven primitives: Gather (its gradient is a scatter-add), ScatterND, GatherND, and Range.
import { definePrimitive } from '../registry';
import { formatShape, UNKNOWN } from '../shape';
import { apply, zerosLike, type Dim, type Tensor } from '../tensor';
import { emitAs, numAttr } from './common';

function requireIndices(t: Tensor, op: string): void {
  if (t.dtype !== 'int64' && t.dtype !== 'int32')
    throw new Error(`${op}: indices must be int64 or int32, got ${t.dtype}`);
}

definePrimitive({
  name: 'Gather',
  infer: (inputs, attrs) => {
    const [data, idx] = inputs as [Tensor, Tensor];
    requireIndices(idx, 'Gather');
    const axis = numAttr(attrs, 'axis');
    return {
      dtype: data.dtype,
      shape: [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)],
    };
  },
  emit: emitAs('Gather', (a) => ({ axis: { int: numAttr(a, 'axis') } })),
  backward: (out, g) => {
    const [data, idx] = out.inputs as [Tensor, Tensor];
    const axis = numAttr(out.attrs, 'axis');
    const q = idx.rank;
    const r = data.rank;
    // Scatter-add into zeros laid out with `axis` first, so that ScatterND indexes its leading dim.
    const range = (a: number, b: number): number[] =>
      Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
    const gFront =
      axis === 0
        ? g
        : g.transpose([...range(axis, axis + q), ...range(0, axis), ...range(axis + q, q + r - 1)]);
    const dataFront = axis === 0 ? data : data.transpose([axis, ...range(0, axis), ...range(axis + 1, r)]);
    const summed = scatterAdd(zerosLike(dataFront), idx.cast('int64').unsqueeze(q), gFront);
    const back = axis === 0 ? summed : summed.transpose([...range(1, axis + 1), 0, ...range(axis + 1, r)]);
    return [back, null];
  },
});

/** data with `updates` added at `indices` (ONNX ScatterND, reduction "add"; repeated indices accumulate). */
export function scatterAdd(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  return apply('ScatterND', [data, indices, updates], { reduction: 'add' });
}

export function gatherND(data: Tensor, indices: Tensor): Tensor {
  return apply('GatherND', [data, indices]);
}

definePrimitive({
  name: 'ScatterND',
  infer: (inputs) => {
    const [data, idx, upd] = inputs as [Tensor, Tensor, Tensor];
    if (idx.dtype !== 'int64') throw new Error(`ScatterND: indices must be int64, got ${idx.dtype}`);
    if (upd.dtype !== data.dtype)
      throw new Error(`ScatterND: updates are ${upd.dtype}, data is ${data.dtype}`);
    return { dtype: data.dtype, shape: data.shape };
  },
  emit: emitAs('ScatterND', (a) => ({ reduction: { string: String(a['reduction'] ?? 'none') } })),
  backward: (out, g, needs) => {
    if (out.attrs['reduction'] !== 'add')
      throw new Error('ScatterND: only the "add" reduction is differentiable');
    const idx = out.inputs[1]!;
    return [needs[0] ? g : null, null, needs[2] ? gatherND(g, idx) : null];
  },
});

definePrimitive({
  name: 'GatherND',
  infer: (inputs) => {
    const [data, idx] = inputs as [Tensor, Tensor];
    if (idx.dtype !== 'int64') throw new Error(`GatherND: indices must be int64, got ${idx.dtype}`);
    const k = idx.shape[idx.rank - 1];
    if (typeof k !== 'number')
      throw new Error(`GatherND: the last dim of indices must be static, got ${formatShape(idx.shape)}`);
    return { dtype: data.dtype, shape: [...idx.shape.slice(0, -1), ...data.shape.slice(k)] };
  },
  emit: emitAs('GatherND'),
  backward: (out, g, needs) => {
    const [data, idx] = out.inputs as [Tensor, Tensor];
    return [needs[0] ? scatterAdd(zerosLike(data), idx, g) : null, null];
  },
});

definePrimitive({
  name: 'Range',
  infer: (inputs) => {
    const [start, limit, delta] = inputs as [Tensor, Tensor, Tensor];
    for (const t of inputs)
      if (t.rank !== 0) throw new Error(`Range takes scalars, got ${formatShape(t.shape)}`);
    const c = (t: Tensor): number | null => (t.op === 'Constant' && t.data ? Number(t.data[0]) : null);
    const [s, l, d] = [c(start), c(limit), c(delta)];
    const n: Dim = s !== null && l !== null && d !== null ? Math.max(0, Math.ceil((l - s) / d)) : UNKNOWN;
    return { dtype: start.dtype, shape: [n] };
  },
  emit: emitAs('Range'),
});

/** [start, start+1, …, limit-1] as int64; bounds are int64 scalars or numbers. */
export function range(start: Tensor, limit: Tensor, size?: Dim): Tensor {
  const t = apply('Range', [start, limit, start.graph.scalar(1, start.dtype)]);
  return size === undefined ? t : t.reshape([size]);
}
