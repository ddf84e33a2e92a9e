// The custom requests behind the editor's Train / Evaluate / recognition preview / chat commands: each
// checks that the subject is trusted, open and free of errors, runs as a job, and turns a concept that
// cannot be used into an offer to train again.
import path from 'node:path';
import { ResponseError, type CancellationToken } from 'vscode-languageserver';
import type { ServerContext } from '../context';
import { imageLabels, MAX_HISTORY_MESSAGES, resolveImages, WorkerTaskError } from '../engine';
import { JobCancelledError } from '../jobs/job-queue';
import {
  CancelJobRequest,
  ChatDeltaNotification,
  ChatRequest,
  EvaluateRequest,
  NO_PHOTOS_TO_SCORE,
  RecognizeRequest,
  TrainingRunRequest,
  TrainRequest,
  type CancelJobParams,
  type ChatAnswer,
  type ChatParams,
  type EvaluationSummary,
  type RecognitionReport,
  type RecognizeParams,
  type SubjectParams,
  type TrainingRun,
  type TrainSummary,
} from '../protocol';
import type { Validation } from '../validation';

function signalOf(token: CancellationToken): AbortSignal {
  const c = new AbortController();
  if (token.isCancellationRequested) c.abort();
  token.onCancellationRequested(() => c.abort());
  return c.signal;
}

export function registerJobRequests(ctx: ServerContext, validation: Validation): void {
  const { connection, documents, states, jobs } = ctx;
  const restricted = (): ResponseError<void> =>
    new ResponseError(
      1,
      'Restricted Mode: training, evaluation, recognition and chat load models and photos that this workspace names; trust the workspace to use them (validation works meanwhile)',
    );

  /** The subject behind a request, validated and free of errors. */
  async function subjectOf(uri: string): Promise<{ file: string; name: string }> {
    if (!ctx.trusted) throw restricted();
    const file = ctx.fileOf(uri);
    if (!documents.get(uri)) throw new ResponseError(2, `${path.basename(file)} is not open`);
    await validation.idle(uri);
    const st = states.get(uri);
    const name = typeof st?.parsed.value?.name === 'string' ? st.parsed.value.name : undefined;
    if (!st || !name) throw new ResponseError(3, `${path.basename(file)}: no valid subject name`);
    if (st.errors)
      throw new ResponseError(
        3,
        `${path.basename(file)} has ${st.errors} error(s): fix them first (Problems panel)`,
      );
    return { file, name };
  }

  /**
   * A trained concept that cannot be used (truncated weights, concept.json edited by hand, another base
   * model) is no crash: the request fails with the reason, and the user is offered to train again.
   */
  function offerRetrain(uri: string, e: unknown): void {
    if (!(e instanceof WorkerTaskError) || e.errorName !== 'ConceptError') return;
    const file = ctx.fileOf(uri);
    void Promise.resolve(
      connection.window.showErrorMessage(
        `yollava: the trained concept of ${path.basename(file)} cannot be used: ${e.message.replace(/^.*this concept cannot be used: /, '').replace(/^\w+: /, '')}`,
        { title: 'Retrain' },
      ),
    )
      .then(async (choice) => {
        if (choice?.title === 'Retrain') jobs.train(file, uri, await ctx.jobSettings(uri));
      })
      .catch(() => undefined);
  }

  const failure = (e: unknown, uri?: string): ResponseError<void> => {
    if (uri) offerRetrain(uri, e);
    return new ResponseError(e instanceof JobCancelledError ? -32800 : 4, (e as Error).message);
  };

  connection.onRequest(TrainRequest, async (p: SubjectParams, token): Promise<TrainSummary> => {
    const { file } = await subjectOf(p.uri);
    const job = jobs.train(file, p.uri, await ctx.jobSettings(p.uri));
    token.onCancellationRequested(() => job.cancel('cancelled'));
    try {
      return await job.result;
    } catch (e) {
      throw failure(e);
    }
  });

  connection.onRequest(EvaluateRequest, async (p: SubjectParams, token): Promise<EvaluationSummary> => {
    const { file } = await subjectOf(p.uri);
    const job = jobs.evaluate(file, p.uri, await ctx.jobSettings(p.uri));
    token.onCancellationRequested(() => job.cancel('cancelled'));
    try {
      return await job.result;
    } catch (e) {
      throw failure(e, p.uri);
    }
  });

  connection.onRequest(RecognizeRequest, async (p: RecognizeParams, token): Promise<RecognitionReport> => {
    const { file, name } = await subjectOf(p.uri);
    const st = states.get(p.uri)!;
    const dir = path.dirname(file);
    const field = p.photos === 'train' ? 'images.train' : 'images.test';
    const images = p.targets?.length
      ? resolveImages(dir, p.targets, 'targets')
      : (st.summary.images.get(field) ?? []);
    if (!images.length)
      throw new ResponseError(NO_PHOTOS_TO_SCORE, `no images to score in ${p.targets?.join(', ') ?? field}`);
    const job = jobs.recognize(
      file,
      p.uri,
      name,
      images,
      imageLabels(st.summary),
      await ctx.jobSettings(p.uri),
    );
    token.onCancellationRequested(() => job.cancel('cancelled'));
    try {
      return await job.result;
    } catch (e) {
      throw failure(e, p.uri);
    }
  });

  connection.onRequest(ChatRequest, async (p: ChatParams, token): Promise<ChatAnswer> => {
    const { file } = await subjectOf(p.uri);
    // Other subjects the question names as <x> join the prompt.
    const others = [...p.question.matchAll(/<([A-Za-z][\w-]*)>/g)]
      .map((m) => ctx.index.byName().get(m[1]!)?.[0])
      .filter((f): f is string => !!f && path.resolve(f) !== path.resolve(file));
    try {
      return await jobs.chat(
        [file, ...new Set(others)],
        p.question,
        // Only the newest turns can fit the model's positions (use.ts trims further by tokens).
        p.history.slice(-MAX_HISTORY_MESSAGES).map((h) => ({ role: h.role, text: h.text, images: 0 })),
        p.image,
        await ctx.jobSettings(p.uri),
        Math.min(2048, Math.max(1, Math.floor(Number(p.maxAnswerTokens) || 96))),
        (delta) => void connection.sendNotification(ChatDeltaNotification, { chatId: p.chatId, delta }),
        signalOf(token),
      );
    } catch (e) {
      throw failure(e, p.uri);
    }
  });

  connection.onRequest(CancelJobRequest, (p: CancelJobParams): void =>
    jobs.cancel(p.kind, ctx.fileOf(p.uri), 'cancelled from the editor'),
  );

  connection.onRequest(
    TrainingRunRequest,
    (p: SubjectParams): TrainingRun | null => jobs.lastRun(p.uri) ?? null,
  );
}
