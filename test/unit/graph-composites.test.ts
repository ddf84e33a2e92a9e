// Composite ops (built from primitives): forward values against plain-JS references, and gradients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyRotary,
  attention,
  causalMask,
  gelu,
  Graph,
  layerNorm,
  linear,
  maskedCrossEntropy,
  quickGelu,
  weightedCrossEntropy,
  rmsNorm,
  rotaryTables,
  silu,
  type Tensor,
} from '../../server/src/engine/graph/index';
import {
  decoderStack,
  type DecoderLayerWeights,
  type DecoderShape,
} from '../../server/src/engine/models/llava/llama-decoder';
import { f64, i64 } from '../../server/src/engine/runtime/host-tensor';
import { evaluate } from '../helpers/evaluate';
import { gradCheck } from '../helpers/gradcheck';

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)),
      `at ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

describe('activations and norms: values', () => {
  it('gelu, quickGelu, silu and rmsNorm match their formulas', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [2, 3]);
    const w = g.input('w', 'float64', [3]);
    const xs = [-2, -0.5, 0, 0.3, 1, 2.5];
    const ws = [1, 0.5, -1.5];
    const out = await evaluate(
      { gelu: gelu(x), quick: quickGelu(x), silu: silu(x), rms: rmsNorm(x, w, 1e-6) },
      { x: f64([2, 3], xs), w: f64([3], ws) },
    );
    const erf = (v: number): number => {
      // Abramowitz–Stegun 7.1.26 is only 1e-7; use the series for a tight reference.
      let s = 0;
      let t = v;
      for (let n = 0; n < 60; n++) {
        s += t / (2 * n + 1);
        t *= (-v * v) / (n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * s;
    };
    close(
      out.gelu!.data as Float64Array,
      xs.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
    );
    close(
      out.quick!.data as Float64Array,
      xs.map((v) => v / (1 + Math.exp(-1.702 * v))),
    );
    close(
      out.silu!.data as Float64Array,
      xs.map((v) => v / (1 + Math.exp(-v))),
    );
    const rms = [0, 1].flatMap((r) => {
      const row = xs.slice(3 * r, 3 * r + 3);
      const ms = row.reduce((s, v) => s + v * v, 0) / 3;
      return row.map((v, i) => (v / Math.sqrt(ms + 1e-6)) * ws[i]!);
    });
    close(out.rms!.data as Float64Array, rms);
  });

  it('maskedCrossEntropy averages over labelled positions only, and is 0 with none', async () => {
    const g = new Graph();
    const logits = g.input('logits', 'float64', [1, 3, 4]);
    const labels = g.input('labels', 'int64', [1, 3]);
    const lv = [0.1, 2, -1, 0.5, 1, 1, 1, 1, -3, 0, 3, 0.2];
    const run = (ls: number[]) =>
      evaluate(
        { loss: maskedCrossEntropy(logits, labels) },
        { logits: f64([1, 3, 4], lv), labels: i64([1, 3], ls) },
      );
    const ce = (row: number[], k: number): number =>
      Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[k]!;
    const r = await run([1, -100, 2]);
    close(r.loss!.data as Float64Array, [(ce(lv.slice(0, 4), 1) + ce(lv.slice(8, 12), 2)) / 2]);
    const none = await run([-100, -100, -100]);
    assert.equal((none.loss!.data as Float64Array)[0], 0);
  });

  it("weightedCrossEntropy is the weighted mean of the positions' losses, and is 0 with no weight", async () => {
    const g = new Graph();
    const logits = g.input('logits', 'float64', [3, 4]);
    const labels = g.input('labels', 'int64', [3]);
    const weights = g.input('weights', 'float64', [3]);
    const lv = [0.1, 2, -1, 0.5, 1, 1, 1, 1, -3, 0, 3, 0.2];
    const run = (w: number[]) =>
      evaluate(
        { loss: weightedCrossEntropy(logits, labels, weights) },
        { logits: f64([3, 4], lv), labels: i64([3], [1, 0, 2]), weights: f64([3], w) },
      );
    const ce = (row: number[], k: number): number =>
      Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[k]!;
    const r = await run([0.5, 0.25, 0.25]);
    const want = 0.5 * ce(lv.slice(0, 4), 1) + 0.25 * ce(lv.slice(4, 8), 0) + 0.25 * ce(lv.slice(8, 12), 2);
    close(r.loss!.data as Float64Array, [want]);
    assert.equal(((await run([0, 0, 0])).loss!.data as Float64Array)[0], 0);
  });
});

describe('composites: gradients', () => {
  it('weightedCrossEntropy, with respect to logits and weights', async () => {
    await gradCheck(
      (x, w) => weightedCrossEntropy(x, x.graph.constant(BigInt64Array.from([2n, 0n, 1n]), [3]), w),
      [
        { name: 'x', shape: [3, 5] },
        { name: 'w', shape: [3], values: [0.5, 0.2, 0.3] },
      ],
    );
  });

  it('linear (HF [out, in] layout, with bias) on a 3-d input', async () => {
    await gradCheck(
      (x, w, b) => linear(x, w, b),
      [
        { name: 'x', shape: [2, 3, 4] },
        { name: 'w', shape: [5, 4] },
        { name: 'b', shape: [5] },
      ],
    );
  });
  it('layerNorm and rmsNorm', async () => {
    await gradCheck(
      (x, w, b) => layerNorm(x, w, b, 1e-5),
      [
        { name: 'x', shape: [2, 5] },
        { name: 'w', shape: [5] },
        { name: 'b', shape: [5] },
      ],
    );
    await gradCheck(
      (x, w) => rmsNorm(x, w, 1e-6),
      [
        { name: 'x', shape: [2, 5] },
        { name: 'w', shape: [5] },
      ],
    );
  });
  it('gelu, quickGelu, silu', async () => {
    for (const f of [gelu, quickGelu, silu]) await gradCheck(f, [{ name: 'x', shape: [7] }]);
  });
  it('rotary embedding', async () => {
    await gradCheck(
      (x) => {
        const pos = x.graph.constant(new BigInt64Array([0n, 1n, 2n]), [3]);
        const { cos, sin } = rotaryTables(pos, 4, 10000);
        return applyRotary(x, cos, sin);
      },
      [{ name: 'x', shape: [1, 2, 3, 4] }],
    );
  });
  it('causal attention with grouped kv heads', async () => {
    await gradCheck(
      (q, k, v) => attention({ q, k, v, mask: causalMask(q, 3, 3) }),
      [
        { name: 'q', shape: [2, 4, 3, 2] },
        { name: 'k', shape: [2, 2, 3, 2] },
        { name: 'v', shape: [2, 2, 3, 2] },
      ],
    );
  });
  it('causal attention with grouped kv heads: forward values against a plain-JS reference', async () => {
    // 4 query heads over 2 kv heads, 3 new queries after 2 cached positions (5 keys): a reversed or
    // shifted mask, or a wrong head grouping, changes these values.
    const [B, Hq, Hkv, T, S, hd] = [2, 4, 2, 3, 5, 2];
    const past = S - T;
    const values = (n: number, seed: number): number[] =>
      Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 1.7);
    const qv = values(B * Hq * T * hd, 1);
    const kv = values(B * Hkv * S * hd, 2);
    const vv = values(B * Hkv * S * hd, 3);
    const g = new Graph();
    const q = g.input('q', 'float64', [B, Hq, T, hd]);
    const k = g.input('k', 'float64', [B, Hkv, S, hd]);
    const v = g.input('v', 'float64', [B, Hkv, S, hd]);
    const out = await evaluate(
      { o: attention({ q, k, v, mask: causalMask(q, T, S, past) }) },
      { q: f64([B, Hq, T, hd], qv), k: f64([B, Hkv, S, hd], kv), v: f64([B, Hkv, S, hd], vv) },
    );
    const expected: number[] = [];
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hq; h++) {
        const kh = Math.floor(h / (Hq / Hkv));
        for (let t = 0; t < T; t++) {
          const at = (
            arr: number[],
            heads: number,
            hh: number,
            len: number,
            pos: number,
            d: number,
          ): number => arr[((b * heads + hh) * len + pos) * hd + d]!;
          const visible = past + t; // keys 0..past+t
          const scores: number[] = [];
          for (let s = 0; s <= visible; s++) {
            let dot = 0;
            for (let d = 0; d < hd; d++) dot += at(qv, Hq, h, T, t, d) * at(kv, Hkv, kh, S, s, d);
            scores.push(dot / Math.sqrt(hd));
          }
          const m = Math.max(...scores);
          const e = scores.map((x) => Math.exp(x - m));
          const z = e.reduce((a, x) => a + x, 0);
          for (let d = 0; d < hd; d++)
            expected.push(e.reduce((a, w, s) => a + (w / z) * at(vv, Hkv, kh, S, s, d), 0));
        }
      }
    close(out['o']!.data as Float64Array, expected, 1e-12);
  });
  it('masked cross-entropy with an ignore index', async () => {
    await gradCheck(
      (logits) =>
        maskedCrossEntropy(logits, logits.graph.constant(new BigInt64Array([3n, -100n, 0n, 1n]), [2, 2])),
      [{ name: 'logits', shape: [2, 2, 5] }],
    );
  });
});

describe('a 2-layer LLaMA-style decoder', () => {
  const shape: DecoderShape = {
    hidden: 8,
    heads: 4,
    kvHeads: 2,
    headDim: 2,
    intermediate: 12,
    rmsEps: 1e-6,
    ropeTheta: 10000,
  };
  const V = 7;
  const layerParts: [keyof DecoderLayerWeights, number[]][] = [
    ['inputNorm', [8]],
    ['q', [8, 8]],
    ['k', [4, 8]],
    ['v', [4, 8]],
    ['o', [8, 8]],
    ['postNorm', [8]],
    ['gate', [12, 8]],
    ['up', [12, 8]],
    ['down', [8, 12]],
  ];
  const names = [...[0, 1].flatMap((l) => layerParts.map(([k]) => `l${l}.${k}`)), 'norm', 'head'];
  const shapes = [...[0, 1].flatMap(() => layerParts.map(([, s]) => s)), [8], [V, 8]];

  function build(x: Tensor, ...weights: Tensor[]): Tensor {
    const layers: DecoderLayerWeights[] = [0, 1].map((l) => {
      const w = {} as Record<string, Tensor>;
      layerParts.forEach(([k], i) => (w[k] = weights[l * layerParts.length + i]!));
      return w as unknown as DecoderLayerWeights;
    });
    const h = decoderStack(x, layers, weights[weights.length - 2]!, shape);
    const logits = linear(h, weights[weights.length - 1]!);
    const labels = x.graph.constant(
      new BigInt64Array([-100n, 2n, 5n, -100n, 1n, 0n, 6n, 3n, -100n, 4n]),
      [2, 5],
    );
    return maskedCrossEntropy(logits, labels);
  }

  it('input and weight gradients match finite differences', async () => {
    const norms = new Set(['inputNorm', 'postNorm', 'norm']);
    await gradCheck(build, [
      { name: 'x', shape: [2, 5, 8], declared: ['batch', 'seq', 8] },
      ...names.map((n, i) => ({
        name: n,
        shape: shapes[i]!,
        sample: 24,
        values: norms.has(n.split('.').pop()!)
          ? Array.from({ length: shapes[i]!.reduce((p, d) => p * d, 1) }, (_, j) => 1 + 0.1 * Math.sin(j + i))
          : undefined,
      })),
    ]);
  });
});
