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

/** What a task registry declares of each task: its payload, result and progress messages. */
export interface TaskTypes {
  payload: unknown;
  result: unknown;
  progress: unknown;
}

/** A registry's declaration: task name → its types (tasks/worker-tasks.ts declares the engine's). */
export type TaskMap = { [task: string]: TaskTypes };

/** What a registry's declaration M must be: every task's types. */
export type TaskMapOf<M> = { [K in keyof M]: TaskTypes };

/** The implementations a registry must provide for its declaration. */
export type TaskImplementations<M extends TaskMapOf<M>> = {
  [K in keyof M]: (payload: M[K]['payload'], ctx: TaskContext) => Promise<M[K]['result']>;
};
