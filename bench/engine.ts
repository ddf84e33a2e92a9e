// Engine benchmark: the best plain MatMul on this machine, and forward + backward of a 6-layer LLaMA-style
// decoder built by the graph builder and differentiated by our autodiff, as a fraction of that peak.
// When Debian's python3-torch is installed, the same step in PyTorch runs in the same process tree.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Graph, gradients, serialize, type Tensor } from '../server/src/engine/graph/index';
import {
  decoderStack,
  type DecoderLayerWeights,
  type DecoderShape,
} from '../server/src/engine/models/llava/llama-decoder';
import { f32, type HostTensor } from '../server/src/engine/runtime/host-tensor';
import { GraphSession } from '../server/src/engine/runtime/session';
import { bestOf, table } from './timing';

export const DECODER = { layers: 6, hidden: 256, heads: 4, intermediate: 704, batch: 24, seq: 128 };
const THREADS = Math.min(2, os.cpus().length);

interface PeakCandidate {
  shape: string;
  flops: number;
  run: () => Promise<unknown>;
  release: () => Promise<void>;
}

/** Plain MatMul sessions of a few shapes (square, and the decoder's own); the fastest defines the peak. */
async function matmulCandidates(): Promise<PeakCandidate[]> {
  const out: PeakCandidate[] = [];
  for (const [m, k, n] of [
    [1024, 1024, 1024],
    [2048, 2048, 2048],
    [3072, 256, 704],
    [3072, 704, 256],
  ] as const) {
    const g = new Graph('matmul');
    const a = g.input('a', 'float32', [m, k]);
    const b = g.input('b', 'float32', [k, n]);
    const s = await GraphSession.create(serialize({ c: a.matmul(b) }), { threads: THREADS });
    const feeds = { a: randomTensor([m, k], 1), b: randomTensor([k, n], 2) };
    out.push({
      shape: `${m}×${k}×${n}`,
      flops: 2 * m * k * n,
      run: () => s.run(feeds),
      release: () => s.release(),
    });
  }
  return out;
}

function randomTensor(shape: number[], seed: number, scale = 1): HostTensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  let s = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return f32(shape, data);
}

/** The train step: loss = mean(h · r) over the decoder output h; gradients for x and every weight. */
export function buildDecoderStep(): {
  model: ReturnType<typeof serialize>;
  feeds: Record<string, HostTensor>;
  flops: number;
} {
  const { layers, hidden: D, heads, intermediate: F, batch: B, seq: T } = DECODER;
  const shape: DecoderShape = {
    hidden: D,
    heads,
    kvHeads: heads,
    headDim: D / heads,
    intermediate: F,
    rmsEps: 1e-6,
    ropeTheta: 10000,
    layout: 'inOut',
  };
  const g = new Graph('decoder-step');
  const feeds: Record<string, HostTensor> = {};
  const param = (name: string, dims: number[], init: 'ones' | 'linear'): Tensor => {
    feeds[name] =
      init === 'ones'
        ? f32(dims, new Float32Array(dims.reduce((p, d) => p * d, 1)).fill(1))
        : randomTensor(dims, Object.keys(feeds).length + 3, 1 / Math.sqrt(dims[0]!));
    return g.input(name, 'float32', dims);
  };
  const x = g.input('x', 'float32', [B, T, D]);
  feeds['x'] = randomTensor([B, T, D], 99);
  const ws: DecoderLayerWeights[] = [];
  for (let l = 0; l < layers; l++) {
    ws.push({
      inputNorm: param(`l${l}.in_norm`, [D], 'ones'),
      q: param(`l${l}.q`, [D, D], 'linear'),
      k: param(`l${l}.k`, [D, D], 'linear'),
      v: param(`l${l}.v`, [D, D], 'linear'),
      o: param(`l${l}.o`, [D, D], 'linear'),
      postNorm: param(`l${l}.post_norm`, [D], 'ones'),
      gate: param(`l${l}.gate`, [D, F], 'linear'),
      up: param(`l${l}.up`, [D, F], 'linear'),
      down: param(`l${l}.down`, [F, D], 'linear'),
    });
  }
  const r = g.input('r', 'float32', [B, T, D]);
  feeds['r'] = randomTensor([B, T, D], 7);
  const h = decoderStack(x, ws, null, shape);
  const loss = h.mul(r).mean([0, 1, 2]);
  const wrt = [x, ...ws.flatMap((w) => Object.values(w) as Tensor[])];
  const grads = gradients(loss, wrt);
  const outputs: Record<string, Tensor> = { loss };
  wrt.forEach((t, i) => (outputs[`grad.${t.name}`] = grads[i]!));
  const N = B * T;
  const forward = layers * (8 * N * D * D + 6 * N * D * F + 4 * N * T * D);
  return { model: serialize(outputs), feeds, flops: 3 * forward };
}

function torchStep(): { seconds: number; blas: string } | { skipped: string } {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: "Debian's python3-torch is not installed" };
  const script = path.join(__dirname, 'torch_decoder_step.py');
  // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on these machines for old OpenBLAS builds and slow a
  // current one down: PyTorch runs without them, at its best.
  const env = { ...process.env };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify({ ...DECODER, threads: THREADS })], {
    encoding: 'utf8',
    env,
  });
  if (r.status !== 0) return { skipped: `the PyTorch step failed: ${r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout) as { step_seconds: number; torch: string; blas: string[] };
  const blas =
    out.blas.map((b) => path.basename(path.dirname(b)) + '/' + path.basename(b)).join(', ') || 'none found';
  return { seconds: out.step_seconds, blas: `torch ${out.torch}, BLAS ${blas}` };
}

export async function runEngineBench(json: boolean): Promise<Record<string, unknown>> {
  const candidates = await matmulCandidates();
  const step = buildDecoderStep();
  const session = await GraphSession.create(step.model, { threads: THREADS });
  // Peak and step are measured in alternating rounds, so that a noisy spell on the machine hits both.
  const peakTimes = candidates.map(() => Infinity);
  let stepSeconds = Infinity;
  await session.run(step.feeds);
  for (let round = 0; round < 6; round++) {
    for (const [i, c] of candidates.entries())
      peakTimes[i] = Math.min(peakTimes[i]!, await bestOf(3, round === 0 ? 1 : 0, c.run));
    stepSeconds = Math.min(stepSeconds, await bestOf(1, 0, () => session.run(step.feeds)));
  }
  const best = candidates
    .map((c, i) => ({ shape: c.shape, gflops: c.flops / peakTimes[i]! / 1e9 }))
    .reduce((a, b) => (b.gflops > a.gflops ? b : a));
  for (const c of candidates) await c.release();
  await session.release();
  const peak = best;
  const stepGflops = step.flops / stepSeconds / 1e9;
  const torch = torchStep();
  const result: Record<string, unknown> = {
    matmul_peak_gflops: round(peak.gflops),
    step_gflops: round(stepGflops),
    efficiency: round(stepGflops / peak.gflops, 3),
    step_seconds: round(stepSeconds, 4),
    torch_speedup: 'seconds' in torch ? round(torch.seconds / stepSeconds, 2) : null,
  };
  if (!json) {
    process.stdout.write(
      table(`engine (${THREADS} threads, ORT CPU)`, [
        ['matmul peak', `${round(peak.gflops)} GFLOP/s (${peak.shape})`],
        [
          'decoder step',
          `${DECODER.layers} layers, D=${DECODER.hidden}, ${DECODER.heads} heads, SwiGLU ${DECODER.intermediate}, ${DECODER.batch}×${DECODER.seq} tokens`,
        ],
        ['step FLOPs', `${round(step.flops / 1e9)} GFLOP (matmuls, forward + backward)`],
        ['step time', `${round(stepSeconds * 1000, 1)} ms`],
        ['step GFLOP/s', `${round(stepGflops)}`],
        ['efficiency', `${round(stepGflops / peak.gflops, 3)} of the MatMul peak`],
        [
          'PyTorch step',
          'seconds' in torch
            ? `${round(torch.seconds * 1000, 1)} ms → we are ${result['torch_speedup']}× faster (${torch.blas})`
            : torch.skipped,
        ],
      ]),
    );
  }
  return result;
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
