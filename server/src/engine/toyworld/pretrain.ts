// Pretraining of the embedded default model on ToyWorld: every weight trains end to end on skill samples
// generated on the fly. The data of step s depends only on (seed, s), and a checkpoint holds the weights,
// the optimizer's moments and the run's record in one atomically written file, so a resumed run ends
// where an uninterrupted one would.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Graph, serialize } from '../graph/index';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../io/safetensors';
import { parseLlavaConfig, type LlavaConfig } from '../models/llava/config';
import { hfWeightName, writePreprocessorConfig } from '../models/llava/random-checkpoint';
import { WeightInputs } from '../models/llava/weight-inputs';
import { loadLlavaWeights, type WeightMap } from '../models/llava/weights';
import { buildWholeModelGraph } from '../models/llava/whole-model-graph';
import { writeWordLevelTokenizer } from '../models/llava/word-level-tokenizer';
import { AdamW } from '../personalize/adamw';
import { f32ToF16 } from '../io/safetensors';
import { GraphSession } from '../runtime/session';
import { Rng } from '../util/rng';
import {
  decays,
  defaultModelConfig,
  DEFAULT_MODEL_SPEC,
  initialWeights,
  type DefaultModelSpec,
} from './default-model';
import { makeBatch, PretrainEncoder, randomNameRows } from './pretrain-batch';
import { trainVisionStage, type VisionStageRecord } from './vision-stage';
import { addProbeWeights, probeFeeds, PROBES } from './probes';
import { addDecisionProbeWeights, decisionAccuracy, decisionFeeds, decisionProbes } from './decision-probes';
import { evaluateSkills, type SkillScores } from './skill-eval';
import { drawSkill, skillSample, type Skill } from './skills';
import { toyworldVocabulary } from './vocabulary';

export interface PretrainOptions {
  /** The Hugging Face folder written at every checkpoint and at the end. */
  out: string;
  /** Checkpoint, log and working files. */
  runDir: string;
  spec?: DefaultModelSpec;
  steps?: number;
  batch?: number;
  lr?: number;
  warmup?: number;
  weightDecay?: number;
  clip?: number;
  featurePenalty?: number;
  probeWeight?: number;
  /** Weight of the probes at the positions deciding a yes/no answer (decision-probes.ts); 0: none. */
  decisionProbeWeight?: number;
  /** Weight-name prefixes kept frozen (e.g. "vision." to train the language model on fixed image features). */
  freeze?: string[];
  /** With `from`: weight-name prefixes initialized afresh instead (e.g. "lm." for a new language model). */
  reinit?: string[];
  /**
   * One matrix for the input embeddings and the output head (tie_word_embeddings). The word a question
   * names and the word the model would answer then share one direction, which is what comparing them
   * needs.
   */
  tieEmbeddings?: boolean;
  /** Start from this exported model folder (same architecture) instead of a fresh initialization. */
  from?: string;
  /**
   * Steps of the vision stage before joint training (default 2,000 of 48 photos at lr 1e-3, or none when
   * starting `from` an exported model; 0: none).
   */
  visionSteps?: number;
  visionBatch?: number;
  visionLr?: number;
  /** Skill weights (default MIXTURE); recorded, so a resumed run keeps them. */
  mixture?: Partial<Record<Skill, number>>;
  /** Steps before `step` draw from `mixture` instead (default GROUNDING_FIRST for 1,500 steps). */
  curriculum?: { until: number; mixture: Partial<Record<Skill, number>> }[];
  seed?: number;
  checkpointEvery?: number;
  /** Held-out skill accuracy every this many steps (0: only at the end). */
  evalEvery?: number;
  evalSamples?: number;
  /** Samples per skill in the evaluation at the end of the schedule (default 200). */
  finalEvalSamples?: number;
  resume?: boolean;
  /** Stop after this many steps in this invocation (the schedule still spans `steps`). */
  stopAfter?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: PretrainProgress) => void;
  /** Vocabulary size knob for tests: fewer samples per skill when building it. */
  vocabularySamples?: number;
  /** Write the Hugging Face folder at checkpoints (default true). */
  export?: boolean;
}

export interface PretrainProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  /** Root mean square of the projected image features this step. */
  featureRms?: number;
  /** The image-dependent part of that. */
  featureSpread?: number;
  /** The joint-stage probes' summed cross-entropy. */
  probeLoss?: number;
  /** The decision probes' summed cross-entropy, and (at logged steps) their accuracy over the window. */
  decisionProbeLoss?: number;
  decisionAccuracy?: Record<string, number>;
  /** Vision-stage progress (event 'vision'). */
  vision?: { step: number; steps: number; loss: number; accuracy: Record<string, number> };
  secondsPerStep: number;
  etaSeconds: number;
  event?: 'checkpoint' | 'eval' | 'vision';
  scores?: SkillScores;
}

export interface PretrainRecord {
  version: 1;
  seed: number;
  spec: DefaultModelSpec;
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  /** Weight of the penalty on the image features' mean square (see whole-model-graph.ts). */
  featurePenalty: number;
  /** The vision stage (vision-stage.ts), once it has run. */
  vision?: VisionStageRecord;
  /** Weight of the joint-stage probes on the projected features (whole-model-graph.ts); 0: none. */
  probeWeight?: number;
  /** Weight of the decision probes (decision-probes.ts); absent or 0: none. */
  decisionProbeWeight?: number;
  /** Weight-name prefixes this run keeps frozen. */
  freeze?: string[];
  /** Weight-name prefixes initialized afresh on top of `initializedFrom`. */
  reinit?: string[];
  tieEmbeddings?: boolean;
  /** The exported model this run started from instead of a fresh initialization (and vision stage). */
  initializedFrom?: string;
  mixture?: Partial<Record<Skill, number>>;
  curriculum?: { until: number; mixture: Partial<Record<Skill, number>> }[];
  step: number;
  wallSeconds: number;
  tokensSeen: number;
  /** Mean loss over each window of `logEvery` steps. */
  curve: { step: number; loss: number; lr: number; secondsPerStep: number; featureRms?: number }[];
  evals: { step: number; scores: SkillScores }[];
}

const LOG_EVERY = 25;

export function learningRate(step: number, r: Pick<PretrainRecord, 'lr' | 'warmup' | 'steps'>): number {
  if (step < r.warmup) return (r.lr * (step + 1)) / r.warmup;
  const progress = Math.min(1, (step - r.warmup) / Math.max(1, r.steps - r.warmup));
  return r.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * The first steps look at single photos and read single descriptions. Measured on a small model: with the
 * whole mixture from the start, nothing visual was learned in 1,200 steps, while a colour question alone
 * reached 0.73 held-out accuracy in 500; the language model first has to find the image tokens useful.
 */
export const GROUNDING_FIRST: Partial<Record<Skill, number>> = {
  attribute: 0.3,
  caption: 0.15,
  conversation: 0.2,
  presence: 0.1,
  count: 0.05,
  choice: 0.1,
  name_reading: 0.1,
};

export function mixtureAt(
  r: Pick<PretrainRecord, 'mixture' | 'curriculum'>,
  step: number,
): Partial<Record<Skill, number>> | undefined {
  return r.curriculum?.find((c) => step < c.until)?.mixture ?? r.mixture;
}

/** A step's own generator: the data of step s never depends on what ran before it. */
export function stepRng(seed: number, step: number): Rng {
  return new Rng((Math.imul(seed, 2654435761) ^ Math.imul(step + 1, 40503)) >>> 0);
}

interface Checkpoint {
  record: PretrainRecord;
  weights: WeightMap;
  moments?: { m: Float32Array[]; v: Float32Array[]; step: number };
}

function checkpointFile(runDir: string): string {
  return path.join(runDir, 'checkpoint.safetensors');
}

/** Weights, and the optimizer's moments when there is one (none between the two stages). */
function saveCheckpoint(runDir: string, ck: Checkpoint, names: string[], opt: AdamW | null): void {
  const tensors: Record<string, TensorToWrite> = {};
  const state = opt?.saveState();
  names.forEach((n, i) => {
    const w = ck.weights.get(n)!;
    tensors[`w.${n}`] = { dtype: 'F32', shape: w.shape, data: w.data };
    if (!state) return;
    tensors[`m.${n}`] = { dtype: 'F32', shape: w.shape, data: state.m[i]! };
    tensors[`v.${n}`] = { dtype: 'F32', shape: w.shape, data: state.v[i]! };
  });
  writeSafetensors(checkpointFile(runDir), tensors, {
    record: JSON.stringify(ck.record),
    adam_step: String(state?.step ?? 0),
  });
}

/** The run's record (schedule, loss curve, evaluations) from its checkpoint, without loading weights. */
export function readPretrainRecord(runDir: string): PretrainRecord | null {
  const file = checkpointFile(runDir);
  if (!existsSync(file)) return null;
  const st = SafetensorsFile.open(file);
  try {
    return JSON.parse(st.metadata['record'] ?? 'null') as PretrainRecord | null;
  } finally {
    st.close();
  }
}

function loadCheckpoint(runDir: string): Checkpoint | null {
  const file = checkpointFile(runDir);
  if (!existsSync(file)) return null;
  const st = SafetensorsFile.open(file);
  try {
    const meta = st.metadata ?? {};
    const record = JSON.parse(meta['record'] ?? 'null') as PretrainRecord | null;
    if (!record || record.version !== 1) throw new Error(`${file}: not a pretraining checkpoint`);
    const weights: WeightMap = new Map();
    const m: Float32Array[] = [];
    const v: Float32Array[] = [];
    const names = new Set(st.names());
    for (const name of st.names().filter((n) => n.startsWith('w.'))) {
      const n = name.slice(2);
      const info = st.info(name);
      weights.set(n, { dtype: 'float32', shape: [...info.shape], data: st.readFloat32(name) });
      if (names.has(`m.${n}`)) {
        m.push(st.readFloat32(`m.${n}`));
        v.push(st.readFloat32(`v.${n}`));
      }
    }
    const moments = m.length ? { m, v, step: Number(meta['adam_step'] ?? record.step) } : undefined;
    return { record, weights, moments };
  } finally {
    st.close();
  }
}

/** The model folder in the Hugging Face LLaVA format: config, F16 weights, tokenizer, preprocessor. */
export function exportModel(out: string, templateDir: string, weights: WeightMap, names: string[]): void {
  mkdirSync(out, { recursive: true });
  const tensors: Record<string, TensorToWrite> = {};
  for (const n of names) {
    const w = weights.get(n)!;
    tensors[hfWeightName(n)] = { dtype: 'F16', shape: w.shape, data: f32ToF16(w.data as Float32Array) };
  }
  writeSafetensors(path.join(out, 'model.safetensors'), tensors, { format: 'pt' });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'])
    copyFileSync(path.join(templateDir, f), path.join(out, f));
}

/** config, tokenizer and preprocessor of a fresh run, written once into runDir/model. */
function prepareTemplate(runDir: string, spec: DefaultModelSpec, vocabularySamples?: number): string {
  const dir = path.join(runDir, 'model');
  if (existsSync(path.join(dir, 'config.json'))) return dir;
  const vocab = writeWordLevelTokenizer(dir, toyworldVocabulary(vocabularySamples));
  const raw = defaultModelConfig(spec, vocab);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(raw, null, 2));
  writePreprocessorConfig(dir, spec.vision.imageSize);
  return dir;
}

export interface PretrainResult {
  record: PretrainRecord;
  finished: boolean;
}

export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
  mkdirSync(opts.runDir, { recursive: true });
  const existing = opts.resume ? loadCheckpoint(opts.runDir) : null;
  const spec = existing?.record.spec ?? opts.spec ?? DEFAULT_MODEL_SPEC;
  // Starting from an exported model (e.g. the committed default on a machine without the run's
  // checkpoint): its config and tokenizer are the run's template, its weights the starting point.
  if (opts.from && !existing) {
    const dir = path.join(opts.runDir, 'model');
    mkdirSync(dir, { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'])
      copyFileSync(path.join(opts.from, f), path.join(dir, f));
  }
  const templateDir = prepareTemplate(opts.runDir, spec, opts.vocabularySamples);
  const raw = JSON.parse(readFileSync(path.join(templateDir, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const config: LlavaConfig = parseLlavaConfig(raw);
  const record: PretrainRecord = existing?.record ?? newRecord(opts, spec);
  if (existing && opts.steps && opts.steps > record.steps) record.steps = opts.steps;
  const weights = startingWeights(opts, config, record, existing, templateDir);
  if (!(await visionStageIfDue(opts, config, weights, record))) return { record, finished: false };
  if (record.probeWeight)
    addProbeWeights(weights, config.imageTokens * config.text.hidden, new Rng(record.seed + 17));
  const dprobes = record.decisionProbeWeight ? decisionProbes(config.text.layers) : [];
  addDecisionProbeWeights(weights, dprobes, config.text.hidden, new Rng(record.seed + 23));
  const enc = PretrainEncoder.load(config, templateDir);
  const trainer = await JointTrainer.create(config, weights, record, dprobes, existing, opts.threads);

  const evalSession = async (samples = opts.evalSamples ?? 64): Promise<SkillScores> =>
    evaluateSkills(config, weights, enc, { samplesPerSkill: samples, threads: opts.threads });
  const stopAt = Math.min(
    record.steps,
    opts.stopAfter !== undefined ? record.step + opts.stopAfter : Infinity,
  );
  const log = new CurveWindow(record, stopAt, dprobes.length > 0);
  const ckEvery = opts.checkpointEvery ?? 200;
  const save = (): void => {
    saveCheckpoint(opts.runDir, { record, weights }, trainer.names, trainer.opt);
    if (opts.export !== false)
      exportModel(
        opts.out,
        templateDir,
        weights,
        trainer.names.filter((n) => !/^(vprobe|probe|dprobe)\./.test(n)),
      );
  };
  while (record.step < stopAt) {
    if (opts.signal?.aborted) break;
    const st = await trainer.step(enc);
    const decisionAccuracy = log.add(st);
    const secondsPerStep =
      (record.wallSeconds - (record.vision?.wallSeconds ?? 0)) / Math.max(1, record.step);
    opts.onProgress?.({
      step: record.step,
      steps: record.steps,
      loss: st.loss,
      lr: st.lr,
      featureRms: st.featureRms,
      featureSpread: st.featureSpread,
      probeLoss: st.probeLoss,
      decisionProbeLoss: st.decisionProbeLoss,
      decisionAccuracy,
      secondsPerStep: st.seconds,
      etaSeconds: secondsPerStep * (record.steps - record.step),
    });
    const event = {
      step: record.step,
      steps: record.steps,
      loss: st.loss,
      lr: st.lr,
      secondsPerStep: st.seconds,
      etaSeconds: 0,
    };
    if (opts.evalEvery && record.step % opts.evalEvery === 0 && record.step < record.steps) {
      const scores = await evalSession();
      record.evals.push({ step: record.step, scores });
      opts.onProgress?.({ ...event, event: 'eval', scores });
    }
    if (record.step % ckEvery === 0) {
      save();
      opts.onProgress?.({ ...event, event: 'checkpoint' });
    }
  }
  const finished = record.step >= record.steps;
  if (finished && !record.evals.some((e) => e.step === record.step)) {
    record.evals.push({ step: record.step, scores: await evalSession(opts.finalEvalSamples ?? 200) });
  }
  save();
  await trainer.release();
  return { record, finished };
}

/** A fresh run's record: its schedule from the options, nothing trained yet. */
function newRecord(opts: PretrainOptions, spec: DefaultModelSpec): PretrainRecord {
  return {
    version: 1,
    seed: opts.seed ?? 1,
    spec,
    steps: opts.steps ?? 8000,
    batch: opts.batch ?? 16,
    // 1.5e-3 made the vision path unstable (a fixed batch of 16 photos would not even be memorized);
    // 5e-4 learned it smoothly.
    lr: opts.lr ?? 6e-4,
    warmup: opts.warmup ?? 300,
    weightDecay: opts.weightDecay ?? 0.05,
    clip: opts.clip ?? 1,
    featurePenalty: opts.featurePenalty ?? 0.01,
    probeWeight: opts.probeWeight ?? 0.1,
    decisionProbeWeight: opts.decisionProbeWeight ?? 0.3,
    mixture: opts.mixture,
    freeze: opts.freeze?.length ? opts.freeze : undefined,
    reinit: opts.reinit?.length ? opts.reinit : undefined,
    tieEmbeddings: opts.tieEmbeddings || undefined,
    curriculum: opts.curriculum ?? [{ until: 1500, mixture: GROUNDING_FIRST }],
    step: 0,
    wallSeconds: 0,
    tokensSeen: 0,
    curve: [],
    evals: [],
  };
}

/**
 * The weights the run continues from: the checkpoint's, an exported model's (with the `reinit` prefixes
 * drawn afresh), or a fresh initialization; a tied head is made the embedding table's copy.
 */
function startingWeights(
  opts: PretrainOptions,
  config: LlavaConfig,
  record: PretrainRecord,
  existing: Checkpoint | null,
  templateDir: string,
): WeightMap {
  let weights = existing?.weights ?? initialWeights(config, record.seed);
  if (opts.from && !existing) {
    weights = loadLlavaWeights(opts.from, config);
    record.initializedFrom = path.resolve(opts.from);
    if (record.reinit) {
      const fresh = initialWeights(config, record.seed);
      for (const [n, t] of fresh) if (record.reinit.some((p) => n.startsWith(p))) weights.set(n, t);
    }
  }
  if (record.tieEmbeddings) {
    (weights.get('lm_head.weight')!.data as Float32Array).set(
      weights.get('lm.embed_tokens.weight')!.data as Float32Array,
    );
    const cfgFile = path.join(templateDir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as { text_config: Record<string, unknown> };
    cfg.text_config['tie_word_embeddings'] = true;
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  }
  return weights;
}

/**
 * The vision stage, when the run has not had it and is due one (a run from an exported model has a
 * trained tower: only when asked). False when it was stopped inside it: nothing is saved, and the next run
 * starts it again (its data depend only on the seed, so the result is the same).
 */
async function visionStageIfDue(
  opts: PretrainOptions,
  config: LlavaConfig,
  weights: WeightMap,
  record: PretrainRecord,
): Promise<boolean> {
  const visionSteps = opts.visionSteps ?? (record.initializedFrom ? 0 : 2000);
  if (record.vision || visionSteps <= 0) return true;
  const vision = await trainVisionStage(config, weights, {
    steps: visionSteps,
    batch: opts.visionBatch ?? 48,
    lr: opts.visionLr ?? 1e-3,
    seed: record.seed,
    threads: opts.threads,
    signal: opts.signal,
    onProgress: (p) =>
      opts.onProgress?.({
        ...p,
        steps: record.steps,
        step: 0,
        lr: 0,
        secondsPerStep: 0,
        etaSeconds: 0,
        event: 'vision',
        vision: p,
      }),
  });
  if (!vision) return false;
  record.vision = vision;
  record.wallSeconds += vision.wallSeconds;
  saveCheckpoint(opts.runDir, { record, weights }, [...weights.keys()], null);
  return true;
}

/** What one joint step measured. */
interface JointStepResult {
  loss: number;
  lr: number;
  seconds: number;
  featureRms: number;
  featureSpread: number;
  probeLoss?: number;
  decisionProbeLoss?: number;
  /** Right answers and samples per decision probe this step. */
  decisions?: Record<string, { right: number; n: number }>;
}

/**
 * The joint stage's training step: one graph over the whole model (loss and every gradient), AdamW with
 * the frozen weights held and a tied head kept equal to the embedding table. Each step draws its samples
 * from (seed, step), so a resumed run sees the same data.
 */
class JointTrainer {
  private constructor(
    private readonly config: LlavaConfig,
    private readonly weights: WeightMap,
    private readonly record: PretrainRecord,
    private readonly dprobes: ReturnType<typeof decisionProbes>,
    private readonly session: GraphSession,
    private readonly weightFeeds: ReturnType<WeightInputs['feeds']>,
    readonly names: string[],
    private readonly frozen: boolean[],
    readonly opt: AdamW,
  ) {}

  static async create(
    config: LlavaConfig,
    weights: WeightMap,
    record: PretrainRecord,
    dprobes: ReturnType<typeof decisionProbes>,
    existing: Checkpoint | null,
    threads: number | undefined,
  ): Promise<JointTrainer> {
    const g = new Graph('pretrain');
    const w = new WeightInputs(g, weights);
    const outputs = buildWholeModelGraph(g, config, w, {
      mode: 'train',
      featurePenalty: record.featurePenalty,
      probes: record.probeWeight ? PROBES : undefined,
      probeWeight: record.probeWeight,
      decisionProbes: dprobes.length ? dprobes : undefined,
      decisionProbeWeight: record.decisionProbeWeight,
    });
    const names = w.names();
    const session = await GraphSession.create(serialize(outputs), { threads, name: 'pretrain graph' });
    // Frozen weights get no update: a zero gradient, with no decay on them (decays() spares them too).
    // A tied head is the embedding table itself: its gradient goes to the table, and it is copied back.
    const frozen = names.map(
      (n) =>
        (record.freeze ?? []).some((p) => n.startsWith(p)) ||
        (!!record.tieEmbeddings && n === 'lm_head.weight'),
    );
    const params = names.map((n) => weights.get(n)!.data as Float32Array);
    const opt = new AdamW(params, {
      lr: record.lr,
      weightDecay: record.weightDecay,
      decay: names.map((n, i) => decays(n) && !frozen[i]),
    });
    if (existing?.moments) {
      const byName = new Map([...existing.weights.keys()].map((n, i) => [n, i]));
      // Weights the checkpoint lacks (probes added later) start with zero moments.
      const moment = (arr: Float32Array[], n: string): Float32Array =>
        (byName.has(n) ? arr[byName.get(n)!] : undefined) ?? new Float32Array(weights.get(n)!.data.length);
      opt.loadState({
        step: existing.moments.step,
        m: names.map((n) => moment(existing.moments!.m, n)),
        v: names.map((n) => moment(existing.moments!.v, n)),
      });
    }
    return new JointTrainer(config, weights, record, dprobes, session, w.feeds(), names, frozen, opt);
  }

  /** Draws the step's samples, runs the graph, updates the weights and advances the record by one step. */
  async step(enc: PretrainEncoder): Promise<JointStepResult> {
    const { config, record, dprobes, names } = this;
    const t0 = performance.now();
    const rng = stepRng(record.seed, record.step);
    const samples = Array.from({ length: record.batch }, () =>
      skillSample(drawSkill(rng, mixtureAt(record, record.step)), rng),
    );
    const encoded = samples.map((s) => enc.encode(s));
    const table = this.weights.get('lm.embed_tokens.weight')!.data as Float32Array;
    const nameRows = randomNameRows(table, config.text.vocab, config.text.hidden, samples.length, rng);
    const batch = await makeBatch(enc, samples, encoded, nameRows);
    const scenes = samples.flatMap((x) => x.scenes);
    const probes = record.probeWeight ? probeFeeds(scenes, Math.max(1, scenes.length)) : {};
    const decisions = dprobes.length ? decisionFeeds(dprobes, samples, batch) : {};
    const out = await this.session.run({ ...this.weightFeeds, ...batch.feeds, ...probes, ...decisions });
    const loss = (out['loss']!.data as Float32Array)[0]!;
    if (!Number.isFinite(loss)) throw new Error(`pretraining diverged at step ${record.step}: loss ${loss}`);
    const grads = names.map((n) => out[`grad_${n}`]!.data as Float32Array);
    if (record.tieEmbeddings) {
      const ge = grads[names.indexOf('lm.embed_tokens.weight')]!;
      const gh = grads[names.indexOf('lm_head.weight')]!;
      for (let i = 0; i < ge.length; i++) ge[i]! += gh[i]!;
    }
    for (let i = 0; i < names.length; i++) if (this.frozen[i]) grads[i]!.fill(0);
    clipGradients(grads, record.clip);
    const lr = learningRate(record.step, record);
    this.opt.step(grads, lr);
    if (record.tieEmbeddings) (this.weights.get('lm_head.weight')!.data as Float32Array).set(table);
    record.step++;
    record.tokensSeen += batch.tokens;
    const seconds = (performance.now() - t0) / 1000;
    record.wallSeconds += seconds;
    return {
      loss,
      lr,
      seconds,
      featureRms: (out['feature_rms']!.data as Float32Array)[0]!,
      featureSpread: (out['feature_spread']!.data as Float32Array)[0]!,
      probeLoss: out['probe_loss'] ? (out['probe_loss'].data as Float32Array)[0]! : undefined,
      decisionProbeLoss: out['decision_probe_loss']
        ? (out['decision_probe_loss'].data as Float32Array)[0]!
        : undefined,
      decisions: dprobes.length ? decisionAccuracy(dprobes, decisions, out) : undefined,
    };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The loss curve's logging: steps are summed over a window of LOG_EVERY steps (and the last one), whose
 * means join the record's curve; the decision probes' accuracy over the same window is given back then.
 */
class CurveWindow {
  private window = { loss: 0, n: 0, seconds: 0, featureRms: 0 };
  private decisions: Record<string, { right: number; n: number }> = {};

  constructor(
    private readonly record: PretrainRecord,
    private readonly stopAt: number,
    private readonly withDecisions: boolean,
  ) {}

  /** Adds a step (the record has advanced past it); at a window's end, the decision probes' accuracy. */
  add(st: JointStepResult): Record<string, number> | undefined {
    for (const [k, a] of Object.entries(st.decisions ?? {})) {
      const t = (this.decisions[k] ??= { right: 0, n: 0 });
      t.right += a.right;
      t.n += a.n;
    }
    const w = this.window;
    this.window = {
      loss: w.loss + st.loss,
      n: w.n + 1,
      seconds: w.seconds + st.seconds,
      featureRms: w.featureRms + st.featureRms,
    };
    const step = this.record.step;
    if (step % LOG_EVERY !== 0 && step !== this.stopAt) return undefined;
    const full = this.window;
    this.record.curve.push({
      step,
      loss: full.loss / full.n,
      lr: st.lr,
      secondsPerStep: full.seconds / full.n,
      featureRms: full.featureRms / full.n,
    });
    this.window = { loss: 0, n: 0, seconds: 0, featureRms: 0 };
    if (!this.withDecisions) return undefined;
    const accuracy = Object.fromEntries(
      Object.entries(this.decisions).map(([k, a]) => [k, a.n ? a.right / a.n : NaN]),
    );
    this.decisions = {};
    return accuracy;
  }
}

/** Scales all gradients together so that their global L2 norm is at most `max`; returns the norm. */
export function clipGradients(grads: Float32Array[], max: number): number {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  if (norm > max) {
    const s = max / norm;
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i]! *= s;
  }
  return norm;
}
