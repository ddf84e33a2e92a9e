// Every primitive's backward rule against central finite differences in float64.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Graph,
  gradients,
  apply,
  concat,
  equal,
  gatherND,
  matmulTransB,
  greater,
  pad,
  scatterAdd,
  where,
  type Tensor,
} from '../../server/src/engine/graph/index';
import { gradCheck } from '../helpers/gradcheck';
import { definePrimitive } from '../../server/src/engine/graph/registry';
import { evaluate } from '../helpers/evaluate';
import { f64 } from '../../server/src/engine/runtime/host-tensor';

const positive = (n: number, lo = 0.5, hi = 2.5): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((i * 0.618) % 1) * (hi - lo));
const awayFromZero = (n: number): number[] =>
  Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (0.5 + ((i * 0.37) % 1.5)));

describe('broadcasting arithmetic', () => {
  for (const op of ['add', 'sub', 'mul'] as const) {
    it(`${op} with broadcasting, zeros and negatives`, async () => {
      await gradCheck(
        (a, b) => a[op](b),
        [
          { name: 'a', shape: [2, 3, 4] },
          { name: 'b', shape: [3, 1] },
        ],
      );
      await gradCheck(
        (a, b) => a[op](b),
        [
          { name: 'a', shape: [4] },
          { name: 'b', shape: [2, 1, 4] },
        ],
      );
      await gradCheck(
        (a, b) => a[op](b),
        [
          { name: 'a', shape: [] },
          { name: 'b', shape: [2, 3] },
        ],
      );
    });
  }
  it('div with broadcasting', async () => {
    await gradCheck(
      (a, b) => a.div(b),
      [
        { name: 'a', shape: [2, 3] },
        { name: 'b', shape: [3], values: awayFromZero(3) },
      ],
    );
    await gradCheck(
      (a, b) => a.div(b),
      [
        { name: 'a', shape: [1, 3] },
        { name: 'b', shape: [2, 1], values: awayFromZero(2) },
      ],
    );
  });
  it('pow: base and exponent', async () => {
    await gradCheck(
      (a, b) => a.pow(b),
      [
        { name: 'a', shape: [2, 3], values: positive(6) },
        { name: 'b', shape: [3] },
      ],
    );
    // An integer exponent is defined for negative bases too.
    await gradCheck((a) => a.pow(3), [{ name: 'a', shape: [5], values: [-1.5, -0.2, 0, 0.7, 1.9] }]);
  });
  it('sums gradients that arrive along several paths', async () => {
    await gradCheck((x) => x.mul(x).add(x.sin()).sub(x.mul(3)), [{ name: 'x', shape: [3, 2] }]);
  });
});

describe('unary math', () => {
  const cases: [string, (x: Tensor) => Tensor, number[] | undefined][] = [
    ['neg', (x) => x.neg(), undefined],
    ['sqrt', (x) => x.sqrt(), positive(6)],
    ['reciprocal', (x) => x.reciprocal(), awayFromZero(6)],
    ['exp', (x) => x.exp(), undefined],
    ['log', (x) => x.log(), positive(6)],
    ['tanh', (x) => x.tanh(), undefined],
    ['erf', (x) => x.erf(), undefined],
    ['sigmoid', (x) => x.sigmoid(), undefined],
    ['cos', (x) => x.cos(), undefined],
    ['sin', (x) => x.sin(), undefined],
    ['identity', (x) => apply('Identity', [x]), undefined],
  ];
  for (const [name, f, values] of cases) {
    it(name, async () => {
      await gradCheck(f, [{ name: 'x', shape: [2, 3], values }]);
    });
  }
  it('stopGradient passes nothing back', async () => {
    // d/dx [stop(x) · x] = stop(x): only the unstopped path contributes.
    const g = new Graph('stop');
    const x = g.input('x', 'float64', [4]);
    const [dx] = gradients(x.stopGradient().mul(x).sum(0), [x]);
    const values = [1.5, -2, 0, 0.25];
    const out = await evaluate({ dx: dx! }, { x: f64([4], values) });
    assert.deepEqual(Array.from(out.dx!.data as Float64Array), values);
  });
});

describe('softmax and reductions', () => {
  it('softmax on the last and a middle axis', async () => {
    await gradCheck((x) => x.softmax(-1), [{ name: 'x', shape: [2, 3, 4] }]);
    await gradCheck((x) => x.softmax(1), [{ name: 'x', shape: [2, 3, 4] }]);
  });
  it('logSoftmax', async () => {
    await gradCheck((x) => x.logSoftmax(-1), [{ name: 'x', shape: [3, 5] }]);
    await gradCheck((x) => x.logSoftmax(0), [{ name: 'x', shape: [3, 5] }]);
  });
  for (const keep of [true, false]) {
    it(`reduceSum / reduceMean, keepdims ${keep}`, async () => {
      await gradCheck((x) => x.sum([0, 2], keep), [{ name: 'x', shape: [2, 3, 4] }]);
      await gradCheck((x) => x.mean(1, keep), [{ name: 'x', shape: [2, 3, 4] }]);
      await gradCheck((x) => x.mean([0, 1, 2], keep), [{ name: 'x', shape: [2, 3, 4] }]);
    });
    it(`reduceMax, keepdims ${keep}`, async () => {
      // Distinct values: the max is differentiable away from ties.
      const values = Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) / 5 - 2.3);
      await gradCheck((x) => x.max(2, keep), [{ name: 'x', shape: [2, 3, 4], values }]);
      await gradCheck((x) => x.max([0, 1], keep), [{ name: 'x', shape: [2, 3, 4], values }]);
    });
  }
  it('reduceMean over a symbolic dim reads the count at run time', async () => {
    await gradCheck((x) => x.mean(0), [{ name: 'x', shape: [5, 3], declared: ['n', 3] }]);
    // Over every axis, to a scalar: the run-time count must not add an axis to the gradient.
    await gradCheck((x) => x.mean([0, 1]), [{ name: 'x', shape: [5, 3], declared: ['n', 3] }]);
  });
});

describe('layout', () => {
  it('reshape, including a symbolic dim and an inferred -1', async () => {
    await gradCheck((x) => x.reshape([3, 8]).mul(x.reshape([3, 8])), [{ name: 'x', shape: [2, 3, 4] }]);
    await gradCheck(
      (x) => x.reshape(['b', -1]).sin(),
      [{ name: 'x', shape: [2, 3, 4], declared: ['b', 3, 4] }],
    );
  });
  it('transpose', async () => {
    await gradCheck((x) => x.transpose([2, 0, 1]), [{ name: 'x', shape: [2, 3, 4] }]);
  });
  it('unsqueeze and squeeze', async () => {
    await gradCheck((x) => x.unsqueeze([0, 3]).sin(), [{ name: 'x', shape: [2, 3] }]);
    await gradCheck((x) => x.squeeze(1).sin(), [{ name: 'x', shape: [2, 1, 3] }]);
  });
  it('expand', async () => {
    await gradCheck((x) => x.expand([4, 2, 3]), [{ name: 'x', shape: [2, 1] }]);
  });
  it('cast float64 → float64 keeps the gradient; to int64 passes none', async () => {
    await gradCheck((x) => apply('Cast', [x], { to: 'float64' }).mul(x), [{ name: 'x', shape: [3] }]);
    await gradCheck(
      (x) => x.cast('int64').cast('float64').add(x),
      [{ name: 'x', shape: [3], values: [0.2, 1.7, -1.3] }],
    );
  });
});

describe('slicing and joining', () => {
  it('slice with positive, negative and open bounds', async () => {
    await gradCheck((x) => x.slice(1, 1, 3), [{ name: 'x', shape: [2, 4, 3] }]);
    await gradCheck((x) => x.slice(-1, -2), [{ name: 'x', shape: [2, 4, 3] }]);
    await gradCheck((x) => x.slice(0, 1).mul(2), [{ name: 'x', shape: [3, 2], declared: ['n', 2] }]);
  });
  it('concat of three', async () => {
    await gradCheck(
      (a, b, c) => concat([a, b, c], 1).sin(),
      [
        { name: 'a', shape: [2, 1] },
        { name: 'b', shape: [2, 3] },
        { name: 'c', shape: [2, 2] },
      ],
    );
  });
  it('concat along a symbolic dim', async () => {
    await gradCheck(
      (a, b) => concat([a, b], 0).sin(),
      [
        { name: 'a', shape: [2, 3], declared: ['n', 3] },
        { name: 'b', shape: [4, 3], declared: ['m', 3] },
      ],
    );
  });
  it('pad', async () => {
    const g = (x: Tensor): Tensor => pad(x, x.graph.ints([1, 0, 2, 1])).sin();
    await gradCheck(g, [{ name: 'x', shape: [2, 3] }]);
  });
});

describe('indexing', () => {
  it('gather on axis 0 with repeated indices (the embedding lookup)', async () => {
    await gradCheck(
      (table) => table.gather(table.graph.constant(new BigInt64Array([2n, 0n, 2n, 3n, 2n]), [5])),
      [{ name: 'table', shape: [4, 3] }],
    );
  });
  it('gather on axis 1 with 2-d and negative indices', async () => {
    await gradCheck(
      (x) => x.gather(x.graph.constant(new BigInt64Array([1n, -1n, 1n, 0n]), [2, 2]), 1),
      [{ name: 'x', shape: [2, 3, 2] }],
    );
  });
  it('scatterND (add) and gatherND', async () => {
    const idx = (t: Tensor): Tensor => t.graph.constant(new BigInt64Array([1n, 0n, 1n]), [3, 1]);
    await gradCheck(
      (data, upd) => scatterAdd(data, idx(data), upd).sin(),
      [
        { name: 'data', shape: [3, 2] },
        { name: 'upd', shape: [3, 2] },
      ],
    );
    await gradCheck((data) => gatherND(data, idx(data)).sin(), [{ name: 'data', shape: [3, 2] }]);
  });
  it('where with a broadcast condition', async () => {
    await gradCheck(
      (a, b) => where(greater(a, a.graph.scalar(0, 'float64')), a, b),
      [
        { name: 'a', shape: [2, 3], values: [-1, 2, 0.5, -0.3, 1.1, -2] },
        { name: 'b', shape: [3] },
      ],
    );
    await gradCheck((a) => where(equal(a, a), a.mul(2), a), [{ name: 'a', shape: [3] }]);
  });
});

describe('matmul', () => {
  it('a · bᵀ (Gemm with transB) for the [out, in] weight layout', async () => {
    await gradCheck(
      (a, b) => matmulTransB(a, b),
      [
        { name: 'a', shape: [3, 4] },
        { name: 'b', shape: [5, 4] },
      ],
    );
  });
  it('2-d × 2-d, batched × 2-d, and broadcast batches', async () => {
    await gradCheck(
      (a, b) => a.matmul(b),
      [
        { name: 'a', shape: [3, 4] },
        { name: 'b', shape: [4, 2] },
      ],
    );
    await gradCheck(
      (a, b) => a.matmul(b),
      [
        { name: 'a', shape: [2, 3, 4] },
        { name: 'b', shape: [4, 5] },
      ],
    );
    await gradCheck(
      (a, b) => a.matmul(b),
      [
        { name: 'a', shape: [2, 1, 3, 4] },
        { name: 'b', shape: [3, 4, 2] },
      ],
    );
  });
});

describe('the gradient checker itself', () => {
  it('rejects a backward rule that is slightly wrong', async () => {
    definePrimitive({
      name: 'TestSinWithWrongRule',
      infer: (inputs) => ({ dtype: inputs[0]!.dtype, shape: inputs[0]!.shape }),
      emit: (ctx, out, inputs) => ctx.node('Sin', inputs, [ctx.nameOf(out.id)]),
      backward: (out, g) => [g.mul(out.inputs[0]!.cos()).mul(1.0001)],
    });
    await assert.rejects(
      gradCheck((x) => apply('TestSinWithWrongRule', [x]), [{ name: 'x', shape: [3] }]),
      /gradient check failed/,
    );
  });
});
