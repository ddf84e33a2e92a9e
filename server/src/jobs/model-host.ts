// The warm model: one resident worker thread that keeps the model (and its sessions) loaded between chat
// questions and recognition runs. It is let go when the settings change, when memory runs short, or
// after a while with nothing to do; the next request loads it again.
import os from 'node:os';
import { taskWorker, type WorkerRunOptions, type WorkerTaskMap } from '../engine';

export interface ModelHostOptions {
  /** Let the model go after this long without a request (default 10 minutes). */
  idleMs?: number;
  /** Let an idle model go when free memory falls below this many bytes (default 1 GiB). */
  minFreeBytes?: number;
  /** How often free memory is looked at (default 30 s). */
  memoryCheckMs?: number;
  log?: (line: string) => void;
}

export class ModelHost {
  private readonly worker = taskWorker();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly memoryTimer: NodeJS.Timeout;

  constructor(private readonly opts: ModelHostOptions = {}) {
    this.memoryTimer = setInterval(() => {
      if (this.worker.alive && !this.worker.busy && os.freemem() < (opts.minFreeBytes ?? 2 ** 30))
        void this.evict('memory is short');
    }, opts.memoryCheckMs ?? 30_000);
    this.memoryTimer.unref();
  }

  get warm(): boolean {
    return this.worker.alive;
  }

  async run<K extends keyof WorkerTaskMap & string>(
    task: K,
    payload: WorkerTaskMap[K]['payload'],
    opts: WorkerRunOptions<WorkerTaskMap[K]['progress']> = {},
  ): Promise<WorkerTaskMap[K]['result']> {
    clearTimeout(this.idleTimer);
    try {
      return await this.worker.run(task, payload, { abortGraceMs: 5000, ...opts });
    } finally {
      if (!this.worker.busy) {
        this.idleTimer = setTimeout(() => void this.evict('idle'), this.opts.idleMs ?? 600_000);
        this.idleTimer.unref();
      }
    }
  }

  /** Lets the model go (what was loaded is loaded again on the next request). */
  async evict(reason: string): Promise<void> {
    if (!this.worker.alive) return;
    this.opts.log?.(`yollava: releasing the warm model (${reason})`);
    await this.worker.close(`the warm model was released (${reason})`);
  }

  async close(): Promise<void> {
    clearInterval(this.memoryTimer);
    clearTimeout(this.idleTimer);
    await this.worker.close('the server is shutting down');
  }
}
