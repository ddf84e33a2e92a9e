// Runs long engine work on a worker thread: session.run blocks the event loop it is called on.
// runInWorker gives each task a fresh thread (training: its memory is returned when it ends);
// ResidentWorker keeps one thread for many tasks (a warm model for chat and recognition).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TaskMap, TaskMapOf, WorkerMessage, WorkerRequest } from './worker-protocol';

export interface WorkerRunOptions<P = unknown> {
  signal?: AbortSignal;
  onProgress?: (progress: P) => void;
  /** How long a cancelled task may take to stop by itself before the thread is terminated. */
  abortGraceMs?: number;
}

export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError';
  constructor(
    message: string,
    readonly task: string,
    readonly workerStack?: string,
    /** The error's class name on the worker's side (e.g. "ConceptError"). */
    readonly errorName?: string,
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
  // The entry lives with the task registry, above the rooms its tasks use (tasks/worker-entry.ts).
  const source = path.join(__dirname, '..', 'tasks', 'worker-entry.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

interface Pending {
  task: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: (p: unknown) => void;
}

/**
 * One worker thread serving tasks by id. A task that ignores its cancel for `abortGraceMs` takes the
 * thread down with it (and every other task on it, which then fail with the reason); the next run starts
 * a fresh thread.
 */
export class ResidentWorker<M extends TaskMapOf<M> = TaskMap> {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** Whether a thread is running (and holding whatever its tasks keep warm). */
  get alive(): boolean {
    return this.worker !== null;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Runs `task` of the registry M declares, typed by that declaration. */
  run<K extends keyof M & string>(
    task: K,
    payload: M[K]['payload'],
    opts: WorkerRunOptions<M[K]['progress']> = {},
  ): Promise<M[K]['result']> {
    type R = M[K]['result'];
    return new Promise<R>((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new AbortedError(`${task}: cancelled before it started`));
        return;
      }
      const worker = this.thread();
      const id = this.nextId++;
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        worker.postMessage({ type: 'abort', id } satisfies WorkerRequest);
        killTimer = setTimeout(() => {
          if (this.pending.has(id)) this.kill(`${task}: did not stop when cancelled`, id);
        }, opts.abortGraceMs ?? 2000);
      };
      const done = (): void => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
      };
      this.pending.set(id, {
        task,
        onProgress: opts.onProgress as ((p: unknown) => void) | undefined,
        resolve: (v) => (done(), resolve(v as R)),
        reject: (e) => (done(), reject(e)),
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ type: 'start', id, task, payload } satisfies WorkerRequest);
    });
  }

  /** Ends the thread (and what it kept warm); pending tasks fail with `reason`. */
  async close(reason = 'the worker was closed'): Promise<void> {
    const w = this.worker;
    this.kill(reason);
    await w?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    this.worker = worker;
    worker.on('message', (m: WorkerMessage) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') p.onProgress?.(m.progress);
      else {
        this.pending.delete(m.id);
        if (m.type === 'result') p.resolve(m.result);
        else
          p.reject(
            m.aborted
              ? new AbortedError(`${p.task}: cancelled`)
              : new WorkerTaskError(`${p.task}: ${m.message}`, p.task, m.stack, m.name),
          );
      }
    });
    worker.on('error', (e) => this.worker === worker && this.kill(`worker crashed: ${e.message}`));
    worker.on('exit', (code) => this.worker === worker && this.kill(`worker exited with code ${code}`));
    return worker;
  }

  /** Fails every pending task (the one cancelled as `cancelledId` as a cancellation) and drops the thread. */
  private kill(reason: string, cancelledId?: number): void {
    const w = this.worker;
    this.worker = null;
    for (const [id, p] of this.pending)
      p.reject(
        id === cancelledId
          ? new AbortedError(`${p.task}: cancelled`)
          : new WorkerTaskError(`${p.task}: ${reason}`, p.task),
      );
    this.pending.clear();
    if (w) void w.terminate();
  }
}

/** Runs the registered task `task` (tasks/worker-tasks.ts) with `payload` on a fresh worker thread. */
export async function runInWorker<M extends TaskMapOf<M>, K extends keyof M & string>(
  task: K,
  payload: M[K]['payload'],
  opts: WorkerRunOptions<M[K]['progress']> = {},
): Promise<M[K]['result']> {
  const w = new ResidentWorker<M>();
  try {
    return await w.run(task, payload, opts);
  } finally {
    await w.close();
  }
}
