// Elementwise primitives: broadcasting arithmetic, unary math, comparisons, Where and Cast.
import { isFloat, ONNX_DTYPE, type DType } from '../dtype';
import type { EmitContext } from '../emit-context';
import { definePrimitive, type Attrs, type InferredType } from '../registry';
import { broadcastShapes } from '../shape';
import { apply, type Tensor } from '../tensor';
import { emitAs, unbroadcast } from './common';

function sameDtype(inputs: readonly Tensor[], op: string): DType {
  const d = inputs[0]!.dtype;
  for (const t of inputs) {
    if (t.dtype !== d)
      throw new Error(`${op}: mixed dtypes ${inputs.map((x) => x.dtype).join(' and ')}; Cast first`);
  }
  return d;
}

function binaryInfer(op: string) {
  return (inputs: readonly Tensor[]): InferredType => ({
    dtype: sameDtype(inputs, op),
    shape: broadcastShapes(inputs[0]!.shape, inputs[1]!.shape, op),
  });
}

function unaryInfer(floatOnly: boolean, op: string) {
  return (inputs: readonly Tensor[]): InferredType => {
    const x = inputs[0]!;
    if (floatOnly && !isFloat(x.dtype)) throw new Error(`${op} needs a float tensor, got ${x.dtype}`);
    return { dtype: x.dtype, shape: x.shape };
  };
}

definePrimitive({
  name: 'Add',
  infer: binaryInfer('Add'),
  emit: emitAs('Add'),
  backward: (out, g, needs) => [
    needs[0] ? unbroadcast(g, out.inputs[0]!) : null,
    needs[1] ? unbroadcast(g, out.inputs[1]!) : null,
  ],
});

definePrimitive({
  name: 'Sub',
  infer: binaryInfer('Sub'),
  emit: emitAs('Sub'),
  backward: (out, g, needs) => [
    needs[0] ? unbroadcast(g, out.inputs[0]!) : null,
    needs[1] ? unbroadcast(g.neg(), out.inputs[1]!) : null,
  ],
});

definePrimitive({
  name: 'Mul',
  infer: binaryInfer('Mul'),
  emit: emitAs('Mul'),
  backward: (out, g, needs) => {
    const [a, b] = out.inputs as [Tensor, Tensor];
    // x·x: one 2·g·x instead of two g·x that would then be summed.
    if (a === b) return [unbroadcast(g.mul(a.mul(2)), a), null];
    return [needs[0] ? unbroadcast(g.mul(b), a) : null, needs[1] ? unbroadcast(g.mul(a), b) : null];
  },
});

definePrimitive({
  name: 'Div',
  infer: binaryInfer('Div'),
  emit: emitAs('Div'),
  backward: (out, g, needs) => {
    const [a, b] = out.inputs as [Tensor, Tensor];
    // d(a/b)/db = -a/b² = -out/b
    return [
      needs[0] ? unbroadcast(g.div(b), a) : null,
      needs[1] ? unbroadcast(g.mul(out).div(b).neg(), b) : null,
    ];
  },
});

definePrimitive({
  name: 'Pow',
  infer: binaryInfer('Pow'),
  emit: emitAs('Pow'),
  backward: (out, g, needs) => {
    const [a, b] = out.inputs as [Tensor, Tensor];
    return [
      needs[0] ? unbroadcast(g.mul(b).mul(a.pow(b.sub(1))), a) : null,
      needs[1] ? unbroadcast(g.mul(out).mul(a.log()), b) : null,
    ];
  },
});

/** A unary float primitive whose gradient is `g * local(x, out)`. */
function unary(name: string, local: ((x: Tensor, out: Tensor) => Tensor) | null, emit = emitAs(name)): void {
  definePrimitive({
    name,
    infer: unaryInfer(name !== 'Neg', name),
    emit,
    backward: local ? (out, g) => [g.mul(local(out.inputs[0]!, out))] : undefined,
  });
}

definePrimitive({
  name: 'Neg',
  infer: unaryInfer(false, 'Neg'),
  emit: emitAs('Neg'),
  backward: (_out, g) => [g.neg()],
});
unary('Sqrt', (_x, y) => y.reciprocal().mul(0.5));
unary('Reciprocal', (_x, y) => y.mul(y).neg());
unary('Exp', (_x, y) => y);
unary('Log', (x) => x.reciprocal());
unary('Tanh', (_x, y) => y.graph.scalar(1, y.dtype).sub(y.mul(y)));
// σ' = σ − σ²: two full-size ops, and no Neg (ORT's Neg kernel is single-threaded).
unary('Sigmoid', (_x, y) => y.sub(y.mul(y)));
unary('Cos', (x) => x.sin().neg());
unary('Sin', (x) => x.cos());
unary(
  'Erf',
  (x) =>
    x
      .mul(x)
      .neg()
      .exp()
      .mul(2 / Math.sqrt(Math.PI)),
  emitErf,
);

/**
 * ORT's CPU Erf kernel is float32-only. Float64 graphs (the gradient checks) get erf from the series
 * erf(x) = 2/√π · e^(−x²) · x · Σ (2x²)ⁿ / (3·5···(2n+1)), whose terms are all positive (no cancellation);
 * 100 terms reach double precision for |x| ≤ 6, and |erf(x)| rounds to 1 beyond.
 */
function emitErf(ctx: EmitContext, out: Tensor, inputs: string[]): void {
  if (out.dtype !== 'float64') {
    ctx.node('Erf', inputs, [ctx.nameOf(out.id)]);
    return;
  }
  const c = (v: number): string => ctx.constant('erf_c', 'float64', [], [v]);
  const xc = ctx.fresh('erf_x');
  ctx.node('Clip', [inputs[0]!, c(-6), c(6)], [xc]);
  const x2 = ctx.fresh('erf_2x2');
  const sq = ctx.fresh('erf_sq');
  ctx.node('Mul', [xc, xc], [sq]);
  ctx.node('Mul', [sq, c(2)], [x2]);
  let s = c(1);
  for (let n = 100; n >= 1; n--) {
    const t1 = ctx.fresh('erf_t');
    const t2 = ctx.fresh('erf_t');
    const t3 = ctx.fresh('erf_s');
    ctx.node('Mul', [s, x2], [t1]);
    ctx.node('Mul', [t1, c(1 / (2 * n + 1))], [t2]);
    ctx.node('Add', [t2, c(1)], [t3]);
    s = t3;
  }
  const negsq = ctx.fresh('erf_nsq');
  const e = ctx.fresh('erf_e');
  const xs = ctx.fresh('erf_xs');
  const ex = ctx.fresh('erf_ex');
  ctx.node('Neg', [sq], [negsq]);
  ctx.node('Exp', [negsq], [e]);
  ctx.node('Mul', [xc, s], [xs]);
  ctx.node('Mul', [xs, e], [ex]);
  ctx.node('Mul', [ex, c(2 / Math.sqrt(Math.PI))], [ctx.nameOf(out.id)]);
}

definePrimitive({
  name: 'StopGradient',
  infer: (inputs) => ({ dtype: inputs[0]!.dtype, shape: inputs[0]!.shape }),
  emit: emitAs('Identity'),
  backward: () => [null],
});

definePrimitive({
  name: 'Identity',
  infer: (inputs) => ({ dtype: inputs[0]!.dtype, shape: inputs[0]!.shape }),
  emit: emitAs('Identity'),
  backward: (_out, g) => [g],
});

function comparison(name: string): void {
  definePrimitive({
    name,
    infer: (inputs) => {
      sameDtype(inputs, name);
      return { dtype: 'bool', shape: broadcastShapes(inputs[0]!.shape, inputs[1]!.shape, name) };
    },
    emit: emitAs(name),
  });
}
comparison('Equal');
comparison('Less');
comparison('Greater');

definePrimitive({
  name: 'Where',
  infer: (inputs) => {
    const [c, a, b] = inputs as [Tensor, Tensor, Tensor];
    if (c.dtype !== 'bool') throw new Error(`Where: condition must be bool, got ${c.dtype}`);
    const dtype = sameDtype([a, b], 'Where');
    return { dtype, shape: broadcastShapes(broadcastShapes(c.shape, a.shape, 'Where'), b.shape, 'Where') };
  },
  emit: emitAs('Where'),
  backward: (out, g, needs) => {
    const [c, a, b] = out.inputs as [Tensor, Tensor, Tensor];
    const zero = g.graph.scalar(0, g.dtype);
    return [
      null,
      needs[1] ? unbroadcast(where(c, g, zero), a) : null,
      needs[2] ? unbroadcast(where(c, zero, g), b) : null,
    ];
  },
});

export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return apply('Where', [cond, a, b]);
}

export function equal(a: Tensor, b: Tensor): Tensor {
  return apply('Equal', [a, b]);
}

export function less(a: Tensor, b: Tensor): Tensor {
  return apply('Less', [a, b]);
}

export function greater(a: Tensor, b: Tensor): Tensor {
  return apply('Greater', [a, b]);
}

definePrimitive({
  name: 'Cast',
  infer: (inputs, attrs: Attrs) => ({ dtype: attrs['to'] as DType, shape: inputs[0]!.shape }),
  emit: (ctx, out, inputs) =>
    ctx.node('Cast', inputs, [ctx.nameOf(out.id)], { to: { int: ONNX_DTYPE[out.dtype] } }),
  backward: (out, g) => {
    const x = out.inputs[0]!;
    return [isFloat(x.dtype) && isFloat(out.dtype) ? g.cast(x.dtype) : null];
  },
});
