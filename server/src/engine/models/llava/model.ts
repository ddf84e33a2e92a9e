// A loaded LLaVA model: config, one host copy of the weights, and lazily created sessions for the vision
// tower, the language model's forward and train graphs, and KV-cache decoding.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { FILE_CAPS, readRegularFileSync } from '../../io/regular-file';
import { Graph, serialize } from '../../graph/index';
import { f32, f64, hostTensor, i64, type HostTensor } from '../../runtime/host-tensor';
import { GraphSession, type ProviderSetting } from '../../runtime/session';
import { ModelConfigError, readLlavaConfig, type LlavaConfig } from './config';
import { packAnyresFeatures, type HW } from './anyres';
import { inspectModel } from './inspect';
import { embedTokens, mergeImageFeatures, type EmbeddingTable } from './embeddings';
import {
  buildConceptTrainGraph,
  buildDecodeGraph,
  buildForwardGraph,
  buildTrainGraph,
} from './language-model';
import { visionTower } from './vision-tower';
import { asFloat32 as weightAsFloat32, WeightInputs } from './weight-inputs';
import { loadLlavaWeights, type WeightMap } from './weights';

export interface LoadOptions {
  provider?: ProviderSetting;
  threads?: number;
  /**
   * How frozen weights enter the graphs: 'inputs' (default) feeds one shared host copy to every session;
   * 'initializers' gives each session its own copy, which ORT can pre-pack (faster small steps, more memory).
   */
  weights?: 'inputs' | 'initializers';
  /** Precision of the concept-training graph: float64 only for gradient checks. Default float32. */
  trainPrecision?: 'float32' | 'float64';
  /** Bytes of weights read so far, and of all the model needs, after each tensor. */
  onLoadProgress?: (done: number, total: number) => void;
}

type GraphKind = 'vision' | 'forward' | 'train' | 'trainHead' | 'trainRows' | 'trainRowsAdam' | 'decode';

export interface VisionResult {
  /** [B, N, hidden_text] */
  features: HostTensor;
  /** [B, N, vision feature dim] */
  selected: HostTensor;
  /** [B, vision feature dim], L2-normalized */
  pooled: HostTensor;
}

export interface TrainBatch {
  /** [B, T, D] merged embeddings (row-major). */
  embeds: Float32Array;
  batch: number;
  seq: number;
  /** Flat positions (b·T + t) whose logits predict `labelIds`. */
  labelPositions: number[];
  labelIds: number[];
  /** [E, D] output-head rows of added tokens (ids vocab…vocab+E-1). */
  extraHead: Float32Array;
  /** [B, T] 1 = real token, 0 = right padding. Default: all 1. */
  keyMask?: number[];
}

/** B samples of one personalization step, padded on the right to a common length T. */
export interface ConceptBatch {
  /** [B, T, D] vocabulary rows and image features; zeros where a concept token stands. */
  embeds: Float32Array | Float64Array;
  batch: number;
  seq: number;
  /** [B, T] the concept row at each position, −1 elsewhere (padding included). */
  rowIndex: ArrayLike<number>;
  /** [E, D] the concept's input rows, placed inside the graph (float64 only for gradient checks). */
  conceptRows: Float32Array | Float64Array;
  /** [E, D] output-head rows of the concept's tokens (ids vocab…vocab+E-1). */
  extraHead: Float32Array | Float64Array;
  /** [B, T] 1 = real token, 0 = padding. */
  keyMask: ArrayLike<number>;
  /** Flat positions (b·T + t) whose logits predict `labelIds`. */
  labelPositions: ArrayLike<number>;
  labelIds: ArrayLike<number>;
  /** Per label; the loss is Σ w·CE / Σ w. */
  labelWeights: ArrayLike<number>;
  /**
   * With it, the same graph run also makes the AdamW step (betas 0.9, 0.999, eps 1e-8) from these moments
   * and scalars, and the result holds the updated rows and moments.
   */
  adamw?: {
    mRows: Float32Array;
    vRows: Float32Array;
    mHead: Float32Array;
    vHead: Float32Array;
    decay: number;
    stepSize: number;
    invSqrtC2: number;
  };
}

export interface ConceptStepResult {
  loss: number;
  /** [E, D] d loss / d concept rows, summed over every position the rows stand at (float64 when trained so). */
  gradRows: Float32Array | Float64Array;
  gradHead: Float32Array | Float64Array;
  /** With ConceptBatch.adamw: the rows and moments after the step. */
  updated?: {
    rows: Float32Array;
    head: Float32Array;
    mRows: Float32Array;
    vRows: Float32Array;
    mHead: Float32Array;
    vHead: Float32Array;
  };
}

export interface TrainResult {
  loss: number;
  gradEmbeds: Float32Array;
  gradExtraHead: Float32Array;
  gradLmHead?: Float32Array;
}

export class LlavaModel {
  /**
   * The execution provider its first graph session started on, and why providers before it in `auto`'s
   * order were passed over; null until a session exists.
   */
  providerReport: { provider: string; passedOver: string[] } | null = null;
  private readonly sessions = new Map<
    GraphKind,
    { session: GraphSession; weights: Record<string, HostTensor> }
  >();
  private readonly pending = new Map<
    GraphKind,
    Promise<{ session: GraphSession; weights: Record<string, HostTensor> }>
  >();
  private fingerprintCache?: string;
  private readonly f32Copies = new Map<string, Float32Array>();

  private constructor(
    readonly dir: string,
    readonly config: LlavaConfig,
    readonly weights: WeightMap,
    readonly options: LoadOptions,
  ) {}

  static load(dir: string, options: LoadOptions = {}): LlavaModel {
    const config = readLlavaConfig(dir);
    refuseIfTooLarge(dir);
    return new LlavaModel(dir, config, loadLlavaWeights(dir, config, options.onLoadProgress), options);
  }

  get hidden(): number {
    return this.config.text.hidden;
  }

  get vocab(): number {
    return this.config.text.vocab;
  }

  /** Parameter count of the loaded tensors. */
  parameterCount(): number {
    let n = 0;
    for (const t of this.weights.values()) n += t.data.length;
    return n;
  }

  /**
   * A hash of config.json and every weight's name, shape and bytes: concept artifacts record it, and refuse
   * to load on a model whose fingerprint differs.
   */
  fingerprint(): string {
    if (!this.fingerprintCache) {
      const h = createHash('sha256');
      h.update(readRegularFileSync(path.join(this.dir, 'config.json'), 'config.json', FILE_CAPS.modelConfig));
      for (const name of [...this.weights.keys()].sort()) {
        const t = this.weights.get(name)!;
        h.update(`${name}:${t.shape.join('x')};`);
        h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      }
      this.fingerprintCache = h.digest('hex').slice(0, 32);
    }
    return this.fingerprintCache;
  }

  /**
   * A weight as float32 on the host. A float16 one is converted; with `keep`, the copy is kept for the
   * next call (the embedding table, read on every prompt).
   */
  weightF32(name: string, keep = false): Float32Array {
    const t = this.weights.get(name);
    if (!t) throw new Error(`weight "${name}" is not loaded`);
    if (t.dtype === 'float32') return t.data as Float32Array;
    let c = this.f32Copies.get(name);
    if (!c) {
      c = weightAsFloat32(t).data as Float32Array;
      if (keep) this.f32Copies.set(name, c);
    }
    return c;
  }

  embeddingTable(extra?: Float32Array): EmbeddingTable {
    return {
      // A 16-bit table stays 16-bit: a prompt widens only its own rows.
      table: this.weights.get('lm.embed_tokens.weight')!.data as Float32Array | Uint16Array,
      vocab: this.vocab,
      hidden: this.hidden,
      extra,
    };
  }

  /** ids → merged embeddings [T, D], with one [N, D] feature block per image replacing its image tokens. */
  embed(
    ids: readonly number[],
    imageFeatures: readonly Float32Array[] = [],
    extraRows?: Float32Array,
  ): Float32Array {
    const e = embedTokens(ids, this.embeddingTable(extraRows));
    if (imageFeatures.length || ids.includes(this.config.imageTokenIndex)) {
      mergeImageFeatures(ids, e, imageFeatures, this.config.imageTokenIndex, this.hidden);
    }
    return e;
  }

  async encodeImages(pixels: HostTensor): Promise<VisionResult> {
    const { session, weights } = await this.session('vision');
    const out = await session.run({ ...weights, pixel_values: pixels });
    return { features: out['features']!, selected: out['selected']!, pooled: out['pooled']! };
  }

  /**
   * LLaVA-NeXT and OneVision: one image's sequence for the language model [tokens, D] from the projected
   * features of its base image and tiles ([1 + tiles, p·p, D], as encodeImages returns them for
   * anyresPixels' output with the same `imagesInPrompt`).
   */
  packAnyres(features: Float32Array, imageSize: HW, imagesInPrompt = 1): Float32Array {
    const c = this.config;
    if (!c.anyres) throw new Error(`${c.family} has no anyres tiles`);
    const newline = this.weightF32('image_newline', true);
    return packAnyresFeatures(
      features,
      imageSize,
      c.vision.imageSize,
      c.vision.patchSize,
      c.anyres,
      newline,
      imagesInPrompt,
    );
  }

  /** Logits [P, V + E] at flat positions of the [B, T, D] embeddings. */
  async logits(
    embeds: Float32Array,
    batch: number,
    seq: number,
    positions: number[],
    extraHead?: Float32Array,
    keyMask?: number[],
  ): Promise<Float32Array> {
    const { session, weights } = await this.session('forward');
    const out = await session.run({
      ...weights,
      inputs_embeds: f32([batch, seq, this.hidden], embeds),
      logit_positions: i64([positions.length], positions),
      extra_head: this.extraTensor(extraHead),
      key_mask: i64([batch, seq], keyMask ?? new Array<number>(batch * seq).fill(1)),
    });
    return out['logits']!.data as Float32Array;
  }

  async trainStep(b: TrainBatch, opts: { lmHeadGradient?: boolean } = {}): Promise<TrainResult> {
    const { session, weights } = await this.session(opts.lmHeadGradient ? 'trainHead' : 'train');
    const out = await session.run({
      ...weights,
      inputs_embeds: f32([b.batch, b.seq, this.hidden], b.embeds),
      label_positions: i64([b.labelPositions.length], b.labelPositions),
      label_ids: i64([b.labelIds.length], b.labelIds),
      extra_head: this.extraTensor(b.extraHead),
      key_mask: i64([b.batch, b.seq], b.keyMask ?? new Array<number>(b.batch * b.seq).fill(1)),
    });
    return {
      loss: (out['loss']!.data as Float32Array)[0]!,
      gradEmbeds: out['grad_inputs_embeds']!.data as Float32Array,
      gradExtraHead: out['grad_extra_head']!.data as Float32Array,
      gradLmHead: out['grad_lm_head']?.data as Float32Array | undefined,
    };
  }

  /** One personalization step over a padded batch: loss and the gradients of the concept's rows. */
  async conceptStep(b: ConceptBatch): Promise<ConceptStepResult> {
    const { session, weights } = await this.session(b.adamw ? 'trainRowsAdam' : 'trainRows');
    const D = this.hidden;
    const E = b.conceptRows.length / D;
    const wide = this.options.trainPrecision === 'float64';
    const fl = (shape: number[], data: ArrayLike<number>): HostTensor =>
      wide ? f64(shape, data) : hostTensor('float32', shape, asFloat32(data));
    const a = b.adamw;
    const optimizerFeeds: Record<string, HostTensor> = a
      ? {
          m_concept_rows: fl([E, D], a.mRows),
          v_concept_rows: fl([E, D], a.vRows),
          m_extra_head: fl([E, D], a.mHead),
          v_extra_head: fl([E, D], a.vHead),
          adam_decay: fl([], [a.decay]),
          adam_step_size: fl([], [a.stepSize]),
          adam_inv_sqrt_c2: fl([], [a.invSqrtC2]),
        }
      : {};
    const out = await session.run({
      ...optimizerFeeds,
      ...weights,
      inputs_embeds: fl([b.batch, b.seq, D], b.embeds),
      row_index: i64([b.batch, b.seq], b.rowIndex),
      concept_rows: fl([E, D], b.conceptRows),
      extra_head: fl([E, D], b.extraHead),
      key_mask: i64([b.batch, b.seq], b.keyMask),
      label_positions: i64([b.labelPositions.length], b.labelPositions),
      label_ids: i64([b.labelIds.length], b.labelIds),
      label_weights: fl([b.labelWeights.length], b.labelWeights),
    });
    const f = (name: string): Float32Array => asFloat32(out[name]!.data as Float32Array | Float64Array);
    return {
      loss: Number(out['loss']!.data[0]),
      gradRows: out['grad_concept_rows']!.data as Float32Array | Float64Array,
      gradHead: out['grad_extra_head']!.data as Float32Array | Float64Array,
      ...(a && {
        updated: {
          rows: f('new_concept_rows'),
          head: f('new_extra_head'),
          mRows: f('new_m_concept_rows'),
          vRows: f('new_v_concept_rows'),
          mHead: f('new_m_extra_head'),
          vHead: f('new_v_extra_head'),
        },
      }),
    };
  }

  /** One KV-cache step: new embeddings [1, T, D] after the cache → last position's logits and the new cache. */
  async decodeStep(
    embeds: Float32Array,
    cache: KvCache,
    extraHead?: Float32Array,
  ): Promise<{ logits: Float32Array; cache: KvCache }> {
    const { session, weights } = await this.session('decode');
    const t = this.config.text;
    const T = embeds.length / this.hidden;
    const feeds: Record<string, HostTensor> = {
      ...weights,
      inputs_embeds: f32([1, T, this.hidden], embeds),
      extra_head: this.extraTensor(extraHead),
    };
    for (let l = 0; l < t.layers; l++) {
      feeds[`past_k_${l}`] = cache.k[l] ?? hostTensor('float32', [1, t.kvHeads, 0, t.headDim]);
      feeds[`past_v_${l}`] = cache.v[l] ?? hostTensor('float32', [1, t.kvHeads, 0, t.headDim]);
    }
    const out = await session.run(feeds);
    const next: KvCache = { k: [], v: [], length: cache.length + T };
    for (let l = 0; l < t.layers; l++) {
      next.k.push(out[`present_k_${l}`]!);
      next.v.push(out[`present_v_${l}`]!);
    }
    return { logits: out['logits']!.data as Float32Array, cache: next };
  }

  async release(): Promise<void> {
    for (const { session } of this.sessions.values()) await session.release();
    this.sessions.clear();
    this.pending.clear();
  }

  private extraTensor(extra?: Float32Array): HostTensor {
    const rows = extra ? extra.length / this.hidden : 0;
    return f32([rows, this.hidden], extra ?? new Float32Array(0));
  }

  private session(kind: GraphKind): Promise<{ session: GraphSession; weights: Record<string, HostTensor> }> {
    const ready = this.sessions.get(kind);
    if (ready) return Promise.resolve(ready);
    let p = this.pending.get(kind);
    if (!p) {
      p = this.createSession(kind).then((s) => {
        this.sessions.set(kind, s);
        this.providerReport ??= { provider: s.session.provider, passedOver: s.session.providerNotes };
        return s;
      });
      this.pending.set(kind, p);
    }
    return p;
  }

  private async createSession(
    kind: GraphKind,
  ): Promise<{ session: GraphSession; weights: Record<string, HostTensor> }> {
    const g = new Graph(`llava-${kind}`);
    const rowsKind = kind === 'trainRows' || kind === 'trainRowsAdam';
    const dtype = rowsKind ? (this.options.trainPrecision ?? 'float32') : 'float32';
    const smallDecode = kind === 'decode' && this.parameterCount() <= SMALL_DECODE_PARAMETERS;
    const mode = smallDecode ? 'initializers' : (this.options.weights ?? 'inputs');
    const w = new WeightInputs(g, this.weights, mode, dtype);
    let outputs;
    if (kind === 'vision') {
      const v = this.config.vision;
      const pixels = g.input('pixel_values', 'float32', ['images', v.channels, v.imageSize, v.imageSize]);
      outputs = { ...visionTower(pixels, this.config, w) };
    } else if (kind === 'forward') outputs = buildForwardGraph(g, this.config, w);
    else if (kind === 'decode') outputs = buildDecodeGraph(g, this.config, w);
    else if (rowsKind)
      outputs = buildConceptTrainGraph(g, this.config, w, dtype, {
        optimizer: kind === 'trainRowsAdam' ? { beta1: 0.9, beta2: 0.999, eps: 1e-8 } : undefined,
      });
    else outputs = buildTrainGraph(g, this.config, w, { lmHeadGradient: kind === 'trainHead' });
    const session = await GraphSession.create(serialize(outputs), {
      provider: this.options.provider ?? 'cpu',
      threads: smallDecode ? 1 : this.options.threads,
      name: `llava ${kind} graph`,
      ...(dtype === 'float64' && { optimization: 'basic' as const }),
    });
    return { session, weights: w.feeds() };
  }
}

/**
 * Up to this size a decoding step is a few hundred tiny ops, where each op's thread hand-off and each fed
 * weight cost more than the arithmetic: the decode session then runs on one thread with its own copy of the
 * weights baked in (measured on the 6.1M default model, 2 cores: 331 tokens/s on 2 threads with fed
 * weights, 663 on one thread, 1,055 on one thread with baked weights). Larger models keep the shared copy
 * and every thread, where the MatMuls dominate.
 */
const SMALL_DECODE_PARAMETERS = 50_000_000;

/**
 * Refuses, from the checkpoint's headers alone, a model that would not fit in this machine's memory: a
 * clear message instead of the OS killing the process half-way through loading.
 */
function refuseIfTooLarge(dir: string): void {
  const s = inspectModel(dir);
  const total = os.totalmem();
  if (s.estimatedInferenceBytes > 0.9 * total) {
    const gib = (b: number): string => (b / 2 ** 30).toFixed(1);
    throw new ModelConfigError(
      dir,
      '',
      `${s.architecture} with ${s.parameters.toLocaleString('en-US')} parameters needs about ${gib(s.estimatedInferenceBytes)} GiB to run (${gib(s.weightBytes)} GiB of weights), more than 90% of this machine's ${gib(total)} GiB; use a smaller checkpoint, a 16-bit (F16/BF16) one instead of float32, or a machine with more memory`,
    );
  }
}

/** Float32 data without a copy when it already is. */
function asFloat32(data: ArrayLike<number>): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

export interface KvCache {
  k: HostTensor[];
  v: HostTensor[];
  length: number;
}

export function emptyCache(): KvCache {
  return { k: [], v: [], length: 0 };
}
