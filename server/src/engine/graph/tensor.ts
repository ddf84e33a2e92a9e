// The tensor-expression builder: a Graph owns leaves (inputs, constants, weights) and every Tensor is the
// single output of one primitive applied to earlier tensors. Shapes are inferred as the expression is built.
import { fromNumbers, type DType, type TypedArray } from './dtype';
import { primitive, type Attrs } from './registry';

/** Stands for ±infinity in Slice bounds; ONNX clamps bounds to the dim. */
export const INT64_BIG = 2 ** 53 - 1;
import { formatShape, normalizeAxis, staticSize, UNKNOWN } from './shape';

/** A static size, or the name of a size known only at run time (`batch`, `seq`). */
export type Dim = number | string;

export type Operand = Tensor | number;

let graphCount = 0;

export class Graph {
  readonly id = ++graphCount;
  private nextTensorId = 0;
  private freshDims = 0;
  /** Where each symbolic dim can be read at run time: the first tensor that had it, and the axis. */
  private readonly dimSources = new Map<string, { tensor: Tensor; axis: number }>();
  private readonly scalars = new Map<string, Tensor>();
  private readonly dimTensors = new Map<string, Tensor>();
  private readonly names = new Set<string>();

  constructor(readonly name = 'graph') {}

  /** @internal */
  allocateId(): number {
    return this.nextTensorId++;
  }

  /** A value fed at run time. Symbolic dims named here can be used by later reshapes. */
  input(name: string, dtype: DType, shape: readonly Dim[]): Tensor {
    this.claimName(name);
    const t = new Tensor(this, 'Input', [], {}, dtype, [...shape]);
    t.name = name;
    this.registerDims(t);
    return t;
  }

  /** A named frozen tensor that is serialized as an initializer. */
  weight(name: string, data: TypedArray, shape: readonly number[]): Tensor {
    this.claimName(name);
    const t = this.constant(data, shape);
    t.name = name;
    return t;
  }

  /** An unnamed constant. `data` length must match the shape's size. */
  constant(data: TypedArray, shape: readonly number[]): Tensor {
    const size = staticSize(shape)!;
    if (data.length !== size) {
      throw new Error(`constant: ${data.length} values do not fill shape ${formatShape(shape)} (${size})`);
    }
    const t = new Tensor(this, 'Constant', [], {}, dtypeOf(data), [...shape]);
    t.data = data;
    return t;
  }

  /** A 0-d constant, shared between uses. */
  scalar(value: number, dtype: DType): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    let t = this.scalars.get(key);
    if (!t) {
      t = this.constant(fromNumbers(dtype, [value]), []);
      this.scalars.set(key, t);
    }
    return t;
  }

  /** A 1-d int64 constant. */
  ints(values: readonly number[]): Tensor {
    return this.constant(fromNumbers('int64', values), [values.length]);
  }

  /** A 1-element int64 tensor holding `dim`'s run-time value. */
  dimTensor(dim: Dim): Tensor {
    if (typeof dim === 'number') return this.ints([dim]);
    let t = this.dimTensors.get(dim);
    if (!t) {
      const src = this.dimSources.get(dim);
      if (!src) throw new Error(`symbolic dim "${dim}" has no source tensor in graph "${this.name}"`);
      t = apply('Shape', [src.tensor], { start: src.axis, end: src.axis + 1 });
      this.dimTensors.set(dim, t);
    }
    return t;
  }

  /** A 1-d int64 tensor holding a whole shape; -1 passes through (for Reshape's inferred dim). */
  shapeTensor(dims: readonly Dim[]): Tensor {
    if (dims.every((d) => typeof d === 'number')) return this.ints(dims as number[]);
    // Consecutive static dims share one constant; symbolic ones come from Shape nodes.
    const parts: Tensor[] = [];
    let run: number[] = [];
    for (const d of dims) {
      if (typeof d === 'number') run.push(d);
      else {
        if (run.length) parts.push(this.ints(run));
        run = [];
        parts.push(this.dimTensor(d));
      }
    }
    if (run.length) parts.push(this.ints(run));
    return parts.length === 1 ? parts[0]! : apply('Concat', parts, { axis: 0 });
  }

  /** @internal Gives every unknown dim of `t` a fresh name, then records where each new symbol lives. */
  registerDims(t: Tensor): void {
    t.shape.forEach((d, axis) => {
      if (typeof d !== 'string') return;
      let name = d;
      if (d === UNKNOWN) {
        name = `_d${++this.freshDims}`;
        (t.shape as Dim[])[axis] = name;
      }
      if (!this.dimSources.has(name)) this.dimSources.set(name, { tensor: t, axis });
    });
  }

  private claimName(name: string): void {
    if (this.names.has(name)) throw new Error(`graph "${this.name}": the name "${name}" is used twice`);
    this.names.add(name);
  }
}

function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  return 'float16';
}

export class Tensor {
  readonly id: number;
  /** Set on graph inputs, weights and named outputs. */
  name?: string;
  /** Values of a Constant leaf. */
  data?: TypedArray;
  /**
   * A cheap way to compute this tensor again after `anchor` exists (a frozen weight's float32 cast). The
   * backward pass uses it instead of this tensor, so that the forward copy need not live until then.
   */
  rematerialize?: (anchor: Tensor) => Tensor;

  constructor(
    readonly graph: Graph,
    readonly op: string,
    readonly inputs: readonly Tensor[],
    readonly attrs: Readonly<Attrs>,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
  ) {
    this.id = graph.allocateId();
  }

  get rank(): number {
    return this.shape.length;
  }

  get isLeaf(): boolean {
    return this.op === 'Input' || this.op === 'Constant';
  }

  toString(): string {
    return `${this.name ?? `${this.op}#${this.id}`}: ${this.dtype} ${formatShape(this.shape)}`;
  }

  /** Turns a JS number into a scalar of this tensor's dtype, for `x.mul(0.5)`. */
  lift(v: Operand): Tensor {
    return typeof v === 'number' ? this.graph.scalar(v, this.dtype) : v;
  }

  add(o: Operand): Tensor {
    return apply('Add', [this, this.lift(o)]);
  }
  sub(o: Operand): Tensor {
    return apply('Sub', [this, this.lift(o)]);
  }
  mul(o: Operand): Tensor {
    return apply('Mul', [this, this.lift(o)]);
  }
  div(o: Operand): Tensor {
    return apply('Div', [this, this.lift(o)]);
  }
  pow(o: Operand): Tensor {
    return apply('Pow', [this, this.lift(o)]);
  }
  neg(): Tensor {
    return apply('Neg', [this]);
  }
  sqrt(): Tensor {
    return apply('Sqrt', [this]);
  }
  reciprocal(): Tensor {
    return apply('Reciprocal', [this]);
  }
  exp(): Tensor {
    return apply('Exp', [this]);
  }
  log(): Tensor {
    return apply('Log', [this]);
  }
  tanh(): Tensor {
    return apply('Tanh', [this]);
  }
  erf(): Tensor {
    return apply('Erf', [this]);
  }
  sigmoid(): Tensor {
    return apply('Sigmoid', [this]);
  }
  cos(): Tensor {
    return apply('Cos', [this]);
  }
  sin(): Tensor {
    return apply('Sin', [this]);
  }
  matmul(o: Tensor): Tensor {
    return apply('MatMul', [this, o]);
  }
  softmax(axis = -1): Tensor {
    return apply('Softmax', [this], { axis: normalizeAxis(axis, this.rank) });
  }
  logSoftmax(axis = -1): Tensor {
    return apply('LogSoftmax', [this], { axis: normalizeAxis(axis, this.rank) });
  }
  sum(axes: number | number[], keepdims = false): Tensor {
    return reduce('ReduceSum', this, axes, keepdims);
  }
  mean(axes: number | number[], keepdims = false): Tensor {
    return reduce('ReduceMean', this, axes, keepdims);
  }
  max(axes: number | number[], keepdims = false): Tensor {
    return reduce('ReduceMax', this, axes, keepdims);
  }
  /** Reshape to `dims`; names and numbers may be mixed, and one -1 is inferred. */
  reshape(dims: readonly Dim[]): Tensor {
    return apply('Reshape', [this, this.graph.shapeTensor(dims)], { dims: encodeDims(dims) });
  }
  transpose(perm: readonly number[]): Tensor {
    return apply('Transpose', [this], { perm: [...perm] });
  }
  unsqueeze(axes: number | number[]): Tensor {
    return apply('Unsqueeze', [this], { axes: toList(axes) });
  }
  squeeze(axes: number | number[]): Tensor {
    return apply('Squeeze', [this], { axes: toList(axes) });
  }
  cast(dtype: DType): Tensor {
    return dtype === this.dtype ? this : apply('Cast', [this], { to: dtype });
  }
  /**
   * This tensor, but computed only once `anchor` has been: a Reshape to its own shape whose shape input is
   * derived from the anchor's run-time size along `axis` (times 0). onnxruntime runs a node as soon as its
   * inputs exist, so a weight's Cast would otherwise run at the start, and every layer's float32 copy would
   * be alive at once. `axis` must be a run-time (symbolic) axis of the anchor, or constant folding removes
   * the dependency.
   */
  after(anchor: Tensor, axis: number): Tensor {
    const size = apply('Shape', [anchor], { start: axis, end: axis + 1 });
    const shape = this.graph.ints(this.shape as number[]).add(size.mul(this.graph.ints([0])));
    return apply('Reshape', [this, shape], { dims: JSON.stringify(this.shape) });
  }
  /**
   * Elements [start, end) along `axis`, step 1. `end` may be Infinity (to the end); negative numbers count
   * from the end. Tensor bounds (1-element int64) are read at run time; `size` then names the result's dim.
   */
  slice(axis: number, start: number | Tensor, end: number | Tensor = Infinity, size?: Dim): Tensor {
    const bound = (v: number | Tensor): Tensor =>
      typeof v === 'number' ? this.graph.ints([Number.isFinite(v) ? v : v > 0 ? INT64_BIG : -INT64_BIG]) : v;
    const attrs: Attrs = { axis: normalizeAxis(axis, this.rank) };
    if (size !== undefined) attrs['size'] = JSON.stringify(size);
    return apply('Slice', [this, bound(start), bound(end)], attrs);
  }
  /** `take` along `axis` (embedding lookup with axis 0). */
  gather(indices: Tensor, axis = 0): Tensor {
    return apply('Gather', [this, indices], { axis: normalizeAxis(axis, this.rank) });
  }
  expand(dims: readonly Dim[]): Tensor {
    return apply('Expand', [this, this.graph.shapeTensor(dims)], { dims: encodeDims(dims) });
  }
  /** The same values, through which no gradient flows. */
  stopGradient(): Tensor {
    return apply('StopGradient', [this]);
  }
}

function toList(axes: number | number[]): number[] {
  return Array.isArray(axes) ? [...axes] : [axes];
}

function reduce(op: string, x: Tensor, axes: number | number[], keepdims: boolean): Tensor {
  const list = [...new Set(toList(axes).map((a) => normalizeAxis(a, x.rank)))].sort((a, b) => a - b);
  if (list.length === 0) throw new Error(`${op}: no axes given`);
  return apply(op, [x], { axes: list, keepdims });
}

/** Attributes hold only numbers and strings; dims travel as a string so they survive as one attribute. */
function encodeDims(dims: readonly Dim[]): string {
  return JSON.stringify(dims);
}

export function decodeDims(encoded: unknown): Dim[] {
  return JSON.parse(String(encoded)) as Dim[];
}

/** Applies a primitive: infers the output's type, names unknown dims, and returns the new tensor. */
export function apply(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
  const p = primitive(op);
  if (inputs.length === 0) throw new Error(`${op}: needs at least one input`);
  const graph = inputs[0]!.graph;
  for (const t of inputs) {
    if (t.graph !== graph) throw new Error(`${op}: inputs come from different graphs`);
  }
  let inferred;
  try {
    inferred = p.infer(inputs, attrs);
  } catch (e) {
    const shapes = inputs.map((t) => `${t.dtype} ${formatShape(t.shape)}`).join(', ');
    throw new Error(`${op}(${shapes}): ${(e as Error).message}`);
  }
  const out = new Tensor(graph, op, inputs, attrs, inferred.dtype, [...inferred.shape]);
  graph.registerDims(out);
  return out;
}

/** Helpers shared by backward rules. */
export function zerosLike(t: Tensor): Tensor {
  return t.graph.scalar(0, t.dtype).expand(t.shape);
}
