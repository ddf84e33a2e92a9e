// The worker thread's entry: runs registered tasks, each under its own id and abort signal, and reports
// their progress, result or error. Module state in the tasks (a warm model) lives as long as the thread.
import { parentPort } from 'node:worker_threads';
import { workerTasks } from './worker-tasks';
import type { TaskContext, WorkerMessage, WorkerRequest } from '../runtime/worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker-entry must run on a worker thread');
const running = new Map<number, AbortController>();
const send = (m: WorkerMessage): void => port.postMessage(m);

port.on('message', (m: WorkerRequest) => {
  if (m.type === 'abort') {
    running.get(m.id)?.abort();
    return;
  }
  const { id } = m;
  // Names come from another thread as strings: the registry is looked up as a plain table here.
  const task = (workerTasks as Record<string, (p: unknown, ctx: TaskContext) => Promise<unknown>>)[m.task];
  if (!task) {
    send({
      type: 'error',
      id,
      message: `unknown task "${m.task}" (known: ${Object.keys(workerTasks).join(', ')})`,
      aborted: false,
    });
    return;
  }
  const abort = new AbortController();
  running.set(id, abort);
  task(m.payload, {
    signal: abort.signal,
    progress: (p) => send({ type: 'progress', id, progress: p }),
  })
    .then(
      (result) => send({ type: 'result', id, result }),
      (e: Error) =>
        send({
          type: 'error',
          id,
          message: e?.message ?? String(e),
          name: e?.name,
          stack: e?.stack,
          aborted: abort.signal.aborted,
        }),
    )
    .finally(() => running.delete(id));
});
