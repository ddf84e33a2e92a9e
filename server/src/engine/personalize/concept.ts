// A learned concept: its tokens and trainable rows (input embeddings of <name> and the latent tokens, and
// their output-head rows), and the artifact on disk: .yollava/<name>/concept.json + weights. The JSON is
// the commit point: weights go to a content-named file first, then concept.json is replaced atomically,
// so a crash or cancel at any moment leaves the previous good artifact loadable.
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write';
import { FILE_CAPS, FileKindError, readRegularFileSync } from '../io/regular-file';
import { encodeSafetensors, SafetensorsFile } from '../io/safetensors';
import type { LlavaModel } from '../models/llava/model';
import { Rng } from '../util/rng';
import { ConceptError, readConceptMeta } from './concept-meta';
import { conceptTokens, type ConceptTokens } from './prompts';

export { ConceptError, readConceptMeta } from './concept-meta';

export type HeadRows = 'all' | 'name';
/**
 * How new rows start. vocab-mean: the vocabulary's mean row plus small noise. image-mean: the mean
 * projected feature of the training photos. reference-photo: the latent tokens start as the projected
 * features of the most typical training photo, pooled to k tokens, so that before any step the soft prompt
 * "<bo> is <token0>…" is the instant-mode prompt "<bo> is <image>." with that one photo.
 */
export type ConceptInit = 'vocab-mean' | 'image-mean' | 'reference-photo';

export interface ConceptMetrics {
  [key: string]: number | string | undefined;
}

export interface ConceptMeta {
  format: 'yollava-concept/1';
  name: string;
  tokens: string[];
  k: number;
  headRows: HeadRows;
  init: ConceptInit;
  baseModel: { fingerprint: string; dir: string };
  dataHash: string;
  /** Content hashes of every image trained on (photos and negatives): evaluation must not reuse them. */
  usedImages: string[];
  weightsFile: string;
  weightsSha256: string;
  /** Recognition threshold on logit(Yes) − logit(No), calibrated on the training data. */
  threshold: number;
  /**
   * What the trained concept says of itself with no photo ("<bo> is a brown striped dog."), written once
   * after training, for the editor and the CLI to show (self-description.ts). Absent in older artifacts
   * and where the sentence does not name the subject.
   */
  selfDescription?: string;
  bestEpoch: number;
  metrics: ConceptMetrics;
  createdAt: string;
}

/**
 * The concept's weighted recognition on its own training photos and negatives, read as recognize decides
 * (P(Yes) > P(No)); `raw` false for a concept trained before that was stored, whose figure is at the
 * threshold that was best for those very scores, and so more optimistic still.
 */
export function trainingRecognition(
  meta: Pick<ConceptMeta, 'metrics'>,
): { weighted: number; raw: boolean } | undefined {
  const raw = meta.metrics['train_recognition_raw_weighted'];
  if (typeof raw === 'number') return { weighted: raw, raw: true };
  const own = meta.metrics['train_recognition_weighted'];
  return typeof own === 'number' ? { weighted: own, raw: false } : undefined;
}

export class Concept {
  constructor(
    readonly tokens: ConceptTokens,
    /** [(k+1), D] input embeddings of <name>, <token0>, … */
    readonly embeddings: Float32Array,
    /** [(k+1), D] output-head rows; with headRows "name" only row 0 trains. */
    readonly head: Float32Array,
    readonly headRows: HeadRows,
    public threshold = 0,
    public selfDescription: string | null = null,
  ) {}

  get k(): number {
    return this.tokens.latentTokens.length;
  }

  /** New rows, as `init` says (ConceptInit). */
  static initialize(
    model: LlavaModel,
    name: string,
    k: number,
    headRows: HeadRows,
    init: ConceptInit,
    seed: number,
    imageFeatures: Float32Array[] = [],
  ): Concept {
    const D = model.hidden;
    const V = model.vocab;
    const rng = new Rng(seed);
    const table = model.weightF32('lm.embed_tokens.weight');
    const lmHead = model.weightF32('lm_head.weight');
    const meanRows = (m: Float32Array, rows: number): Float32Array => {
      const out = new Float32Array(D);
      for (let r = 0; r < rows; r++) for (let d = 0; d < D; d++) out[d] += m[r * D + d]! / rows;
      return out;
    };
    const std = (m: Float32Array, mean: Float32Array): number => {
      let s = 0;
      for (let i = 0; i < m.length; i++) s += (m[i]! - mean[i % D]!) ** 2;
      return Math.sqrt(s / m.length);
    };
    const embMean = meanRows(table, V);
    let base = embMean;
    if (init === 'image-mean' && imageFeatures.length) {
      base = new Float32Array(D);
      let n = 0;
      for (const f of imageFeatures) {
        const rows = f.length / D;
        for (let r = 0; r < rows; r++, n++) for (let d = 0; d < D; d++) base[d] += f[r * D + d]!;
      }
      for (let d = 0; d < D; d++) base[d] /= n;
    }
    const embStd = std(table, embMean);
    const photo = init === 'reference-photo' ? typicalPhotoTokens(imageFeatures, D, k) : null;
    const headMean = meanRows(lmHead, V);
    const headStd = std(lmHead, headMean);
    const embeddings = new Float32Array((k + 1) * D);
    const head = new Float32Array((k + 1) * D);
    for (let r = 0; r <= k; r++) {
      for (let d = 0; d < D; d++) {
        embeddings[r * D + d] = base[d]! + 0.1 * embStd * rng.normal();
        head[r * D + d] = headMean[d]! + 0.1 * headStd * rng.normal();
      }
    }
    // The name row stays a fresh word; the latent rows are the photo's tokens, unperturbed.
    if (photo) embeddings.set(photo, D);
    return new Concept(conceptTokens(name, k, V), embeddings, head, headRows);
  }

  clone(): Concept {
    return new Concept(
      this.tokens,
      this.embeddings.slice(),
      this.head.slice(),
      this.headRows,
      this.threshold,
      this.selfDescription,
    );
  }

  copyFrom(other: Concept): void {
    this.embeddings.set(other.embeddings);
    this.head.set(other.head);
    this.threshold = other.threshold;
    this.selfDescription = other.selfDescription;
  }
}

/**
 * The projected tokens of the training photo whose mean feature is nearest the mean over all of them,
 * pooled to k rows (consecutive tokens averaged; repeated when the photo has fewer than k). Null when
 * there are no photos.
 */
function typicalPhotoTokens(features: Float32Array[], D: number, k: number): Float32Array | null {
  if (!features.length || !k) return null;
  const meanOf = (f: Float32Array): Float32Array => {
    const m = new Float32Array(D);
    const n = f.length / D;
    for (let t = 0; t < n; t++) for (let d = 0; d < D; d++) m[d] += f[t * D + d]! / n;
    return m;
  };
  const means = features.map(meanOf);
  const centre = new Float32Array(D);
  for (const m of means) for (let d = 0; d < D; d++) centre[d] += m[d]! / means.length;
  const dist = (m: Float32Array): number => m.reduce((a, x, d) => a + (x - centre[d]!) ** 2, 0);
  let best = 0;
  for (let i = 1; i < means.length; i++) if (dist(means[i]!) < dist(means[best]!)) best = i;
  const f = features[best]!;
  const T = f.length / D;
  const out = new Float32Array(k * D);
  for (let r = 0; r < k; r++) {
    const from = Math.floor((r * T) / k);
    const to = Math.max(from + 1, Math.floor(((r + 1) * T) / k));
    for (let t = from; t < to; t++) for (let d = 0; d < D; d++) out[r * D + d] += f[t * D + d]! / (to - from);
  }
  return out;
}

export function artifactDir(workspaceDir: string, name: string): string {
  return path.join(workspaceDir, '.yollava', name);
}

/** Writes weights (content-named) then concept.json (atomic); removes weight files no JSON refers to. */
export function saveConcept(
  dir: string,
  concept: Concept,
  meta: Omit<
    ConceptMeta,
    | 'format'
    | 'name'
    | 'tokens'
    | 'k'
    | 'headRows'
    | 'weightsFile'
    | 'weightsSha256'
    | 'threshold'
    | 'selfDescription'
  >,
): ConceptMeta {
  const D = concept.embeddings.length / (concept.k + 1);
  const bytes = encodeSafetensors(
    {
      embeddings: { dtype: 'F32', shape: [concept.k + 1, D], data: concept.embeddings },
      head: { dtype: 'F32', shape: [concept.k + 1, D], data: concept.head },
    },
    { format: 'yollava-concept/1', name: concept.tokens.name },
  );
  const sha = createHash('sha256').update(bytes).digest('hex');
  const weightsFile = `concept-${sha.slice(0, 16)}.safetensors`;
  writeFileAtomic(path.join(dir, weightsFile), bytes);
  const full: ConceptMeta = {
    format: 'yollava-concept/1',
    name: concept.tokens.name,
    tokens: [concept.tokens.nameToken, ...concept.tokens.latentTokens],
    k: concept.k,
    headRows: concept.headRows,
    weightsFile,
    weightsSha256: sha,
    threshold: concept.threshold,
    ...(concept.selfDescription ? { selfDescription: concept.selfDescription } : {}),
    ...meta,
  };
  writeFileAtomic(path.join(dir, 'concept.json'), `${JSON.stringify(full, null, 2)}\n`);
  for (const f of readdirSync(dir)) {
    if (/^concept-[0-9a-f]+\.safetensors$/.test(f) && f !== weightsFile)
      rmSync(path.join(dir, f), { force: true });
  }
  return full;
}

/** Loads an artifact for `model`; refuses one trained on a different base model. */
export function loadConcept(
  dir: string,
  model: LlavaModel,
  expectedName?: string,
): { concept: Concept; meta: ConceptMeta } {
  const meta = readConceptMeta(dir, expectedName);
  if (!meta)
    throw new ConceptError(
      `${dir}: no trained concept here (concept.json is missing); train the subject first`,
    );
  if (meta.baseModel.fingerprint !== model.fingerprint()) {
    throw new ConceptError(
      `${path.join(dir, 'concept.json')}: trained on base model ${meta.baseModel.fingerprint} (${meta.baseModel.dir}), but the model in use is ${model.fingerprint()} (${model.dir}); retrain the subject for this model`,
    );
  }
  const wfile = path.join(dir, meta.weightsFile);
  const unusable = (why: string): ConceptError =>
    new ConceptError(`${wfile}: this concept cannot be used: ${why}; retrain the subject`);
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(wfile, "a concept's weights", FILE_CAPS.conceptWeights);
  } catch (e) {
    throw unusable(
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'the weights file is missing'
        : e instanceof FileKindError
          ? e.message.slice(e.file.length + 2)
          : (e as Error).message,
    );
  }
  if (createHash('sha256').update(bytes).digest('hex') !== meta.weightsSha256)
    throw unusable('the weights do not match concept.json (sha256)');
  const f = SafetensorsFile.open(wfile);
  try {
    const rows = meta.k + 1;
    const D = model.hidden;
    const read = (name: string): Float32Array => {
      const info = f.names().includes(name) ? f.info(name) : null;
      if (
        !info ||
        info.dtype !== 'F32' ||
        info.shape.length !== 2 ||
        info.shape[0] !== rows ||
        info.shape[1] !== D
      )
        throw unusable(`tensor "${name}" must be F32 of shape [${rows}, ${D}]`);
      const data = f.readFloat32(name).slice();
      // Trained rows stay within a few units; ±3e38 or NaN would poison every answer silently.
      for (let i = 0; i < data.length; i++)
        if (!(Math.abs(data[i]!) <= MAX_ABS_WEIGHT))
          throw unusable(`tensor "${name}" holds ${data[i]} (not finite, or beyond ±${MAX_ABS_WEIGHT})`);
      return data;
    };
    const embeddings = read('embeddings');
    const head = read('head');
    const tokens = conceptTokens(meta.name, meta.k, model.vocab);
    const concept = new Concept(
      tokens,
      embeddings,
      head,
      meta.headRows,
      meta.threshold,
      typeof meta.selfDescription === 'string' ? meta.selfDescription : null,
    );
    return { concept, meta };
  } finally {
    f.close();
  }
}

/** Far above any trained row (they stay within a few units), far below float32's overflow. */
const MAX_ABS_WEIGHT = 1e4;
