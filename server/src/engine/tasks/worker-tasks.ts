// The tasks a worker thread can run, by name. The warm tasks (chat, recognize, evaluate) share one
// ModelCache, so a resident thread answers the next question without loading the model again.
import '../graph/index';
import type { CompiledModel } from '../graph/serialize';
import type { HostTensor } from '../runtime/host-tensor';
import { GraphSession, type ProviderSetting, type SessionOptions } from '../runtime/session';
import type { WorkerTask } from '../runtime/worker-protocol';
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
}

/** Streams an answer: each progress message is `{ delta }`, a piece of text as it is generated. */
const chatTask: WorkerTask = async (p: ChatPayload, ctx): Promise<ChatResult> => {
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
  return { answer: answer.trim(), modes, loadedModel: loaded };
};

export interface RecognizePayload extends ModelChoice {
  subjectFile: string;
  images: string[];
  mode?: UseModeSetting;
}

const recognizeTask: WorkerTask = async (p: RecognizePayload) => {
  const { model } = warmModel(p.subjectFile, p);
  return recognize(p.subjectFile, p.images, { model, mode: p.mode });
};

export interface EvaluatePayload extends ModelChoice {
  subjectFile: string;
  pools?: string[];
}

const evaluateTask: WorkerTask = async (p: EvaluatePayload) => {
  const { model } = warmModel(p.subjectFile, p);
  return evaluateSubject(p.subjectFile, { model, pools: p.pools });
};

export const workerTasks: Record<string, WorkerTask> = {
  'graph.run': runGraph,
  personalize: personalizeTask,
  chat: chatTask,
  recognize: recognizeTask,
  evaluate: evaluateTask,
  'models.loaded': async () => models.loaded(),
  'models.release': async () => models.releaseAll(),
};
