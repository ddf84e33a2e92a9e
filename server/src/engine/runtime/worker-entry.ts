// The worker thread's entry: runs one registered task and reports progress, result or error.
import { parentPort } from 'node:worker_threads';
import { workerTasks } from './worker-tasks';
import type { WorkerMessage, WorkerRequest } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker-entry must run on a worker thread');
const abort = new AbortController();
const send = (m: WorkerMessage): void => port.postMessage(m);

port.on('message', (m: WorkerRequest) => {
  if (m.type === 'abort') {
    abort.abort();
    return;
  }
  const task = workerTasks[m.task];
  if (!task) {
    send({
      type: 'error',
      message: `unknown task "${m.task}" (known: ${Object.keys(workerTasks).join(', ')})`,
      aborted: false,
    });
    return;
  }
  task(m.payload as never, {
    signal: abort.signal,
    progress: (p) => send({ type: 'progress', progress: p }),
  }).then(
    (result) => send({ type: 'result', result }),
    (e: Error) =>
      send({
        type: 'error',
        message: e?.message ?? String(e),
        stack: e?.stack,
        aborted: abort.signal.aborted,
      }),
  );
});
