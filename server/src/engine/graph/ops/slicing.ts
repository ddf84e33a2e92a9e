// Slice, Pad and Concat: each one's gradient is built from the others.
import { definePrimitive, type Attrs } from '../registry';
import { formatShape, normalizeAxis, UNKNOWN } from '../shape';
import { apply, decodeDims, type Dim, type Tensor } from '../tensor';
import { addInt, constantInt, dimValue, emitAs, intVector, numAttr, subInt } from './common';

function sliceBounds(
  dim: Dim,
  start: number | null,
  end: number | null,
): { from: number; to: number } | null {
  if (typeof dim !== 'number' || start === null || end === null) return null;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
  const from = clamp(start);
  return { from, to: Math.max(from, clamp(end)) };
}

definePrimitive({
  name: 'Slice',
  infer: (inputs, attrs: Attrs) => {
    const [x, s, e] = inputs as [Tensor, Tensor, Tensor];
    if (s.dtype !== 'int64' || e.dtype !== 'int64') throw new Error('Slice bounds must be int64');
    const axis = numAttr(attrs, 'axis');
    const shape = [...x.shape];
    const b = sliceBounds(x.shape[axis]!, constantInt(s), constantInt(e));
    if (attrs['size'] !== undefined) shape[axis] = JSON.parse(String(attrs['size'])) as Dim;
    else if (b) shape[axis] = b.to - b.from;
    else if (constantInt(s) === 0 && constantInt(e)! >= 2 ** 53 - 1) shape[axis] = x.shape[axis]!;
    else shape[axis] = UNKNOWN;
    return { dtype: x.dtype, shape };
  },
  emit: (ctx, out, inputs) => {
    const axis = numAttr(out.attrs, 'axis');
    ctx.node(
      'Slice',
      [inputs[0]!, inputs[1]!, inputs[2]!, ctx.constant('axes', 'int64', [1], [axis])],
      [ctx.nameOf(out.id)],
    );
  },
  backward: (out, g) => {
    // Pad the gradient with zeros back to the input's extent along the sliced axis.
    const [x, s] = out.inputs as [Tensor, Tensor];
    const graph = x.graph;
    const axis = numAttr(out.attrs, 'axis');
    const dimX = dimValue(graph, x.shape[axis]!);
    const s0 = constantInt(s);
    const begin = s0 !== null && s0 >= 0 ? s0 : s0 !== null ? addInt(graph, dimX, s0) : s;
    const end = subInt(graph, subInt(graph, dimX, begin), dimValue(graph, out.shape[axis]!));
    const pads: (number | Tensor)[] = new Array(2 * x.rank).fill(0);
    pads[axis] = begin;
    pads[x.rank + axis] = end;
    return [pad(g, intVector(graph, pads), x.shape), null, null];
  },
});

/** Zero padding; `pads` is ONNX's [begin_0, …, begin_n, end_0, …, end_n]. `shape` names the result's dims. */
export function pad(x: Tensor, pads: Tensor, shape?: readonly Dim[]): Tensor {
  const attrs: Attrs = {};
  if (shape) attrs['dims'] = JSON.stringify(shape);
  return apply('Pad', [x, pads], attrs);
}

definePrimitive({
  name: 'Pad',
  infer: (inputs, attrs) => {
    const [x, pads] = inputs as [Tensor, Tensor];
    if (pads.dtype !== 'int64' || pads.shape[0] !== 2 * x.rank) {
      throw new Error(`pads must be int64 [${2 * x.rank}], got ${pads.dtype} ${formatShape(pads.shape)}`);
    }
    if (attrs['dims'] !== undefined) return { dtype: x.dtype, shape: decodeDims(attrs['dims']) };
    const values =
      pads.op === 'Constant' && pads.data ? Array.from(pads.data as BigInt64Array, Number) : null;
    const shape = x.shape.map((d, i) =>
      values && typeof d === 'number'
        ? d + values[i]! + values[x.rank + i]!
        : values && !values[i] && !values[x.rank + i]
          ? d
          : UNKNOWN,
    );
    return { dtype: x.dtype, shape };
  },
  emit: emitAs('Pad'),
  backward: (out, g) => {
    const [x, pads] = out.inputs as [Tensor, Tensor];
    const graph = x.graph;
    const values =
      pads.op === 'Constant' && pads.data ? Array.from(pads.data as BigInt64Array, Number) : null;
    let r = g;
    for (let i = 0; i < x.rank; i++) {
      if (values && values[i] === 0 && values[x.rank + i] === 0) continue;
      const begin: number | Tensor = values ? values[i]! : pads.slice(0, i, i + 1);
      const end = addInt(graph, begin, dimValue(graph, x.shape[i]!));
      r = r.slice(i, begin, end, x.shape[i]!);
    }
    return [r, null];
  },
});

definePrimitive({
  name: 'Concat',
  infer: (inputs, attrs) => {
    const first = inputs[0]!;
    const axis = normalizeAxis(numAttr(attrs, 'axis'), first.rank);
    let total: Dim = 0;
    for (const t of inputs) {
      if (t.dtype !== first.dtype) throw new Error(`mixed dtypes ${first.dtype} and ${t.dtype}`);
      if (t.rank !== first.rank)
        throw new Error(`ranks differ: ${formatShape(first.shape)} and ${formatShape(t.shape)}`);
      t.shape.forEach((d, i) => {
        const f = first.shape[i]!;
        if (i !== axis && typeof d === 'number' && typeof f === 'number' && d !== f) {
          throw new Error(`dim ${i} differs: ${formatShape(first.shape)} and ${formatShape(t.shape)}`);
        }
      });
      const d = t.shape[axis]!;
      total = typeof total === 'number' && typeof d === 'number' ? total + d : UNKNOWN;
    }
    const shape = [...first.shape];
    shape[axis] = total;
    return { dtype: first.dtype, shape };
  },
  emit: emitAs('Concat', (a) => ({ axis: { int: numAttr(a, 'axis') } })),
  backward: (out, g, needs) => {
    const axis = numAttr(out.attrs, 'axis');
    let offset: number | Tensor = 0;
    return out.inputs.map((t, i) => {
      const len = dimValue(t.graph, t.shape[axis]!);
      const end = addInt(t.graph, offset, len);
      const piece = needs[i] ? g.slice(axis, offset, end, t.shape[axis]!) : null;
      offset = end;
      return piece;
    });
  },
});

export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  if (tensors.length === 1) return tensors[0]!;
  return apply('Concat', tensors, { axis: normalizeAxis(axis, tensors[0]!.rank) });
}
