// Every custom message of yollava: between the extension and the language server (LSP requests and
// notifications beyond the standard ones), and between the extension and its webview panel. Each says
// who sends it and why. Standard LSP messages are not here. Each LSP message is one typed object, which the
// server, the extension and the test client all use: its method string is written here and nowhere else.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';

// ─── Extension ⇄ language server ────────────────────────────────────────────────────────────────────

/** Server → client, after each validation of a subject file: counts for the status bar and CodeLens. */
export const ValidatedNotification = new NotificationType<ValidatedParams>('yollava/validated');
export interface ValidatedParams {
  uri: string;
  name?: string;
  errors: number;
  warnings: number;
  /** Usable images per field, e.g. { "images.train": 5 }. */
  images: Record<string, number>;
}

/**
 * Client → server: train this subject now (the Train command and CodeLens). The job is queued like a
 * save's; the request answers when it ends, and fails with the reason when it fails or is cancelled.
 * Progress appears as LSP work-done progress and JobStateNotification.
 */
export const TrainRequest = new RequestType<SubjectParams, TrainSummary, void>('yollava/train');
export interface SubjectParams {
  uri: string;
}
export interface TrainSummary {
  name: string;
  seconds: number;
  /** Weighted recognition on the training data at the chosen epoch, P(Yes) > P(No) as recognize decides. */
  recognition: number;
  bestEpoch: number;
  artifactDir: string;
}

/** Client → server: evaluate the trained concept on the held-out photos (the Evaluate command). */
export const EvaluateRequest = new RequestType<SubjectParams, EvaluationSummary, void>('yollava/evaluate');
export interface EvaluationSummary {
  name: string;
  weighted: number;
  positive: number;
  negative: number;
  calibrated: number;
  positives: number;
  negatives: number;
  visualQa?: number;
  textQa?: number;
}

/**
 * Client → server: score every image of a folder for the subject (the recognition preview). Images the
 * subject file labels (training or test photos, negatives) carry that label, so wrong answers show.
 */
export const RecognizeRequest = new RequestType<RecognizeParams, RecognitionReport, void>(
  'yollava/recognize',
);
export interface RecognizeParams {
  uri: string;
  /** Folder or image paths, absolute or relative to the subject file (default: its test photos). */
  targets?: string[];
  /** Without targets: the subject's test photos (default) or its training photos. */
  photos?: 'test' | 'train';
}

/** The error code of a recognition request that found no photos to score (e.g. no test photos). */
export const NO_PHOTOS_TO_SCORE = 5;
export interface RecognitionItem {
  image: string;
  /** logit(Yes) − logit(No) */
  score: number;
  present: boolean;
  /** What the subject file says the image is, where it says. */
  label?: 'positive' | 'negative';
  /** The answer disagrees with the label. */
  wrong?: boolean;
}
export interface RecognitionReport {
  name: string;
  threshold: number;
  mode: 'trained' | 'reference' | 'description';
  /** Sorted by score, highest first. */
  items: RecognitionItem[];
}

/**
 * Client → server: a chat question with the subject (and any other subject the question names as <x>)
 * in the prompt. The answer streams as ChatDeltaNotification with the same chatId; the request answers
 * with the whole text. Cancelling the request ($/cancelRequest) stops the generation.
 */
export const ChatRequest = new RequestType<ChatParams, ChatAnswer, void>('yollava/chat');
export interface ChatParams {
  chatId: string;
  uri: string;
  question: string;
  /** The conversation so far, oldest first. */
  history: { role: 'user' | 'assistant'; text: string }[];
  /** An image to ask about (absolute path). */
  image?: string;
  /** The longest answer, in tokens (default 96, at most 2048); it also ends where the model's positions do. */
  maxAnswerTokens?: number;
}
export interface ChatAnswer {
  answer: string;
  /** How each subject was used: its trained concept, or its photos as references (instant mode). */
  modes: { name: string; mode: 'trained' | 'reference' | 'description' }[];
  /** Whether this question loaded the model (false: the server kept it warm). */
  loadedModel: boolean;
  /** The execution provider the model runs on (what `executionProvider: auto` chose). */
  provider?: string;
  stopped: boolean;
}

/** Server → client: a piece of a chat answer as it is generated. */
export const ChatDeltaNotification = new NotificationType<ChatDeltaParams>('yollava/chatDelta');
export interface ChatDeltaParams {
  chatId: string;
  delta: string;
}

/** One training run of a subject as the dashboard shows it: kept for the last run of each subject. */
export interface TrainingRun {
  uri: string;
  name: string;
  startedAt: string;
  finishedAt?: string;
  state: JobStateName;
  phase: string;
  /** 0–100 over the whole run. */
  percent: number;
  etaSeconds?: number;
  /**
   * The loss over the whole run so far, in at most 200 buckets of consecutive steps (steps counted over
   * all epochs from 1): each bucket's mean, min and max (jobs/loss-summary.ts).
   */
  losses: LossBucket[];
  /** The newest step's loss. */
  lastLoss?: number;
  /** Mean loss and training recognition per epoch. */
  epochs: { epoch: number; loss: number; recognition: number }[];
  error?: string;
  result?: TrainSummary;
}

/** Steps `from`..`to` (n of them) of a training run, summarized. */
export interface LossBucket {
  from: number;
  to: number;
  n: number;
  mean: number;
  min: number;
  max: number;
}

export type JobStateName = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** Server → client: a job's state changed or it made progress (status bar, dashboard). */
export const JobStateNotification = new NotificationType<JobStateParams>('yollava/jobState');
export interface JobStateParams {
  uri: string;
  kind: 'train' | 'evaluate' | 'recognize';
  state: JobStateName;
  /** One line for people: "training 34% · loss 0.42 · ETA 40 s". */
  message: string;
  /** For training jobs: the run so far. */
  run?: TrainingRun;
  /** Cancelled because a newer save of the subject replaced it (nobody asked for it to stop). */
  superseded?: boolean;
}

/**
 * Client → server: the user saved this subject by hand (Ctrl+S, after the save completed). Web VS Code's
 * auto-save can swallow a hand save made about when it fires, and then only an auto-save is reported;
 * this says what the user did. It trains as a hand save does.
 */
export const SavedByHandNotification = new NotificationType<SubjectParams>('yollava/savedByHand');

/** Client → server: cancel the subject's job of this kind, queued or running (the CodeLens's Cancel). */
export const CancelJobRequest = new RequestType<CancelJobParams, void, void>('yollava/cancelJob');
export interface CancelJobParams {
  uri: string;
  kind: JobStateParams['kind'];
}

/** Client → server: the last training run of a subject (the dashboard, when it opens). */
export const TrainingRunRequest = new RequestType<SubjectParams, TrainingRun | null, void>(
  'yollava/trainingRun',
);

/**
 * Client → server: the negative pools a new subject could use, for "New Subject from Folder…": the
 * folders other subjects of the workspace name in negatives.pools, and the yollava.negativePools setting.
 */
export const NegativePoolsRequest = new RequestType<{ uri?: string }, NegativePool[], void>(
  'yollava/negativePools',
);
export interface NegativePool {
  /** Absolute path of the folder. */
  folder: string;
  /** Who uses it: subject names, or "yollava.negativePools". */
  usedBy: string[];
  /** Images directly in the folder (counted up to 10,000). */
  images: number;
}

/** Commands the server executes (workspace/executeCommand), offered by its code actions and CodeLens. */
export const Commands = {
  /** Creates a folder a subject file refers to. Argument: the absolute folder path. */
  createFolder: 'yollava.server.createFolder',
} as const;

/** Settings under "yollava." the server reads, per resource. */
export interface YollavaSettings {
  modelPath: string;
  executionProvider: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  /** Train when a valid subject file is saved by hand. */
  trainOnSave: boolean;
  /** Also train on auto-saves (after a delay, on focus change). */
  trainOnAutoSave: boolean;
  negativePools: string[];
}

export const DEFAULT_SETTINGS: YollavaSettings = {
  modelPath: '',
  executionProvider: 'auto',
  trainOnSave: true,
  trainOnAutoSave: false,
  negativePools: [],
};

// ─── Extension ⇄ webview panel ──────────────────────────────────────────────────────────────────────

export type PanelMode = 'chat' | 'recognition' | 'training';

/** Webview → extension. */
export type PanelToHost =
  /** The panel's script has loaded and can take messages. */
  | { type: 'ready' }
  | { type: 'ask'; text: string }
  /** Stop the answer being generated. */
  | { type: 'stop' }
  /** Forget the conversation. */
  | { type: 'clear' }
  /** Open a file dialog for the image to ask about. */
  | { type: 'pickImage' }
  /** An image dropped on the panel: a workspace URI (from the Explorer) or a file's bytes. */
  | { type: 'dropImage'; uri?: string; name?: string; dataUrl?: string }
  | { type: 'removeImage' }
  /** Run the recognition preview over `folder` (default: the subject's test photos, or `photos`). */
  | { type: 'recognize'; folder?: string; photos?: 'test' | 'train' }
  | { type: 'pickFolder' };

/** Extension → webview. */
export type HostToPanel =
  | { type: 'init'; mode: PanelMode; subject: string; name?: string }
  | { type: 'answerStart'; id: string; question: string }
  | { type: 'delta'; id: string; text: string }
  | { type: 'answerEnd'; id: string; text: string; stopped: boolean; note?: string }
  | { type: 'image'; name: string; src: string }
  | { type: 'imageCleared' }
  | { type: 'busy'; text: string }
  /** The subject has no test photos: offer its training photos or a folder instead of failing. */
  | { type: 'noTestPhotos'; text: string }
  | {
      type: 'recognition';
      report: RecognitionReport & { items: (RecognitionItem & { src: string })[] };
      folder: string;
    }
  | { type: 'training'; run: TrainingRun | null }
  | { type: 'error'; text: string };
