// Pieces that many primitives share: plain emitters, attribute conversion, and broadcast reduction.
import type { EmitAttr, EmitContext } from '../emit-context';
import type { Attrs } from '../registry';
import { broadcastAxes } from '../shape';
import { apply, type Dim, type Graph, type Tensor } from '../tensor';

/** An emitter for a primitive that maps 1:1 to an ONNX op with the given attributes. */
export function emitAs(
  onnxOp: string,
  attrsOf?: (attrs: Readonly<Attrs>, out: Tensor) => Record<string, EmitAttr>,
) {
  return (ctx: EmitContext, out: Tensor, inputs: string[]): void => {
    ctx.node(onnxOp, inputs, [ctx.nameOf(out.id)], attrsOf?.(out.attrs, out));
  };
}

export function numAttr(attrs: Readonly<Attrs>, key: string): number {
  const v = attrs[key];
  if (typeof v !== 'number') throw new Error(`attribute "${key}" must be a number, got ${String(v)}`);
  return v;
}

export function listAttr(attrs: Readonly<Attrs>, key: string): number[] {
  const v = attrs[key];
  if (!Array.isArray(v)) throw new Error(`attribute "${key}" must be a list, got ${String(v)}`);
  return v;
}

/**
 * Sums a gradient that arrived with a broadcast shape back to the shape of the tensor that was broadcast.
 */
export function unbroadcast(grad: Tensor, source: Tensor): Tensor {
  if (grad.rank === source.rank && grad.shape.every((d, i) => d === source.shape[i])) return grad;
  const { lead, keep } = broadcastAxes(grad.shape, source.shape);
  const leadAxes = Array.from({ length: lead }, (_, i) => i);
  let g = grad;
  const axes = [...leadAxes, ...keep];
  if (axes.length > 0) g = g.sum(axes, true);
  if (lead > 0) g = g.squeeze(leadAxes);
  return g;
}

/** A 1-d int64 tensor from numbers and 1-element int64 tensors (static parts become one constant). */
export function intVector(graph: Graph, parts: readonly (number | Tensor)[]): Tensor {
  if (parts.every((p) => typeof p === 'number')) return graph.ints(parts as number[]);
  const pieces: Tensor[] = [];
  let run: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') run.push(p);
    else {
      if (run.length) pieces.push(graph.ints(run));
      run = [];
      pieces.push(p);
    }
  }
  if (run.length) pieces.push(graph.ints(run));
  return pieces.length === 1 ? pieces[0]! : apply('Concat', pieces, { axis: 0 });
}

/** The value of a 1-element int64 constant, or null when it is computed at run time. */
export function constantInt(t: Tensor): number | null {
  if (t.op !== 'Constant' || !t.data || t.data.length !== 1) return null;
  return Number(t.data[0]);
}

/** A dim as a number when static, else as a 1-element int64 tensor read at run time. */
export function dimValue(graph: Graph, d: Dim): number | Tensor {
  return typeof d === 'number' ? d : graph.dimTensor(d);
}

/** a + b over numbers or 1-element int64 tensors. */
export function addInt(graph: Graph, a: number | Tensor, b: number | Tensor): number | Tensor {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  return asIntTensor(graph, a).add(asIntTensor(graph, b));
}

export function subInt(graph: Graph, a: number | Tensor, b: number | Tensor): number | Tensor {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return asIntTensor(graph, a).sub(asIntTensor(graph, b));
}

function asIntTensor(graph: Graph, v: number | Tensor): Tensor {
  return typeof v === 'number' ? graph.ints([v]) : v;
}
