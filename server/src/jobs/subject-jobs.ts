// The language server's heavy work on subjects: training in a fresh worker thread per job (its memory
// goes back when it ends), evaluation and recognition on the warm model, all through one JobQueue so that
// one device runs one job at a time; chat goes straight to the warm model so that it answers while a
// training job waits. Each training run is kept (loss per step, recognition per epoch) for the dashboard.
import path from 'node:path';
import type { PersonalizeProgress } from '../engine';
import type { ProviderSetting } from '../engine';
import { runTask, trainingRecognition } from '../engine';
import type { ChatPayload, EvaluatePayload, RecognizePayload } from '../engine';
import type {
  ChatAnswer,
  EvaluationSummary,
  JobStateName,
  JobStateParams,
  RecognitionReport,
  TrainingRun,
  TrainSummary,
} from '../protocol';
import { JobCancelledError, JobQueue, type JobHandle, type JobState } from './job-queue';
import { LossSummary } from './loss-summary';
import { ModelHost } from './model-host';

/** What a job runs on, from the settings of the subject's resource. */
export interface JobSettings {
  modelDir?: string;
  provider: ProviderSetting;
  pools: string[];
}

export interface SubjectJobEvents {
  onJobState(p: JobStateParams): void;
  log(line: string): void;
}

type Kind = JobStateParams['kind'];

export class SubjectJobs {
  private readonly queue: JobQueue;
  private readonly host: ModelHost;
  private readonly runs = new Map<string, TrainingRun>();
  /** The run a training job started, by job key, until it ends: a job that never started has none. */
  private readonly ownRuns = new Map<string, TrainingRun>();
  private readonly recognitions = new Map<string, { report: RecognitionReport; at: number }>();
  private readonly kinds = new Map<string, { uri: string; kind: Kind }>();

  constructor(private readonly events: SubjectJobEvents) {
    this.host = new ModelHost({ log: events.log });
    this.queue = new JobQueue((key, state, error) => this.stateChanged(key, state, error));
  }

  static key(kind: Kind, file: string): string {
    return `${kind}:${path.resolve(file)}`;
  }

  /** Queues training; a job of the same subject already queued or running is replaced. */
  train(file: string, uri: string, s: JobSettings, debounceMs = 0): JobHandle<TrainSummary> {
    const key = SubjectJobs.key('train', file);
    this.kinds.set(key, { uri, kind: 'train' });
    return this.queue.submit({
      key,
      device: s.provider,
      debounceMs,
      run: async (signal) => {
        const run = this.startRun(uri, file);
        this.ownRuns.set(key, run);
        const r = await runTask(
          'personalize',
          { subjectFile: file, options: { modelDir: s.modelDir, pools: s.pools, provider: s.provider } },
          { signal, abortGraceMs: 5000, onProgress: (p) => this.progress(run, p) },
        );
        const best = r.history.find((h) => h.epoch === r.meta.bestEpoch);
        run.result = {
          name: r.meta.name,
          seconds: r.seconds.total,
          recognition: best?.raw?.weighted ?? trainingRecognition(r.meta)?.weighted ?? 0,
          bestEpoch: r.meta.bestEpoch,
          artifactDir: r.artifactDir,
        };
        run.name = r.meta.name;
        run.percent = 100;
        return run.result as TrainSummary;
      },
    });
  }

  evaluate(file: string, uri: string, s: JobSettings): JobHandle<EvaluationSummary> {
    const key = SubjectJobs.key('evaluate', file);
    this.kinds.set(key, { uri, kind: 'evaluate' });
    return this.queue.submit({
      key,
      device: s.provider,
      run: async (signal) => {
        const r = await this.host.run(
          'evaluate',
          {
            subjectFile: file,
            modelDir: s.modelDir,
            provider: s.provider,
            pools: s.pools,
          } satisfies EvaluatePayload,
          { signal },
        );
        return {
          name: r.concept.name,
          weighted: r.recognition_weighted,
          positive: r.recognition_positive,
          negative: r.recognition_negative,
          calibrated: r.calibrated.weighted,
          positives: r.counts.positives,
          negatives: r.counts.negatives_other_subjects + r.counts.negatives_unseen_pool,
          visualQa: r.visual_qa,
          textQa: r.text_qa,
        };
      },
    });
  }

  /** Scores `images`; `labels` says which ones the subject file calls positive or negative. */
  recognize(
    file: string,
    uri: string,
    name: string,
    images: string[],
    labels: Map<string, 'positive' | 'negative'>,
    s: JobSettings,
  ): JobHandle<RecognitionReport> {
    const key = SubjectJobs.key('recognize', file);
    this.kinds.set(key, { uri, kind: 'recognize' });
    return this.queue.submit({
      key,
      device: s.provider,
      run: async (signal) => {
        const r = await this.host.run(
          'recognize',
          {
            subjectFile: file,
            images,
            modelDir: s.modelDir,
            provider: s.provider,
          } satisfies RecognizePayload,
          { signal },
        );
        const items = r
          .map((x) => {
            const label = labels.get(path.resolve(x.image));
            return {
              image: x.image,
              score: x.score,
              present: x.present,
              label,
              wrong: label ? (label === 'positive') !== x.present : undefined,
            };
          })
          .sort((a, b) => b.score - a.score);
        const report: RecognitionReport = {
          name,
          threshold: r[0]?.threshold ?? 0,
          mode: r[0]?.mode ?? 'trained',
          items,
        };
        this.recognitions.set(path.resolve(file), { report, at: Date.now() });
        return report;
      },
    });
  }

  /** Answers a chat question on the warm model, streaming pieces through `onDelta`. */
  async chat(
    files: string[],
    question: string,
    history: ChatPayload['history'],
    image: string | undefined,
    s: JobSettings,
    maxNewTokens: number,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<ChatAnswer> {
    const r = await this.host.run(
      'chat',
      {
        subjectFiles: files,
        question,
        history,
        image,
        maxNewTokens,
        modelDir: s.modelDir,
        provider: s.provider,
      } satisfies ChatPayload,
      { signal, onProgress: (p) => onDelta((p as { delta: string }).delta) },
    );
    // The setting `auto` promises to say where the model runs: once, when a question loaded it.
    if (r.loadedModel && r.provider)
      this.events.log(
        `yollava: the model runs on ${r.provider.provider}${s.provider === 'auto' && r.provider.passedOver.length ? ` (auto passed over ${r.provider.passedOver.join('; ')})` : ''}`,
      );
    const { provider, ...answer } = r;
    return { ...answer, ...(provider ? { provider: provider.provider } : {}), stopped: signal.aborted };
  }

  /** The newest recognition run of a subject (hover, decorations). */
  lastRecognition(file: string): RecognitionReport | undefined {
    return this.recognitions.get(path.resolve(file))?.report;
  }

  lastRun(uri: string): TrainingRun | undefined {
    return this.runs.get(uri);
  }

  stateOf(kind: Kind, file: string): JobState | undefined {
    return this.queue.stateOf(SubjectJobs.key(kind, file));
  }

  cancel(kind: Kind, file: string, reason?: string): void {
    this.queue.cancelKey(SubjectJobs.key(kind, file), reason);
  }

  /** The model settings changed: the warm model is let go, and loaded again as the new settings say. */
  async settingsChanged(): Promise<void> {
    await this.host.evict('the settings changed');
  }

  get warm(): boolean {
    return this.host.warm;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async close(): Promise<void> {
    this.queue.cancelAll();
    await this.host.close();
  }

  private startRun(uri: string, file: string): TrainingRun {
    const run: TrainingRun = {
      uri,
      name: path.basename(file).replace(/\.subject\.ya?ml$/, ''),
      startedAt: new Date().toISOString(),
      state: 'running',
      phase: 'starting',
      percent: 0,
      losses: [],
      epochs: [],
    };
    this.runs.set(uri, run);
    this.lossSummaries.set(run, new LossSummary(run.losses));
    this.notify('train', run, 'training: loading the model');
    return run;
  }

  /** Each run's loss summary: it fills the run's `losses` in place. */
  private lossSummaries = new WeakMap<TrainingRun, LossSummary>();

  /** When each run last sent progress: per run, so that one subject's updates never hold back another's. */
  private lastSent = new WeakMap<TrainingRun, number>();

  private progress(run: TrainingRun, p: PersonalizeProgress): void {
    run.phase = p.phase;
    let message: string;
    if (p.phase === 'load') {
      const gb = (b: number): string => (b / 1e9).toFixed(1);
      run.percent = 0;
      message = `loading the model ${gb(p.done)} / ${gb(p.total)} GB`;
    } else if ('done' in p) {
      const [from, to] = p.phase === 'embed' ? [0, 10] : [10, 30];
      run.percent = from + ((to - from) * p.done) / Math.max(1, p.total);
      message = `${p.phase === 'embed' ? 'reading photos' : 'writing conversations'} ${p.done}/${p.total}`;
    } else {
      const global = (p.epoch - 1) * p.steps + p.step;
      run.percent = 30 + (70 * global) / Math.max(1, p.epochs * p.steps);
      run.etaSeconds = p.etaSeconds;
      if (p.phase === 'train') {
        this.lossSummaries.get(run)?.add(global, p.loss);
        run.lastLoss = p.loss;
      } else run.epochs.push({ epoch: p.epoch, loss: p.loss, recognition: p.recognition ?? 0 });
      message = `training ${Math.floor(run.percent)}% · loss ${p.loss.toFixed(2)} · ETA ${Math.ceil(p.etaSeconds)} s`;
    }
    // A few messages a second are plenty for a progress bar; epoch ends always go out.
    const now = Date.now();
    if (p.phase !== 'select' && now - (this.lastSent.get(run) ?? 0) < 250) return;
    this.lastSent.set(run, now);
    this.notify('train', run, message);
  }

  private notify(kind: Kind, run: TrainingRun, message: string): void {
    this.events.onJobState({ uri: run.uri, kind, state: run.state, message, run });
  }

  private stateChanged(key: string, state: JobState, error?: Error): void {
    const k = this.kinds.get(key);
    if (!k) return;
    const run = k.kind === 'train' ? this.runs.get(k.uri) : undefined;
    let message = `${k.kind} ${state}`;
    if (state === 'queued') message = `${k.kind} queued`;
    if (state === 'running') message = `${k.kind} started`;
    if (state === 'failed' || state === 'cancelled') message = `${k.kind} ${state}: ${error?.message ?? ''}`;
    if (run && state === 'running' && run.state !== 'running') run.state = 'running';
    // A job ends its own run only: one replaced or cancelled while it waited in the queue never started
    // one, and the subject's last run (done, say) stays as it was.
    const own = this.ownRuns.get(key);
    if (own && (state === 'done' || state === 'failed' || state === 'cancelled')) {
      this.ownRuns.delete(key);
      own.state = state;
      own.finishedAt = new Date().toISOString();
      if (error) own.error = error.message;
    }
    if (state === 'done' && run?.result)
      message = `trained <${run.result.name}> in ${run.result.seconds.toFixed(1)} s · recognition ${run.result.recognition.toFixed(2)} on its training photos`;
    this.events.onJobState({
      uri: k.uri,
      kind: k.kind,
      state: state as JobStateName,
      message,
      run: k.kind === 'train' && state !== 'queued' ? run : undefined,
      ...(error instanceof JobCancelledError && error.superseded ? { superseded: true } : {}),
    });
  }
}
