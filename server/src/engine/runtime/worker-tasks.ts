// The tasks a worker thread can run, by name. Later modules (training, embedding) add theirs here.
import '../graph/index';
import type { CompiledModel } from '../graph/serialize';
import type { HostTensor } from './host-tensor';
import { GraphSession, type SessionOptions } from './session';
import type { WorkerTask } from './worker-protocol';
import { personalize, type PersonalizeOptions } from '../personalize/personalize';

export interface RunGraphPayload {
  model: CompiledModel;
  feeds: Record<string, HostTensor>;
  options?: SessionOptions;
  /** Run the graph this many times (progress is reported after each run). */
  repeat?: number;
}

/** Runs a compiled graph; the building block for anything heavy that must not block the caller's loop. */
const runGraph: WorkerTask = async (payload: RunGraphPayload, ctx) => {
  const session = await GraphSession.create(payload.model, payload.options);
  try {
    let out: Record<string, HostTensor> = {};
    const n = payload.repeat ?? 1;
    for (let i = 0; i < n; i++) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      out = await session.run(payload.feeds);
      ctx.progress({ done: i + 1, total: n });
      // Let a pending abort message in: session.run resolves without turning the event loop.
      await new Promise((r) => setImmediate(r));
    }
    return { outputs: out, provider: session.provider };
  } finally {
    await session.release();
  }
};

export interface PersonalizePayload {
  subjectFile: string;
  options: Omit<PersonalizeOptions, 'model' | 'signal' | 'onProgress'>;
}

/** Personalizes one subject (DESIGN §3.3): progress and cancellation cross the thread boundary. */
const personalizeTask: WorkerTask = async (payload: PersonalizePayload, ctx) =>
  personalize(payload.subjectFile, {
    ...payload.options,
    signal: ctx.signal,
    onProgress: (p) => ctx.progress(p),
  });

export const workerTasks: Record<string, WorkerTask> = {
  'graph.run': runGraph,
  personalize: personalizeTask,
};
