// Runs long engine work on a worker thread: session.run blocks the event loop it is called on.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WorkerMessage, WorkerRequest } from './worker-protocol';

export interface WorkerRunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: unknown) => void;
  /** How long a cancelled task may take to stop by itself before the thread is terminated. */
  abortGraceMs?: number;
}

export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError';
  constructor(
    message: string,
    readonly task: string,
    readonly workerStack?: string,
  ) {
    super(message);
  }
}

export class AbortedError extends Error {
  override name = 'AbortError';
}

/** The worker entry: the bundled `worker.js` beside this bundle, else the TypeScript source (dev, tests). */
function startWorker(): Worker {
  const bundled = path.join(__dirname, 'worker.js');
  if (existsSync(bundled)) return new Worker(bundled);
  // Running from source (tests, benchmarks): the thread registers the TypeScript loader itself, since
  // loader hooks are per thread.
  const source = path.join(__dirname, 'worker-entry.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

/** Runs the registered task `task` (see worker-tasks.ts) with `payload` on a fresh worker thread. */
export function runInWorker<R>(task: string, payload: unknown, opts: WorkerRunOptions = {}): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new AbortedError(`${task}: cancelled before it started`));
      return;
    }
    const worker = startWorker();
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      void worker.terminate();
      fn();
    };
    const onAbort = (): void => {
      worker.postMessage({ type: 'abort' } satisfies WorkerRequest);
      killTimer = setTimeout(
        () => finish(() => reject(new AbortedError(`${task}: cancelled`))),
        opts.abortGraceMs ?? 2000,
      );
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'result') finish(() => resolve(m.result as R));
      else if (m.type === 'error') {
        finish(() =>
          reject(
            m.aborted
              ? new AbortedError(`${task}: cancelled`)
              : new WorkerTaskError(`${task}: ${m.message}`, task, m.stack),
          ),
        );
      }
    });
    worker.on('error', (e) =>
      finish(() => reject(new WorkerTaskError(`${task}: worker crashed: ${e.message}`, task, e.stack))),
    );
    worker.on('exit', (code) =>
      finish(() => reject(new WorkerTaskError(`${task}: worker exited with code ${code}`, task))),
    );
    worker.postMessage({ type: 'start', task, payload } satisfies WorkerRequest);
  });
}
