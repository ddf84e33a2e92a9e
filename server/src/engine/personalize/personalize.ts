// Personalizing one subject end to end: load the subject and the model, build the training data, train
// the concept, and write its artifact. A failed or cancelled run never replaces a good artifact.
import path from 'node:path';
import { loadChatTemplate } from '../models/llava/chat-template';
import { LlavaModel } from '../models/llava/model';
import { LlavaTokenizer } from '../models/llava/tokenizer';
import type { ProviderSetting } from '../runtime/session';
import { Rng } from '../util/rng';
import {
  artifactDir,
  Concept,
  loadConcept,
  readConceptMeta,
  saveConcept,
  type ConceptInit,
  type ConceptMeta,
} from './concept';
import { buildTrainingData, type TrainingData } from './data-builder';
import { ImageFeatureStore } from './image-features';
import { contentHash } from '../subject/image-files';
import { conceptTokens, yesNoIds, type PromptContext } from './prompts';
import { loadSubject, SubjectError, type ResolvedSubject } from '../subject/subject';
import { describeItself } from './self-description';
import { MIN_TRAIN_IMAGES, reservedNameProblem } from '../subject/dataset-checks';
import { ImageCheckCache } from '../subject/image-checks';
import { siblingNames } from '../subject/sibling-subjects';
import { trainingLockPath, acquireTrainingLock, removeStaleTemporaries } from './training-lock';
import { trainConcept, type EpochRecord, type TrainProgress, type TrainResult } from './trainer';

/**
 * Which version of the recipe's data and training a concept comes from. Bump it when a change alters what
 * a concept learns from the same photos: benchmarks keep the results and concepts of each revision apart.
 * 2: conversations are also asked as two options (data-builder.ts), and the latent tokens start from a
 *    training photo (reference-photo) instead of the vocabulary's mean.
 * 3: hard negatives are asked three recognition questions each, training photos ten (data-builder.ts).
 * 4: 16 samples per step in one graph run, lr 8e-3, 6 epochs (15 at batch 1 and lr 1e-3 before). On the
 *    development subjects (seeds 7000..7009) held-out recognition was flat from the first epoch at either
 *    setting, and look-alikes rose slowly with the number of updates (docs/results/training-speed.md).
 */
export const RECIPE_REVISION = 4;

/**
 * reference-photo: a soft prompt that starts as a photo's tokens is read by the model's two-option circuit
 * the way a reference photo is; from the vocabulary's mean it ends where that reading leans on a letter
 * (docs/results/toyworld.md, "The paper's table on ToyWorld").
 */
export const DEFAULT_INIT: ConceptInit = 'reference-photo';

export interface PersonalizeOptions {
  /** Used when the subject file names no model. */
  modelDir?: string;
  /** An already loaded model (shares sessions between runs). */
  model?: LlavaModel;
  /** Execution provider when the model is loaded here. */
  provider?: ProviderSetting;
  /** Default negative pools when the subject file names none. */
  pools?: string[];
  /** Where .yollava/ lives; default: the subject file's folder. */
  workspaceDir?: string;
  init?: ConceptInit;
  /** Start from the subject's current artifact instead of a fresh initialization. */
  warmStart?: boolean;
  /**
   * Continue an interrupted run from its last finished epoch when its checkpoint matches these data and
   * settings (default true: a rerun after a crash picks up where it stopped); false starts over.
   */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: PersonalizeProgress) => void;
  /** After each epoch, with the concept as it stands (TrainerOptions.onEpochEnd). */
  onEpochEnd?: (epoch: number, concept: Concept) => Promise<void>;
  /** Override parts of the recipe (tests, benchmarks). */
  overrides?: Partial<ResolvedSubject['training']> & {
    questionsPerPhoto?: number;
    questionsPerHardNegative?: number;
    conversationTokens?: number;
    /** Hard and random negatives (default: the subject file's). */
    hard?: number;
    random?: number;
    /** false: no text-only conversations (an ablation). */
    conversations?: boolean;
    /** false: conversations in free form only, none asked as two options (an ablation). */
    choices?: boolean;
  };
}

export type PersonalizeProgress =
  { phase: 'load' | 'embed' | 'conversations'; done: number; total: number } | TrainProgress;

export interface PersonalizeResult {
  meta: ConceptMeta;
  artifactDir: string;
  data: Pick<
    TrainingData,
    'positives' | 'negatives' | 'contamination' | 'conversations' | 'choices' | 'dataHash'
  > & {
    /** Photos and pool images left out because they cannot be decoded, with why. */
    skipped: { file: string; why: string }[];
    samples: number;
    /** Tokens over all samples, and supervised labels: what one epoch computes. */
    tokens: number;
    labels: number;
  };
  /** The training settings this run used (the subject's, with any overrides). */
  recipe: ResolvedSubject['training'];
  history: EpochRecord[];
  embedCache: { hits: number; misses: number };
  seconds: {
    total: number;
    embed: number;
    conversations: number;
    train: number;
    /** The training time split: batch packing, graph runs, AdamW, and scoring after each epoch. */
    trainSplit: TrainResult['seconds'];
  };
}

export interface SubjectSession {
  subject: ResolvedSubject;
  model: LlavaModel;
  tokenizer: LlavaTokenizer;
  ctx: PromptContext;
  yesNo: { yes: number; no: number };
  store: ImageFeatureStore;
  workspaceDir: string;
}

/** Loads what every command on a subject needs: its files, the model, the tokenizer with its tokens. */
export function openSubject(
  file: string,
  opts: Pick<
    PersonalizeOptions,
    'modelDir' | 'model' | 'pools' | 'workspaceDir' | 'provider' | 'onProgress'
  > = {},
  k?: number,
): SubjectSession {
  const subject = loadSubject(file, { pools: opts.pools, modelDir: opts.modelDir });
  if (!subject.modelDir && !opts.model)
    throw new SubjectError([
      `${subject.file}: model: no model folder given, and the embedded default (samples/models/toy-llava) is missing: set "model" in the file, pass --model, or build the default with \`npm run pretrain\``,
    ]);
  // A multi-gigabyte checkpoint takes minutes to read: report its bytes as they come in.
  const model =
    opts.model ??
    LlavaModel.load(subject.modelDir!, {
      provider: opts.provider,
      onLoadProgress: (done, total) => opts.onProgress?.({ phase: 'load', done, total }),
    });
  const tokens = conceptTokens(subject.name, k ?? subject.training.tokens, model.vocab);
  const tokenizer = LlavaTokenizer.load(model.dir, {
    extraTokens: [tokens.nameToken, ...tokens.latentTokens],
    firstExtraId: model.vocab,
  });
  // The concept's tokens were added after the vocabulary: one that resolves elsewhere collides with a base
  // token (<unk>) or with another of its own (<token0> as the name).
  const collides = tokens.ids.some(
    (id, i) => tokenizer.idOf(i === 0 ? tokens.nameToken : tokens.latentTokens[i - 1]!) !== id,
  );
  const reserved = reservedNameProblem(subject.name, (t) =>
    t === tokens.nameToken ? collides : tokenizer.hasToken(t),
  );
  if (reserved) throw new SubjectError([`${subject.file}: name: ${reserved}`]);
  const template = loadChatTemplate(model.dir, { bos: tokenizer.bosToken, eos: tokenizer.eosToken });
  const eos =
    tokenizer.eosToken !== undefined
      ? (tokenizer.idOf(tokenizer.eosToken) ?? null)
      : (model.config.text.eosTokenIds[0] ?? null);
  const ctx: PromptContext = {
    tokenizer,
    template,
    imageTokenIndex: model.config.imageTokenIndex,
    imageTokens: model.config.imageTokens,
    eosTokenId: eos,
    ...(model.config.anyres ? { anyres: { hidden: model.hidden } } : {}),
  };
  const workspaceDir = opts.workspaceDir ?? subject.dir;
  const store = new ImageFeatureStore(model, path.join(workspaceDir, '.yollava', 'cache', 'embeddings'));
  return { subject, model, tokenizer, ctx, yesNo: yesNoIds(ctx), store, workspaceDir };
}

export async function personalize(
  subjectFile: string,
  opts: PersonalizeOptions = {},
): Promise<PersonalizeResult> {
  const t0 = Date.now();
  // Two subjects of one name would share .yollava/<name>/: the second's run must not replace the first's.
  // Checked before the model loads, which takes minutes at real size.
  const { name, file } = loadSubject(subjectFile, { pools: opts.pools, modelDir: opts.modelDir });
  const twins = siblingNames(file).get(name);
  if (twins?.length)
    throw new SubjectError([
      `${file}: name: "${name}" is also the name in ${twins.join(', ')}; names must be unique, so training would replace that subject's concept. Rename one of them`,
    ]);
  const s = openSubject(subjectFile, opts);
  const release = acquireTrainingLock(
    trainingLockPath(s.workspaceDir, s.subject.name),
    `${s.subject.file}: <${s.subject.name}>`,
  );
  try {
    return await personalizeLocked(s, t0, opts);
  } finally {
    release();
    if (!opts.model) await s.model.release();
  }
}

/**
 * The session without photos or pool images that cannot be decoded: one broken file must not stop the
 * others from training (validation showed it as a warning). Too few usable photos left is an error.
 */
async function withoutUnusablePhotos(
  s: SubjectSession,
): Promise<SubjectSession & { skipped: { file: string; why: string }[] }> {
  const checks = await new ImageCheckCache().checkAll([...new Set([...s.subject.train, ...s.subject.pools])]);
  const bad = new Map(checks.filter((c) => !c.ok).map((c) => [c.file, c.error ?? 'not an image']));
  const train = s.subject.train.filter((f) => !bad.has(f));
  if (train.length < MIN_TRAIN_IMAGES)
    throw new SubjectError([
      `${s.subject.file}: images.train: ${train.length} usable photo(s); at least ${MIN_TRAIN_IMAGES} are needed${
        bad.size
          ? ` (${[...bad]
              .filter(([f]) => s.subject.train.includes(f))
              .map(([f, why]) => `${path.basename(f)}: ${why}`)
              .join('; ')})`
          : ''
      }`,
    ]);
  return {
    ...s,
    subject: { ...s.subject, train, pools: s.subject.pools.filter((f) => !bad.has(f)) },
    skipped: [...bad].map(([file, why]) => ({ file, why })),
  };
}

async function personalizeLocked(
  session: SubjectSession,
  t0: number,
  opts: PersonalizeOptions,
): Promise<PersonalizeResult> {
  const usable = await withoutUnusablePhotos(session);
  const s: SubjectSession = usable;
  const cfg = { ...s.subject.training, ...opts.overrides };
  const rng = new Rng(cfg.seed + 1);
  const tokens = conceptTokens(s.subject.name, cfg.tokens, s.model.vocab);
  const data = await buildTrainingData(
    s.model,
    s.tokenizer,
    s.ctx,
    s.store,
    tokens,
    {
      train: s.subject.train,
      pool: s.subject.pools,
      hard: opts.overrides?.hard ?? s.subject.hard,
      random: opts.overrides?.random ?? s.subject.random,
      category: s.subject.category,
      questionsPerPhoto: opts.overrides?.questionsPerPhoto,
      questionsPerHardNegative: opts.overrides?.questionsPerHardNegative,
      conversationTokens: opts.overrides?.conversationTokens,
      conversations: opts.overrides?.conversations,
      choices: opts.overrides?.choices,
    },
    rng,
    { signal: opts.signal, progress: (p) => opts.onProgress?.(p as PersonalizeProgress) },
  );
  const dir = artifactDir(s.workspaceDir, s.subject.name);
  removeStaleTemporaries(dir);
  const init = opts.init ?? DEFAULT_INIT;
  let concept = Concept.initialize(
    s.model,
    s.subject.name,
    cfg.tokens,
    cfg.headRows,
    init,
    cfg.seed,
    init === 'vocab-mean' ? [] : await s.store.projected(s.subject.train),
  );
  if (opts.warmStart && readConceptMeta(dir, s.subject.name)) {
    const prev = loadConcept(dir, s.model, s.subject.name).concept;
    if (prev.k === cfg.tokens) concept = prev;
  }
  const t1 = Date.now();
  const result = await trainConcept(s.model, s.ctx, s.yesNo, s.store, data, concept, {
    epochs: cfg.epochs,
    learningRate: cfg.learningRate,
    weightDecay: cfg.weightDecay,
    batchSize: cfg.batchSize,
    seed: cfg.seed,
    signal: opts.signal,
    onProgress: opts.onProgress,
    onEpochEnd: opts.onEpochEnd,
    checkpointDir: dir,
    resume: opts.resume ?? true,
    // A checkpoint is only continued under the same settings, not just the same data.
    resumeKey: JSON.stringify({ data: data.dataHash, cfg, init, warm: Boolean(opts.warmStart) }),
  });
  const trainSeconds = (Date.now() - t1) / 1000;
  result.best.selfDescription = await describeItself(s.model, s.ctx, result.best);
  const best = result.history.find((h) => h.epoch === result.bestEpoch)!;
  const meta = saveConcept(dir, result.best, {
    init,
    baseModel: { fingerprint: s.model.fingerprint(), dir: s.model.dir },
    dataHash: data.dataHash,
    usedImages: [...data.positives, ...data.negatives.map((n) => n.file)].map(contentHash),
    bestEpoch: result.bestEpoch,
    // On the training photos and negatives, so optimistic either way. The raw figures are what recognize
    // would answer on them; the others are at the threshold that is best for those very scores, which
    // picked the epoch (kept under their old names so older concepts read the same).
    metrics: {
      ...(best.raw && {
        train_recognition_raw_positive: best.raw.positive,
        train_recognition_raw_negative: best.raw.negative,
        train_recognition_raw_weighted: best.raw.weighted,
      }),
      train_recognition_positive: best.recognition.positive,
      train_recognition_negative: best.recognition.negative,
      train_recognition_weighted: best.recognition.weighted,
      final_loss: result.history[result.history.length - 1]!.meanLoss,
    },
    createdAt: new Date().toISOString(),
  });
  return {
    meta,
    artifactDir: dir,
    data: {
      skipped: usable.skipped,
      positives: data.positives,
      negatives: data.negatives,
      contamination: data.contamination,
      conversations: data.conversations,
      choices: data.choices,
      dataHash: data.dataHash,
      samples: data.samples.length,
      tokens: data.samples.reduce((a, x) => a + x.ids.length, 0),
      labels: data.samples.reduce((a, x) => a + x.labels.filter((l) => l !== -100).length, 0),
    },
    recipe: cfg,
    history: result.history,
    embedCache: { ...s.store.stats },
    seconds: {
      total: (Date.now() - t0) / 1000,
      embed: data.seconds.embed,
      conversations: data.seconds.conversations,
      train: trainSeconds,
      trainSplit: result.seconds,
    },
  };
}
