// The queue of heavy jobs (training, evaluation, recognition). One job runs at a time per device, since
// two jobs on one device only slow each other down. A job has a key (its subject and kind): submitting a
// key again replaces the queued job, or cancels the running one and queues the new one after it, so one
// subject never trains twice at once. Debounced jobs wait a moment first, and a burst of saves makes one
// run.

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobSpec<R> {
  /** Jobs with the same key replace each other (e.g. "train:/ws/bo.subject.yaml"). */
  key: string;
  /** Jobs on the same device run one at a time (e.g. "cpu"). */
  device: string;
  /** Wait this long before the job may start; a newer submission of the key restarts the wait. */
  debounceMs?: number;
  run(signal: AbortSignal): Promise<R>;
}

export interface JobHandle<R> {
  readonly key: string;
  /** Resolves with the result; rejects with JobCancelledError when cancelled or superseded. */
  readonly result: Promise<R>;
  cancel(reason?: string): void;
  readonly state: JobState;
}

/** A job that was cancelled or superseded. Its message is for people: the reason, never the job's key. */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError';
  constructor(
    reason: string,
    /** A newer submission of the same key replaced it: nobody asked for it to stop, nothing to report. */
    readonly superseded = false,
  ) {
    super(reason);
  }
}

const SUPERSEDED = 'a newer save started it again';

interface Entry {
  spec: JobSpec<unknown>;
  state: JobState;
  controller: AbortController;
  readyAt: number;
  resolve(v: unknown): void;
  reject(e: Error): void;
  handle: JobHandle<unknown>;
}

/** Time for the debounce: the real clock, or a test's own that it advances by hand. */
export interface QueueClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

const REAL_CLOCK: QueueClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

export class JobQueue {
  private readonly entries: Entry[] = [];
  private readonly running = new Map<string, Entry>();
  private timer: unknown;

  constructor(
    private readonly onState?: (key: string, state: JobState, error?: Error) => void,
    private readonly clock: QueueClock = REAL_CLOCK,
  ) {}

  submit<R>(spec: JobSpec<R>): JobHandle<R> {
    // A queued job of the same key is replaced; a running one is told to stop.
    for (const e of [...this.entries])
      if (e.spec.key === spec.key) this.finish(e, 'cancelled', new JobCancelledError(SUPERSEDED, true));
    for (const e of this.running.values())
      if (e.spec.key === spec.key) e.controller.abort(new JobCancelledError(SUPERSEDED, true));
    let resolve!: (v: unknown) => void;
    let reject!: (e: Error) => void;
    const result = new Promise<unknown>((res, rej) => ((resolve = res), (reject = rej)));
    // Nobody may await a job started by a save; its failure is reported through onState.
    result.catch(() => undefined);
    const entry: Entry = {
      spec: spec as JobSpec<unknown>,
      state: 'queued',
      controller: new AbortController(),
      readyAt: this.clock.now() + (spec.debounceMs ?? 0),
      resolve,
      reject,
      handle: undefined as never,
    };
    entry.handle = {
      key: spec.key,
      result,
      cancel: (reason = 'cancelled') => this.cancel(entry, reason),
      get state() {
        return entry.state;
      },
    };
    this.entries.push(entry);
    this.onState?.(spec.key, 'queued');
    this.pump();
    return entry.handle as JobHandle<R>;
  }

  /** Cancels the queued or running job of `key`, if any. */
  cancelKey(key: string, reason = 'cancelled'): void {
    for (const e of [...this.entries, ...this.running.values()])
      if (e.spec.key === key) this.cancel(e, reason);
  }

  /** The state of the newest job of `key` still queued or running. */
  stateOf(key: string): JobState | undefined {
    const queued = this.entries.find((e) => e.spec.key === key);
    if (queued) return 'queued';
    for (const e of this.running.values()) if (e.spec.key === key) return 'running';
    return undefined;
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.entries.length || this.running.size) {
      await Promise.allSettled([...this.running.values()].map((e) => e.handle.result));
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Cancels everything (shutdown). */
  cancelAll(reason = 'the server is shutting down'): void {
    for (const e of [...this.entries, ...this.running.values()]) this.cancel(e, reason);
  }

  private cancel(e: Entry, reason: string): void {
    if (e.state === 'queued') this.finish(e, 'cancelled', new JobCancelledError(reason));
    else if (e.state === 'running') e.controller.abort(new JobCancelledError(reason));
  }

  private finish(e: Entry, state: JobState, error?: Error, value?: unknown): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
    if (this.running.get(e.spec.device) === e) this.running.delete(e.spec.device);
    e.state = state;
    if (state === 'done') e.resolve(value);
    else e.reject(error ?? new Error(state));
    this.onState?.(e.spec.key, state, error);
    this.pump();
  }

  private pump(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.clock.now();
    let nextWake = Infinity;
    for (const e of [...this.entries]) {
      if (this.running.has(e.spec.device)) continue;
      // The same key may still be stopping on another device lane; wait for it.
      if ([...this.running.values()].some((r) => r.spec.key === e.spec.key)) continue;
      if (e.readyAt > now) {
        nextWake = Math.min(nextWake, e.readyAt);
        continue;
      }
      this.start(e);
    }
    if (nextWake < Infinity) this.timer = this.clock.setTimeout(() => this.pump(), nextWake - now);
  }

  private start(e: Entry): void {
    this.entries.splice(this.entries.indexOf(e), 1);
    this.running.set(e.spec.device, e);
    e.state = 'running';
    this.onState?.(e.spec.key, 'running');
    e.spec.run(e.controller.signal).then(
      (v) => this.finish(e, 'done', undefined, v),
      (err: Error) => {
        const reason = e.controller.signal.reason;
        if (e.controller.signal.aborted)
          this.finish(e, 'cancelled', reason instanceof Error ? reason : new JobCancelledError(String(err)));
        else this.finish(e, 'failed', err instanceof Error ? err : new Error(String(err)));
      },
    );
  }
}
