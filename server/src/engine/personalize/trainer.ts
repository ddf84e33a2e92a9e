// The Yo'LLaVA trainer: AdamW on the concept's new rows only (input embeddings of <name> and the latent
// tokens, and their output-head rows); the model's weights are never written. After every epoch it scores
// recognition on the training photos and negatives and keeps the best epoch, like the paper. It reports
// progress, stops on an AbortSignal, and checkpoints each epoch so that a run can resume.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { FILE_CAPS, readRegularTextSync } from '../io/regular-file';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write';
import { encodeSafetensors, SafetensorsFile } from '../io/safetensors';
import type { LlavaModel } from '../models/llava/model';
import { AbortedError } from '../runtime/worker';
import { Rng } from '../util/rng';
import { AdamW } from './adamw';
import type { Concept } from './concept';
import { packConceptBatch, type BatchItem } from './concept-batch';
import type { TrainingData } from './data-builder';
import { EtaEstimator } from './eta';
import type { ImageFeatureStore } from './image-features';
import type { PromptContext } from './prompts';
import { accuracy, calibrateThreshold, recognitionScores, type RecognitionAccuracy } from './recognition';

export interface TrainerOptions {
  epochs: number;
  learningRate: number;
  weightDecay: number;
  batchSize: number;
  seed: number;
  /** Random horizontal flip of image samples (the recipe's only augmentation). Default true. */
  flip?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /** Where per-epoch checkpoints go; with `resume`, a matching checkpoint there is continued. */
  checkpointDir?: string;
  resume?: boolean;
  /** What a checkpoint must have been written under to be continued (default: the data hash). */
  resumeKey?: string;
  /** After each epoch is scored, with the concept as it stands (benchmarks read held-out figures here). */
  onEpochEnd?: (epoch: number, concept: Concept) => Promise<void>;
}

export interface TrainProgress {
  phase: 'train' | 'select';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  etaSeconds: number;
  /**
   * With phase 'select': the epoch's weighted recognition on the training data, read as the product
   * decides, P(Yes) > P(No). Selection reads the same scores at their own best threshold (EpochRecord).
   */
  recognition?: number;
}

export interface EpochRecord {
  epoch: number;
  meanLoss: number;
  /** At `threshold`, the best one for these very scores: optimistic, used only to pick the epoch. */
  recognition: RecognitionAccuracy;
  threshold: number;
  /**
   * At P(Yes) > P(No), the way recognize decides: what the product reports of its training photos.
   * Absent from the history of a checkpoint written before it was recorded.
   */
  raw?: RecognitionAccuracy;
}

export interface TrainResult {
  best: Concept;
  bestEpoch: number;
  history: EpochRecord[];
  resumedFromEpoch: number;
  /** Where the training time went: packing batches, graph runs, AdamW, scoring between epochs. */
  seconds: { prepare: number; graph: number; optimizer: number; scoring: number };
}

export async function trainConcept(
  model: LlavaModel,
  ctx: PromptContext,
  yesNo: { yes: number; no: number },
  store: ImageFeatureStore,
  data: TrainingData,
  concept: Concept,
  o: TrainerOptions,
): Promise<TrainResult> {
  const D = model.hidden;
  const opt = new AdamW([concept.embeddings, concept.head], {
    lr: o.learningRate,
    weightDecay: o.weightDecay,
  });
  const rng = new Rng(o.seed);
  const best = concept.clone();
  let bestEpoch = 0;
  let bestScore = -1;
  const history: EpochRecord[] = [];
  let startEpoch = 1;

  const ckpt = o.checkpointDir ? path.join(o.checkpointDir, 'checkpoint') : null;
  if (ckpt && o.resume) {
    const state = readCheckpoint(ckpt, o.resumeKey ?? data.dataHash, concept, best, opt);
    if (state) {
      startEpoch = state.epoch + 1;
      bestEpoch = state.bestEpoch;
      bestScore = state.bestScore;
      history.push(...state.history);
      rng.restore(state.rng);
    }
  }

  const frozenHeadRows = concept.headRows === 'name' ? concept.head.slice(D) : null;
  const steps = Math.ceil(data.samples.length / o.batchSize);
  const timing = { prepare: 0, graph: 0, optimizer: 0, scoring: 0 };
  const eta = new EtaEstimator(steps * (o.epochs - startEpoch + 1), o.epochs - startEpoch + 1, {
    batch: o.batchSize,
    scoredPerEpoch: data.positives.length + data.negatives.length,
  });
  const clock = (): number => performance.now() / 1000;

  for (let epoch = startEpoch; epoch <= o.epochs; epoch++) {
    const order = rng.shuffle(data.samples.map((_, i) => i));
    let lossSum = 0;
    for (let s = 0; s < steps; s++) {
      // Let a cancel request in: on a worker thread it arrives as a message, which needs the loop to turn.
      await new Promise((r) => setImmediate(r));
      if (o.signal?.aborted) throw new AbortedError('training cancelled');
      let t = clock();
      const items: BatchItem[] = [];
      for (const idx of order.slice(s * o.batchSize, (s + 1) * o.batchSize)) {
        const sample = data.samples[idx]!;
        const flip = (o.flip ?? true) && sample.image !== undefined && rng.next() < 0.5;
        items.push({ sample, features: sample.image ? await store.projected([sample.image], [flip]) : [] });
      }
      // The AdamW step runs inside the same graph run; the host only copies the results back.
      const rowsState = opt.moments(0);
      const headState = opt.moments(1);
      const batch = {
        ...packConceptBatch(model, items, concept.embeddings, concept.head),
        adamw: {
          mRows: rowsState.m,
          vRows: rowsState.v,
          mHead: headState.m,
          vHead: headState.v,
          ...opt.nextStepScalars(),
        },
      };
      timing.prepare += clock() - t;
      t = clock();
      const r = await model.conceptStep(batch);
      timing.graph += clock() - t;
      t = clock();
      const u = r.updated!;
      opt.adopt(0, u.rows, u.mRows, u.vRows);
      opt.adopt(1, u.head, u.mHead, u.vHead);
      if (frozenHeadRows) concept.head.set(frozenHeadRows, D);
      timing.optimizer += clock() - t;
      lossSum += r.loss;
      eta.stepDone();
      o.onProgress?.({
        phase: 'train',
        epoch,
        epochs: o.epochs,
        step: s + 1,
        steps,
        loss: r.loss,
        etaSeconds: eta.seconds(),
      });
    }
    // Model selection: recognition on the training photos and the negatives, like the paper.
    const scoringStart = clock();
    const { pos, neg } = await trainingScores(model, ctx, yesNo, store, data, concept);
    timing.scoring += clock() - scoringStart;
    eta.epochScored(clock() - scoringStart);
    const threshold = calibrateThreshold(pos, neg);
    const rec = accuracy(pos, neg, threshold);
    const raw = accuracy(pos, neg, 0);
    history.push({ epoch, meanLoss: lossSum / steps, recognition: rec, threshold, raw });
    if (rec.weighted >= bestScore) {
      bestScore = rec.weighted;
      bestEpoch = epoch;
      best.copyFrom(concept);
      best.threshold = threshold;
    }
    if (ckpt)
      writeCheckpoint(
        ckpt,
        { epoch, bestEpoch, bestScore, history, rng: rng.snapshot(), dataHash: o.resumeKey ?? data.dataHash },
        concept,
        best,
        opt,
      );
    await o.onEpochEnd?.(epoch, concept);
    // Reported only once checkpointed: an epoch the editor shows as done survives a crash right after.
    o.onProgress?.({
      phase: 'select',
      epoch,
      epochs: o.epochs,
      step: steps,
      steps,
      loss: lossSum / steps,
      etaSeconds: 0,
      recognition: raw.weighted,
    });
  }
  if (ckpt) rmSync(ckpt, { recursive: true, force: true });
  return { best, bestEpoch, history, resumedFromEpoch: startEpoch - 1, seconds: timing };
}

export async function trainingScores(
  model: LlavaModel,
  ctx: PromptContext,
  yesNo: { yes: number; no: number },
  store: ImageFeatureStore,
  data: TrainingData,
  c: Concept,
): Promise<{ pos: number[]; neg: number[] }> {
  const prompt = { concept: c, nameText: c.tokens.nameToken };
  const pos = await recognitionScores(model, ctx, yesNo, prompt, await store.projected(data.positives));
  const neg = await recognitionScores(
    model,
    ctx,
    yesNo,
    prompt,
    await store.projected(data.negatives.map((n) => n.file)),
  );
  return { pos, neg };
}

interface CheckpointState {
  epoch: number;
  bestEpoch: number;
  bestScore: number;
  history: EpochRecord[];
  rng: number;
  dataHash: string;
}

function writeCheckpoint(dir: string, state: CheckpointState, c: Concept, best: Concept, opt: AdamW): void {
  mkdirSync(dir, { recursive: true });
  const s = opt.saveState();
  const D = c.embeddings.length / (c.k + 1);
  const t = (data: Float32Array) => ({ dtype: 'F32' as const, shape: [data.length / D, D], data });
  writeFileAtomic(
    path.join(dir, 'state.safetensors'),
    encodeSafetensors({
      emb: t(c.embeddings),
      head: t(c.head),
      best_emb: t(best.embeddings),
      best_head: t(best.head),
      m0: t(s.m[0]!),
      m1: t(s.m[1]!),
      v0: t(s.v[0]!),
      v1: t(s.v[1]!),
    }),
  );
  writeFileAtomic(
    path.join(dir, 'state.json'),
    JSON.stringify({ ...state, adamStep: s.step, bestThreshold: best.threshold }),
  );
}

function readCheckpoint(
  dir: string,
  dataHash: string,
  c: Concept,
  best: Concept,
  opt: AdamW,
): CheckpointState | null {
  const jf = path.join(dir, 'state.json');
  const sf = path.join(dir, 'state.safetensors');
  if (!existsSync(jf) || !existsSync(sf)) return null;
  try {
    const state = JSON.parse(
      readRegularTextSync(jf, 'a checkpoint', FILE_CAPS.smallJson),
    ) as CheckpointState & {
      adamStep: number;
      bestThreshold: number;
    };
    if (state.dataHash !== dataHash) return null;
    const f = SafetensorsFile.open(sf);
    try {
      c.embeddings.set(f.readFloat32('emb'));
      c.head.set(f.readFloat32('head'));
      best.embeddings.set(f.readFloat32('best_emb'));
      best.head.set(f.readFloat32('best_head'));
      best.threshold = state.bestThreshold;
      opt.loadState({
        step: state.adamStep,
        m: [f.readFloat32('m0').slice(), f.readFloat32('m1').slice()],
        v: [f.readFloat32('v0').slice(), f.readFloat32('v1').slice()],
      });
    } finally {
      f.close();
    }
    return state;
  } catch {
    return null; // a damaged checkpoint is ignored: training starts over
  }
}
