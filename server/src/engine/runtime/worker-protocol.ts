// Messages between the thread that starts tasks (worker.ts) and the worker entry. Every message names its
// task by id, so one resident thread can serve several tasks (a warm model answering chat while a
// recognition run waits) and a cancel reaches only the task it is meant for.
export type WorkerRequest =
  { type: 'start'; id: number; task: string; payload: unknown } | { type: 'abort'; id: number };

export type WorkerMessage =
  | { type: 'progress'; id: number; progress: unknown }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string; name?: string; stack?: string; aborted: boolean };

export interface TaskContext {
  signal: AbortSignal;
  progress(p: unknown): void;
}

export type WorkerTask = (payload: never, ctx: TaskContext) => Promise<unknown>;
