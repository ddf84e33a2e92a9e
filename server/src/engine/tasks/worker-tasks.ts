// The tasks a worker thread can run, by name. The warm tasks (chat, recognize, evaluate) share one
// ModelCache, so a resident thread answers the next question without loading the model again.
import '../graph/index';
import type { CompiledModel } from '../graph/serialize';
import type { HostTensor } from '../runtime/host-tensor';
import { GraphSession, type ProviderSetting, type SessionOptions } from '../runtime/session';
import type { TaskContext, TaskImplementations } from '../runtime/worker-protocol';
import { ResidentWorker, runInWorker, type WorkerRunOptions } from '../runtime/worker';
import type { PersonalizeProgress, PersonalizeResult } from '../personalize/personalize';
import { personalize, type PersonalizeOptions } from '../personalize/personalize';
import { ModelCache } from '../models/llava/model-cache';
import { loadSubject } from '../subject/subject';
import { chat, recognize } from '../personalize/use';
import { evaluateSubject } from '../personalize/evaluate';
import type { ChatMessage } from '../models/llava/chat-template';
import type { UseMode, UseModeSetting } from '../personalize/reference-mode';

export interface RunGraphPayload {
  model: CompiledModel;
  feeds: Record<string, HostTensor>;
  options?: SessionOptions;
  /** Run the graph this many times (progress is reported after each run). */
  repeat?: number;
}

/** Runs a compiled graph; the building block for anything heavy that must not block the caller's loop. */
const runGraph = async (payload: RunGraphPayload, ctx: TaskContext): Promise<RunGraphResult> => {
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

export interface RunGraphResult {
  outputs: Record<string, HostTensor>;
  provider: string;
}

export interface PersonalizePayload {
  subjectFile: string;
  options: Omit<PersonalizeOptions, 'model' | 'signal' | 'onProgress'>;
}

/** Personalizes one subject (DESIGN §3.3): progress and cancellation cross the thread boundary. */
const personalizeTask = async (payload: PersonalizePayload, ctx: TaskContext): Promise<PersonalizeResult> =>
  personalize(payload.subjectFile, {
    ...payload.options,
    signal: ctx.signal,
    onProgress: (p) => ctx.progress(p),
  });

const models = new ModelCache();

/** Which model a subject uses, as a task names it. */
export interface ModelChoice {
  modelDir?: string;
  provider?: ProviderSetting;
}

function warmModel(subjectFile: string, choice: ModelChoice): ReturnType<ModelCache['get']> {
  const dir = loadSubject(subjectFile, { modelDir: choice.modelDir }).modelDir;
  if (!dir)
    throw new Error(
      `${subjectFile}: model: no model folder given, and the embedded default is missing: set "model" in the file or the yollava.modelPath setting`,
    );
  return models.get(dir, choice.provider);
}

export interface ChatPayload extends ModelChoice {
  subjectFiles: string[];
  question: string;
  history?: ChatMessage[];
  image?: string;
  mode?: UseModeSetting;
  maxNewTokens?: number;
}

export interface ChatResult {
  answer: string;
  modes: { name: string; mode: UseMode }[];
  /** Whether this question had to load the model (false: it was warm). */
  loadedModel: boolean;
  /** Where the model runs, and why `auto` passed over the providers before it. */
  provider?: { provider: string; passedOver: string[] };
}

/** Streams an answer: each progress message is `{ delta }`, a piece of text as it is generated. */
const chatTask = async (p: ChatPayload, ctx: TaskContext): Promise<ChatResult> => {
  const { model, loaded } = warmModel(p.subjectFiles[0]!, p);
  let answer = '';
  let modes: ChatResult['modes'] = [];
  for await (const delta of chat(p.subjectFiles, p.question, {
    model,
    history: p.history,
    image: p.image,
    mode: p.mode,
    maxNewTokens: p.maxNewTokens ?? 96,
    signal: ctx.signal,
    onModes: (m) => (modes = m),
  })) {
    answer += delta;
    ctx.progress({ delta });
    // Let a stop message in between tokens.
    await new Promise((r) => setImmediate(r));
    if (ctx.signal.aborted) break;
  }
  return {
    answer: answer.trim(),
    modes,
    loadedModel: loaded,
    ...(model.providerReport ? { provider: model.providerReport } : {}),
  };
};

export interface RecognizePayload extends ModelChoice {
  subjectFile: string;
  images: string[];
  mode?: UseModeSetting;
}

const recognizeTask = async (p: RecognizePayload): Promise<RecognizeResult> => {
  const { model } = warmModel(p.subjectFile, p);
  return recognize(p.subjectFile, p.images, { model, mode: p.mode });
};

export interface EvaluatePayload extends ModelChoice {
  subjectFile: string;
  pools?: string[];
}

const evaluateTask = async (p: EvaluatePayload): Promise<EvaluateResult> => {
  const { model } = warmModel(p.subjectFile, p);
  return evaluateSubject(p.subjectFile, { model, pools: p.pools });
};

export type RecognizeResult = Awaited<ReturnType<typeof recognize>>;
export type EvaluateResult = Awaited<ReturnType<typeof evaluateSubject>>;

/** Every task a worker thread runs: what it takes, what it returns, and what its progress messages are. */
export interface WorkerTaskMap {
  'graph.run': {
    payload: RunGraphPayload;
    result: RunGraphResult;
    progress: { done: number; total: number };
  };
  personalize: { payload: PersonalizePayload; result: PersonalizeResult; progress: PersonalizeProgress };
  chat: { payload: ChatPayload; result: ChatResult; progress: { delta: string } };
  recognize: { payload: RecognizePayload; result: RecognizeResult; progress: never };
  evaluate: { payload: EvaluatePayload; result: EvaluateResult; progress: never };
  'models.loaded': {
    payload: Record<string, never>;
    result: ReturnType<ModelCache['loaded']>;
    progress: never;
  };
  'models.release': { payload: Record<string, never>; result: void; progress: never };
}

/** A resident thread that runs the engine's tasks, typed by WorkerTaskMap. */
export function taskWorker(): ResidentWorker<WorkerTaskMap> {
  return new ResidentWorker<WorkerTaskMap>();
}

/** Runs one of the engine's tasks on a fresh thread (its memory goes back when it ends). */
export function runTask<K extends keyof WorkerTaskMap & string>(
  task: K,
  payload: WorkerTaskMap[K]['payload'],
  opts: WorkerRunOptions<WorkerTaskMap[K]['progress']> = {},
): Promise<WorkerTaskMap[K]['result']> {
  return runInWorker<WorkerTaskMap, K>(task, payload, opts);
}

export const workerTasks: TaskImplementations<WorkerTaskMap> = {
  'graph.run': runGraph,
  personalize: personalizeTask,
  chat: chatTask,
  recognize: recognizeTask,
  evaluate: evaluateTask,
  'models.loaded': async () => models.loaded(),
  'models.release': async () => models.releaseAll(),
};
