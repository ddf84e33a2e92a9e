// The Yo'LLaVA trainer: AdamW on the concept's new rows only (input embeddings of <name> and the latent
// tokens, and their output-head rows); the model's weights are never written. After every epoch it scores
// recognition on the training photos and negatives and keeps the best epoch, like the paper. It reports
// progress, stops on an AbortSignal, and checkpoints each epoch so that a run can resume.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write';
import { encodeSafetensors, SafetensorsFile } from '../io/safetensors';
import { labelTargets } from '../models/llava/embeddings';
import type { LlavaModel } from '../models/llava/model';
import { AbortedError } from '../runtime/worker';
import { Rng } from '../util/rng';
import { AdamW } from './adamw';
import type { Concept } from './concept';
import type { TrainingData, TrainingSample } from './data-builder';
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
  const V = model.vocab;
  const rows = concept.k + 1;
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
  const started = Date.now();
  let stepsDone = 0;
  const totalSteps = steps * (o.epochs - startEpoch + 1);
  const gEmb = new Float32Array(rows * D);
  const gHead = new Float32Array(rows * D);

  for (let epoch = startEpoch; epoch <= o.epochs; epoch++) {
    const order = rng.shuffle(data.samples.map((_, i) => i));
    let lossSum = 0;
    for (let s = 0; s < steps; s++) {
      // Let a cancel request in: on a worker thread it arrives as a message, which needs the loop to turn.
      await new Promise((r) => setImmediate(r));
      if (o.signal?.aborted) throw new AbortedError('training cancelled');
      gEmb.fill(0);
      gHead.fill(0);
      const batch = order.slice(s * o.batchSize, (s + 1) * o.batchSize);
      let batchLoss = 0;
      for (const idx of batch) {
        const sample = data.samples[idx]!;
        const flip = (o.flip ?? true) && sample.image !== undefined && rng.next() < 0.5;
        const r = await sampleGradients(model, store, sample, concept, flip);
        batchLoss += r.loss;
        // Scatter the embedding gradient onto the rows of the new tokens that occur in the sample.
        sample.ids.forEach((id, t) => {
          if (id < V) return;
          const row = id - V;
          for (let d = 0; d < D; d++) gEmb[row * D + d] += r.gradEmbeds[t * D + d]!;
        });
        for (let i = 0; i < gHead.length; i++) gHead[i] += r.gradExtraHead[i]!;
      }
      const scale = 1 / batch.length;
      for (let i = 0; i < gEmb.length; i++) {
        gEmb[i]! *= scale;
        gHead[i]! *= scale;
      }
      opt.step([gEmb, gHead]);
      if (frozenHeadRows) concept.head.set(frozenHeadRows, D);
      lossSum += batchLoss / batch.length;
      stepsDone++;
      const elapsed = (Date.now() - started) / 1000;
      o.onProgress?.({
        phase: 'train',
        epoch,
        epochs: o.epochs,
        step: s + 1,
        steps,
        loss: batchLoss / batch.length,
        etaSeconds: (elapsed / stepsDone) * (totalSteps - stepsDone),
      });
    }
    // Model selection: recognition on the training photos and the negatives, like the paper.
    const { pos, neg } = await trainingScores(model, ctx, yesNo, store, data, concept);
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
  return { best, bestEpoch, history, resumedFromEpoch: startEpoch - 1 };
}

async function sampleGradients(
  model: LlavaModel,
  store: ImageFeatureStore,
  s: TrainingSample,
  c: Concept,
  flip: boolean,
) {
  const features = s.image ? await store.projected([s.image], [flip]) : [];
  const embeds = model.embed(s.ids, features, c.embeddings);
  const t = labelTargets(s.labels);
  return model.trainStep({
    embeds,
    batch: 1,
    seq: s.ids.length,
    labelPositions: t.positions,
    labelIds: t.ids,
    extraHead: c.head,
  });
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
    const state = JSON.parse(readFileSync(jf, 'utf8')) as CheckpointState & {
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
