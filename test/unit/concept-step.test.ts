// The batched personalization step: B padded samples in one graph run give the same gradients as the
// samples taken one at a time (float64 to 1e-9, float32 to 1e-5), and its gradient with respect to the
// concept rows placed inside the graph matches central finite differences.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { writeTinyLlava } from '../../server/src/engine/models/llava/random-checkpoint';
import { AdamW } from '../../server/src/engine/personalize/adamw';
import { packConceptBatch, type BatchItem } from '../../server/src/engine/personalize/concept-batch';
import { Rng } from '../helpers/rng';

const E = 3;

async function withModel(
  precision: 'float32' | 'float64',
  fn: (m: LlavaModel) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'yollava-concept-step-'));
  try {
    writeTinyLlava(dir, {
      seed: 31,
      text: { hidden: 32, intermediate: 48, layers: 2, heads: 4, kvHeads: 2 },
    });
    const model = LlavaModel.load(dir, { trainPrecision: precision, threads: 1 });
    try {
      await fn(model);
    } finally {
      await model.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Three samples of different lengths: concept tokens in several places, one with an image. */
function samples(model: LlavaModel): BatchItem[] {
  const V = model.vocab;
  const D = model.hidden;
  const img = model.config.imageTokenIndex;
  const N = model.config.imageTokens;
  const rng = new Rng(9);
  const features = Float32Array.from({ length: N * D }, () => rng.normal() * 0.5);
  const s1 = [1, V, 10, V + 1, V + 2, 11, 12, 13];
  const s2 = [1, ...new Array<number>(N).fill(img), V, 14, 15, V, 16];
  const s3 = [1, V + 2, 17, 18];
  const label = (ids: number[], from: number) => ids.map((id, t) => (t >= from ? id % V : -100));
  return [
    { sample: { ids: s1, labels: label(s1, 5) }, features: [] },
    { sample: { ids: s2, labels: label(s2, N + 3) }, features: [features] },
    { sample: { ids: s3, labels: label(s3, 2) }, features: [] },
  ];
}

function rows(D: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: E * D }, () => rng.normal() * 0.3);
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

for (const [precision, tolerance] of [
  ['float64', 1e-9],
  ['float32', 1e-5],
] as const) {
  describe(`concept step (${precision})`, () => {
    it(`B × the batched gradient equals the sum of the per-sample gradients (to ${tolerance})`, async () => {
      await withModel(precision, async (model) => {
        const D = model.hidden;
        const emb = rows(D, 1);
        const head = rows(D, 2);
        const items = samples(model);
        const sumRows = new Float64Array(E * D);
        const sumHead = new Float64Array(E * D);
        let lossSum = 0;
        for (const it of items) {
          const r = await model.conceptStep(packConceptBatch(model, [it], emb, head));
          r.gradRows.forEach((v, i) => (sumRows[i] += v));
          r.gradHead.forEach((v, i) => (sumHead[i] += v));
          lossSum += r.loss;
        }
        const batched = await model.conceptStep(packConceptBatch(model, items, emb, head));
        const B = items.length;
        assert.ok(Math.abs(batched.loss * B - lossSum) <= tolerance * Math.abs(lossSum));
        const rowsRel = maxRelDiff(
          Array.from(batched.gradRows, (v) => v * B),
          sumRows,
        );
        const headRel = maxRelDiff(
          Array.from(batched.gradHead, (v) => v * B),
          sumHead,
        );
        assert.ok(rowsRel <= tolerance, `concept rows: max rel diff ${rowsRel}`);
        assert.ok(headRel <= tolerance, `head rows: max rel diff ${headRel}`);
        // Every concept row occurs in some sample, so each must have a gradient: a dropped row fails here.
        for (let r = 0; r < E; r++)
          assert.ok(
            sumRows.slice(r * D, (r + 1) * D).some((v) => v !== 0),
            `row ${r} has no gradient`,
          );
      });
    });
  });
}

describe('concept step gradients against finite differences (float64)', () => {
  it('d loss / d concept rows and head rows match central differences', async () => {
    await withModel('float64', async (model) => {
      const D = model.hidden;
      const emb = rows(D, 3);
      const head = rows(D, 4);
      const items = samples(model);
      const r = await model.conceptStep(packConceptBatch(model, items, emb, head));
      const lossAt = async (e: Float64Array, h: Float64Array): Promise<number> =>
        (
          await model.conceptStep({
            ...packConceptBatch(model, items, emb, head),
            conceptRows: e,
            extraHead: h,
          })
        ).loss;
      const h = 1e-6;
      for (const [which, k] of [
        ['rows', 3],
        ['rows', D + 7],
        ['rows', 2 * D + 1],
        ['head', 5],
        ['head', 2 * D + 9],
      ] as const) {
        const e = Float64Array.from(emb);
        const hd = Float64Array.from(head);
        const target = which === 'rows' ? e : hd;
        target[k] += h;
        const lp = await lossAt(e, hd);
        target[k] -= 2 * h;
        const lm = await lossAt(e, hd);
        const numeric = (lp - lm) / (2 * h);
        const analytic = (which === 'rows' ? r.gradRows : r.gradHead)[k]!;
        assert.ok(
          Math.abs(numeric - analytic) <= 1e-6 * Math.max(1, Math.abs(numeric)),
          `${which}[${k}]: analytic ${analytic}, numeric ${numeric}`,
        );
      }
    });
  });
});

describe('the AdamW step inside the concept-step graph', () => {
  it('gives the rows and moments that the host AdamW gives from the same gradients, step after step', async () => {
    await withModel('float32', async (model) => {
      const D = model.hidden;
      const items = samples(model);
      const hostRows = rows(D, 5);
      const hostHead = rows(D, 6);
      const graphRows = hostRows.slice();
      const graphHead = hostHead.slice();
      const host = new AdamW([hostRows, hostHead], { lr: 8e-3, weightDecay: 0.01 });
      const inGraph = new AdamW([graphRows, graphHead], { lr: 8e-3, weightDecay: 0.01 });
      for (let step = 0; step < 3; step++) {
        const g = await model.conceptStep(packConceptBatch(model, items, hostRows, hostHead));
        host.step([g.gradRows, g.gradHead]);
        const a = inGraph.moments(0);
        const b = inGraph.moments(1);
        const r = await model.conceptStep({
          ...packConceptBatch(model, items, graphRows, graphHead),
          adamw: { mRows: a.m, vRows: a.v, mHead: b.m, vHead: b.v, ...inGraph.nextStepScalars() },
        });
        const u = r.updated!;
        inGraph.adopt(0, u.rows, u.mRows, u.vRows);
        inGraph.adopt(1, u.head, u.mHead, u.vHead);
        assert.ok(
          maxRelDiff(graphRows, hostRows) < 1e-5,
          `step ${step}: rows ${maxRelDiff(graphRows, hostRows)}`,
        );
        assert.ok(
          maxRelDiff(graphHead, hostHead) < 1e-5,
          `step ${step}: head ${maxRelDiff(graphHead, hostHead)}`,
        );
        assert.ok(maxRelDiff(inGraph.moments(0).v, host.moments(0).v) < 1e-5, `step ${step}: second moments`);
      }
      // The rows did move: a graph that returned its inputs unchanged fails above.
      assert.ok(maxRelDiff(hostRows, rows(D, 5)) > 1e-3);
    });
  });
});
