// Messages between runInWorker and the worker entry.
export type WorkerRequest = { type: 'start'; task: string; payload: unknown } | { type: 'abort' };

export type WorkerMessage =
  | { type: 'progress'; progress: unknown }
  | { type: 'result'; result: unknown }
  | { type: 'error'; message: string; stack?: string; aborted: boolean };

export interface TaskContext {
  signal: AbortSignal;
  progress(p: unknown): void;
}

export type WorkerTask = (payload: never, ctx: TaskContext) => Promise<unknown>;
