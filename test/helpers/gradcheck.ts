// Gradient checks: the autodiff gradient of a float64 graph against central finite differences.
import assert from 'node:assert/strict';
import { Graph, gradients, serialize, type Dim, type Tensor } from '../../server/src/engine/graph/index';
import { GraphSession } from '../../server/src/engine/runtime/session';
import { f64, type HostTensor } from '../../server/src/engine/runtime/host-tensor';
import { Rng } from './rng';

export interface CheckInput {
  name: string;
  shape: number[];
  /** Values; default uniform in [-2, 2] with exact zeros and negatives mixed in. */
  values?: number[];
  /** Declared shape in the graph (symbolic dims allowed); default `shape`. */
  declared?: Dim[];
  /** Check at most this many elements (chosen at random); default all. */
  sample?: number;
}

export interface GradCheckResult {
  maxRelError: number;
  perInput: Record<string, number>;
}

const H = 1e-6;

/**
 * Builds `f` in float64 over the inputs, reduces its output with fixed random weights to a scalar loss,
 * and compares d loss / d input from `gradients` with central differences. Asserts relative error ≤ tol
 * (max |analytic − numeric| over max(|numeric|, 1e-3 ... scale)).
 */
export async function gradCheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: CheckInput[],
  opts: { tol?: number; seed?: number } = {},
): Promise<GradCheckResult> {
  const rng = new Rng(opts.seed ?? 7);
  const g = new Graph('gradcheck');
  const xs = inputs.map((i) => g.input(i.name, 'float64', i.declared ?? i.shape));
  const y = f(...xs);
  assert.ok(y.dtype === 'float64', `the checked function must return float64, got ${y.dtype}`);
  // A random weighting makes every output element matter differently. It is fed as an input because the
  // output's shape may be symbolic.
  const weights = g.input('__w', 'float64', y.shape);
  const prod = y.mul(weights);
  const scalarLoss = prod.rank === 0 ? prod : prod.sum(Array.from({ length: prod.rank }, (_, i) => i));
  const grads = gradients(scalarLoss, xs);
  const outs: Record<string, Tensor> = { loss: scalarLoss };
  grads.forEach((gr, i) => (outs[`grad_${inputs[i]!.name}`] = gr));
  const model = serialize(outs);
  const session = await GraphSession.create(model, { optimization: 'basic', threads: 1, name: 'gradcheck' });
  const lossOnly = await GraphSession.create(serialize({ loss: scalarLoss }), {
    optimization: 'basic',
    threads: 1,
  });

  const feeds: Record<string, HostTensor> = {};
  inputs.forEach((i) => {
    const n = i.shape.reduce((p, d) => p * d, 1);
    feeds[i.name] = f64(i.shape, i.values ?? defaultValues(rng, n));
  });
  // The output shape is needed for the weights: run f alone once.
  const probe = await GraphSession.create(serialize({ y }), { optimization: 'basic', threads: 1 });
  const yShape = (
    await probe.run(
      pick(
        feeds,
        probe.inputs.map((s) => s.name),
      ),
    )
  ).y!.shape;
  await probe.release();
  const wn = yShape.reduce((p, d) => p * d, 1);
  feeds['__w'] = f64(
    yShape,
    Array.from({ length: wn }, () => rng.uniform(0.5, 1.5) * (rng.next() < 0.5 ? -1 : 1)),
  );

  const need = (s: GraphSession): Record<string, HostTensor> =>
    pick(
      feeds,
      s.inputs.map((x) => x.name),
    );
  const analytic = await session.run(need(session));
  const perInput: Record<string, number> = {};
  for (const inp of inputs) {
    const x = feeds[inp.name]!.data as Float64Array;
    const ga = analytic[`grad_${inp.name}`]!.data as Float64Array;
    assert.equal(
      ga.length,
      x.length,
      `gradient of ${inp.name} has ${ga.length} values for ${x.length} inputs`,
    );
    const idx = Array.from({ length: x.length }, (_, i) => i);
    const chosen = inp.sample && inp.sample < idx.length ? rng.shuffle(idx).slice(0, inp.sample) : idx;
    let maxDiff = 0;
    let scale = 0;
    for (const j of chosen) {
      const orig = x[j]!;
      x[j] = orig + H;
      const lp = (await lossOnly.run(need(lossOnly))).loss!.data[0] as number;
      x[j] = orig - H;
      const lm = (await lossOnly.run(need(lossOnly))).loss!.data[0] as number;
      x[j] = orig;
      const numeric = (lp - lm) / (2 * H);
      maxDiff = Math.max(maxDiff, Math.abs(numeric - ga[j]!));
      scale = Math.max(scale, Math.abs(numeric), Math.abs(ga[j]!));
    }
    perInput[inp.name] = scale === 0 ? maxDiff : maxDiff / scale;
  }
  await session.release();
  await lossOnly.release();
  const maxRelError = Math.max(...Object.values(perInput));
  const tol = opts.tol ?? 1e-6;
  assert.ok(
    maxRelError <= tol,
    `gradient check failed: relative errors ${JSON.stringify(perInput)} exceed ${tol}`,
  );
  return { maxRelError, perInput };
}

function pick(feeds: Record<string, HostTensor>, names: string[]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const n of names) out[n] = feeds[n]!;
  return out;
}

function defaultValues(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : rng.uniform(-2, 2)));
}
