// ONNX serialization round trip, sessions (providers, input checks) and the worker thread.
import { vulkanLoaderPresent } from '../../server/src/engine/runtime/vulkan';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import { Graph, linear, primitiveNames, serialize } from '../../server/src/engine/graph/index';
import { f32, i64 } from '../../server/src/engine/runtime/host-tensor';
import { GraphSession, ProviderError } from '../../server/src/engine/runtime/session';
import { InputError } from '../../server/src/engine/runtime/validate-inputs';
import { AbortedError, runInWorker, WorkerTaskError } from '../../server/src/engine/runtime/worker';
import type { TaskMap } from '../../server/src/engine/runtime/worker-protocol';
import { runTask } from '../../server/src/engine/tasks/worker-tasks';

function smallModel() {
  const g = new Graph('small');
  const x = g.input('x', 'float32', ['batch', 3]);
  const w = g.weight('w', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const y = linear(x, w).softmax(-1);
  return { g, x, y };
}

describe('ONNX serialization', () => {
  it('round-trips through protobuf: standard domain, opset ≥ 18, named inputs, outputs and initializers', () => {
    const { y } = smallModel();
    const model = serialize({ probs: y });
    const proto = fromBinary(ModelProtoSchema, model.bytes);
    assert.ok(proto.opsetImport.every((o) => o.domain === '' && o.version >= 18n));
    const graph = proto.graph!;
    assert.deepEqual(
      graph.input.map((i) => i.name),
      ['x'],
    );
    assert.deepEqual(
      graph.output.map((o) => o.name),
      ['probs'],
    );
    assert.ok(graph.initializer.some((t) => t.name === 'w'));
    assert.ok(graph.node.every((n) => n.domain === ''));
    const dims = graph.input[0]!.type!.value.value as {
      shape: { dim: { value: { case: string; value: unknown } }[] };
    };
    assert.deepEqual(
      dims.shape.dim.map((d) => d.value.value),
      ['batch', 3n],
    );
    assert.deepEqual(model.inputs, [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
  });

  it('the deserialized model computes what the expression says', async () => {
    const { y } = smallModel();
    const s = await GraphSession.create(serialize({ probs: y }));
    const out = await s.run({ x: f32([2, 3], [1, 0, 0, 0, 1, -1]) });
    // rows of x·wᵀ: [1, 4] and [-1, -1]
    const sm = (a: number, b: number) => [
      Math.exp(a) / (Math.exp(a) + Math.exp(b)),
      Math.exp(b) / (Math.exp(a) + Math.exp(b)),
    ];
    const expected = [...sm(1, 4), ...sm(-1, -1)];
    Array.from(out.probs!.data as Float32Array).forEach((v, i) =>
      assert.ok(Math.abs(v - expected[i]!) < 1e-6),
    );
    assert.deepEqual(out.probs!.shape, [2, 2]);
    await s.release();
  });

  it('keeps large weights as external data that the session loads from memory', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 4]);
    const big = new Float32Array(4 * 70000).map((_, i) => (i % 5) - 2);
    const w = g.weight('big', big, [4, 70000]);
    const model = serialize({ y: x.matmul(w) }, { externalThreshold: 1 << 16 });
    const proto = fromBinary(ModelProtoSchema, model.bytes);
    const init = proto.graph!.initializer.find((t) => t.name === 'big')!;
    assert.equal(init.dataLocation, TensorProto_DataLocation.EXTERNAL);
    assert.ok(model.bytes.byteLength < 10_000, `the protobuf holds ${model.bytes.byteLength} bytes`);
    const s = await GraphSession.create(model);
    const out = await s.run({ x: f32([1, 4], [1, 1, 1, 1]) });
    assert.equal((out.y!.data as Float32Array)[7], big[7]! + big[70007]! + big[140007]! + big[210007]!);
    await s.release();
  });

  it('an output that is an input or repeated goes through Identity', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const y = x.exp();
    const s = await GraphSession.create(serialize({ same: x, y, y2: y }));
    const out = await s.run({ x: f32([2], [0, 1]) });
    assert.deepEqual(Array.from(out.same!.data as Float32Array), [0, 1]);
    assert.deepEqual(Array.from(out.y2!.data as Float32Array), Array.from(out.y!.data as Float32Array));
  });

  it('the op table covers what LLaVA needs', () => {
    const needed = [
      'MatMul',
      'Add',
      'Sub',
      'Mul',
      'Div',
      'Neg',
      'Pow',
      'Sqrt',
      'Reciprocal',
      'Exp',
      'Log',
      'Tanh',
      'Erf',
      'Sigmoid',
      'Softmax',
      'LogSoftmax',
      'ReduceSum',
      'ReduceMean',
      'ReduceMax',
      'Reshape',
      'Transpose',
      'Concat',
      'Slice',
      'Gather',
      'Where',
      'Expand',
      'Unsqueeze',
      'Squeeze',
      'Cast',
      'Cos',
      'Sin',
      'StopGradient',
    ];
    const have = new Set(primitiveNames());
    assert.deepEqual(
      needed.filter((n) => !have.has(n)),
      [],
    );
  });

  it('shape errors name the op and both shapes', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [4, 5]);
    assert.throws(() => a.matmul(b), /MatMul\(float32 \[2, 3\], float32 \[4, 5\]\): inner dims differ/);
    assert.throws(() => a.add(g.input('c', 'float32', [4])), /Add.*do not broadcast/);
    assert.throws(() => a.add(g.input('d', 'float64', [3])), /mixed dtypes float32 and float64/);
  });
});

describe('sessions', () => {
  it('reports the expected and actual shape and dtype of a bad feed', async () => {
    const g = new Graph('checker');
    const x = g.input('x', 'float32', ['batch', 3]);
    const ids = g.input('ids', 'int64', ['batch']);
    const s = await GraphSession.create(serialize({ y: x.sum(1).add(ids.cast('float32')) }), {
      name: 'checker',
    });
    await assert.rejects(
      s.run({ x: f32([2, 4]), ids: i64([2], [1, 2]) }),
      (e: Error) =>
        e instanceof InputError &&
        /input "x": expected float32 \[batch, 3\], got float32 \[2, 4\] \(dim 1 is 4, expected 3\)/.test(
          e.message,
        ),
    );
    await assert.rejects(
      s.run({ x: f32([2, 3]), ids: f32([2]) }),
      /input "ids": expected int64 \[batch\], got float32 \[2\] \(wrong dtype\)/,
    );
    await assert.rejects(
      s.run({ x: f32([2, 3]), ids: i64([3], [1, 2, 3]) }),
      /"batch"\) is 3, but input "x" set "batch" to 2/,
    );
    await assert.rejects(s.run({ x: f32([2, 3]) }), /input "ids" is missing \(expected int64 \[batch\]\)/);
    await assert.rejects(
      s.run({ x: f32([2, 3]), ids: i64([2], [0, 0]), z: f32([1]) }),
      /input "z" is not an input of this graph/,
    );
    await s.release();
  });

  it('cpu always starts; auto picks a provider that works and says which', async () => {
    const { y } = smallModel();
    const model = serialize({ y });
    const cpu = await GraphSession.create(model, { provider: 'cpu' });
    assert.equal(cpu.provider, 'cpu');
    const auto = await GraphSession.create(model, { provider: 'auto' });
    assert.ok(['cpu', 'cuda', 'webgpu'].includes(auto.provider));
    if (auto.provider === 'cpu')
      assert.equal(auto.providerNotes.length, 2, 'auto says why cuda and webgpu were passed over');
    // Without the Vulkan loader, webgpu is passed over before Dawn is asked (it would print a native
    // warning on stderr).
    if (!vulkanLoaderPresent())
      assert.ok(
        auto.providerNotes.includes('webgpu: the Vulkan loader (libvulkan.so.1) is not installed'),
        auto.providerNotes.join('; '),
      );
    const out = await auto.run({ x: f32([1, 3], [1, 2, 3]) });
    assert.equal(out.y!.shape.join(), '1,2');
  });

  it('an explicit provider that cannot start is a clear error', async () => {
    const { y } = smallModel();
    const model = serialize({ y });
    for (const provider of ['cuda', 'webgpu'] as const) {
      try {
        const s = await GraphSession.create(model, { provider, name: 'probe' });
        await s.release(); // this machine has that GPU provider: nothing to assert
      } catch (e) {
        assert.ok(
          e instanceof ProviderError &&
            e.message.startsWith(`probe: the ${provider} execution provider could not start`),
        );
      }
    }
  });
});

describe('worker threads', () => {
  function heavyModel() {
    const g = new Graph();
    const x = g.input('x', 'float32', [256, 256]);
    let y = x;
    for (let i = 0; i < 8; i++) y = y.matmul(x).tanh();
    return serialize({ y });
  }

  it('runs a graph off the main thread while the event loop keeps turning', async () => {
    const model = heavyModel();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const progress: unknown[] = [];
    const result = await runTask(
      'graph.run',
      {
        model,
        feeds: { x: f32([256, 256], new Float32Array(65536).fill(0.01)) },
        repeat: 20,
        options: { threads: 1 },
      },
      { onProgress: (p) => progress.push(p) },
    );
    clearInterval(timer);
    assert.deepEqual(result.outputs['y']!.shape, [256, 256]);
    assert.equal(result.provider, 'cpu');
    assert.equal(progress.length, 20);
    assert.ok(ticks > 3, `the main loop ticked ${ticks} times during the run`);
  });

  it('stops on an AbortSignal', async () => {
    const ac = new AbortController();
    const run = runTask(
      'graph.run',
      { model: heavyModel(), feeds: { x: f32([256, 256]) }, repeat: 100000 },
      {
        signal: ac.signal,
        onProgress: () => ac.abort(),
      },
    );
    await assert.rejects(run, (e: Error) => e instanceof AbortedError);
  });

  it('reports task errors with the task name', async () => {
    await assert.rejects(
      runInWorker<TaskMap, string>('no.such.task', {}),
      (e: Error) => e instanceof WorkerTaskError && /unknown task "no\.such\.task"/.test(e.message),
    );
    await assert.rejects(
      runTask('graph.run', { model: heavyModel(), feeds: {} }),
      /graph\.run: .*input "x" is missing/,
    );
  });
});
