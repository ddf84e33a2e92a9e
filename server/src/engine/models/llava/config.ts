// Hugging Face LLaVA config.json → the engine's typed view. Only what the config says is used; missing
// optional keys take the defaults that transformers' config classes give them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FILE_CAPS, FileKindError, readRegularTextSync } from '../../io/regular-file';

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${message}`);
  }
}

export interface VisionConfig {
  kind: 'clip' | 'siglip';
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  imageSize: number;
  patchSize: number;
  /**
   * Patches per image side: floor(image_size / patch_size). The patch convolution has no padding, so
   * SigLIP-so400m's 384 px in 14 px patches is 27 patches and its last 6 pixel rows and columns unused.
   */
  patchesPerSide: number;
  channels: number;
  act: 'quick_gelu' | 'gelu' | 'gelu_pytorch_tanh';
  layerNormEps: number;
}

export interface TextConfig {
  kind: 'llama' | 'qwen2';
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  rmsEps: number;
  ropeTheta: number;
  /** q/k/v projections carry biases (Qwen2). */
  qkvBias: boolean;
  tieEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  maxPositions: number;
}

/**
 * LLaVA-NeXT's and LLaVA-OneVision's "anyres": an image is cut into tiles of the vision tower's size on
 * the grid (one of the pinpoints) that keeps most of it, plus the whole image squashed to one tile.
 */
export interface AnyresConfig {
  /** Whose geometry: padding, unpadding and packing differ between the two (see anyres.ts). */
  family: 'llava_next' | 'llava_onevision';
  /** Candidate canvas sizes, (height, width) in pixels, as config.json's image_grid_pinpoints. */
  pinpoints: [number, number][];
  /** OneVision's vision_aspect_ratio "anyres_max_N": the packed grid is shrunk to about N tiles. */
  maxTiles: number | null;
}

export type LlavaFamily = 'llava' | 'llava_next' | 'llava_onevision';

export interface LlavaConfig {
  /** config.json's model_type. */
  family: LlavaFamily;
  /** null for LLaVA-1.5: one image is one tile. */
  anyres: AnyresConfig | null;
  vision: VisionConfig;
  text: TextConfig;
  projectorAct: 'gelu' | 'gelu_pytorch_tanh' | 'quick_gelu' | 'silu';
  imageTokenIndex: number;
  /** Index (or indices, concatenated) into the vision tower's hidden states (L+1 entries; negatives count from the end). */
  featureLayers: number[];
  selectStrategy: 'default' | 'full';
  /**
   * Image tokens of one tile in the language model's input: one whole image for LLaVA-1.5; for anyres
   * models the base image's share, the whole image's count depending on its size (see anyres.ts).
   */
  imageTokens: number;
  padTokenId: number | null;
  raw: Record<string, unknown>;
}

type Json = Record<string, unknown>;

export function readLlavaConfig(dir: string): LlavaConfig {
  const file = path.join(dir, 'config.json');
  if (!existsSync(dir)) throw new ModelConfigError(dir, '', 'the model folder does not exist');
  if (!existsSync(file))
    throw new ModelConfigError(file, '', 'not found: a Hugging Face model folder needs config.json');
  let raw: Json;
  try {
    raw = JSON.parse(readRegularTextSync(file, 'config.json', FILE_CAPS.modelConfig)) as Json;
  } catch (e) {
    if (e instanceof FileKindError) throw new ModelConfigError(file, '', e.message.slice(file.length + 2));
    throw new ModelConfigError(file, '', `not valid JSON: ${(e as Error).message}`);
  }
  return parseLlavaConfig(raw, file);
}

export function parseLlavaConfig(raw: Json, file = 'config.json'): LlavaConfig {
  const r = new Reader(raw, file, '');
  const modelType = r.str('model_type');
  if (!(FAMILIES as readonly string[]).includes(modelType)) {
    throw new ModelConfigError(
      file,
      'model_type',
      `"${modelType}" is not supported (supported: ${FAMILIES.join(', ')})`,
    );
  }
  const family = modelType as LlavaFamily;
  const vision = parseVision(r.obj('vision_config'));
  const text = parseText(r.obj('text_config'), raw);
  // transformers' defaults differ by family: OneVision takes the last layer whole.
  const onevision = family === 'llava_onevision';
  const layerRaw = raw['vision_feature_layer'] ?? (onevision ? -1 : -2);
  const featureLayers = Array.isArray(layerRaw) ? layerRaw.map(Number) : [Number(layerRaw)];
  const total = vision.layers + 1;
  for (const l of featureLayers) {
    if (!Number.isInteger(l) || l < -total || l >= total) {
      throw new ModelConfigError(
        file,
        'vision_feature_layer',
        `${l} is outside the ${total} hidden states of a ${vision.layers}-layer vision tower`,
      );
    }
  }
  const selectStrategy = r.optStr('vision_feature_select_strategy', onevision ? 'full' : 'default');
  if (selectStrategy !== 'default' && selectStrategy !== 'full') {
    throw new ModelConfigError(
      file,
      'vision_feature_select_strategy',
      `"${selectStrategy}" is not one of default, full`,
    );
  }
  // "default" drops the first token (CLIP's CLS; transformers drops it for SigLIP too), "full" keeps all.
  const tokensPerLayer =
    vision.patchesPerSide ** 2 + (vision.kind === 'clip' ? 1 : 0) - (selectStrategy === 'default' ? 1 : 0);
  if (family !== 'llava' && tokensPerLayer !== vision.patchesPerSide ** 2)
    throw new ModelConfigError(
      file,
      'vision_feature_select_strategy',
      `"${selectStrategy}": ${family} lays tile features out on a square grid of patches, which needs ` +
        `${vision.kind === 'clip' ? '"default" (CLIP\'s CLS dropped)' : '"full" (SigLIP has no CLS)'}`,
    );
  if (raw['multimodal_projector_bias'] === false)
    throw new ModelConfigError(
      file,
      'multimodal_projector_bias',
      'false is not supported (projectors with biases only)',
    );
  const projectorAct = r.optStr('projector_hidden_act', 'gelu');
  if (!['gelu', 'gelu_pytorch_tanh', 'quick_gelu', 'silu'].includes(projectorAct)) {
    throw new ModelConfigError(file, 'projector_hidden_act', `"${projectorAct}" is not supported`);
  }
  const imageTokens = tokensPerLayer;
  const imageTokenIndex = r.optNum(
    'image_token_index',
    r.optNum('image_token_id', onevision ? 151646 : 32000),
  );
  // An id outside the vocabulary never occurs in a prompt: every photo would be silently ignored.
  if (!Number.isInteger(imageTokenIndex) || imageTokenIndex < 0 || imageTokenIndex >= text.vocab)
    throw new ModelConfigError(
      file,
      raw['image_token_index'] !== undefined ? 'image_token_index' : 'image_token_id',
      `${imageTokenIndex} is not an id of the ${text.vocab}-token vocabulary (text_config.vocab_size)`,
    );
  return {
    family,
    anyres: family === 'llava' ? null : parseAnyres(raw, file, vision.imageSize, family),
    vision,
    text,
    projectorAct: projectorAct as LlavaConfig['projectorAct'],
    imageTokenIndex,
    featureLayers,
    selectStrategy,
    imageTokens,
    padTokenId: typeof raw['pad_token_id'] === 'number' ? (raw['pad_token_id'] as number) : null,
    raw,
  };
}

const FAMILIES = ['llava', 'llava_next', 'llava_onevision'] as const;

function parseAnyres(
  raw: Json,
  file: string,
  tile: number,
  family: 'llava_next' | 'llava_onevision',
): AnyresConfig {
  let maxTiles: number | null = null;
  if (family === 'llava_onevision') {
    const ratio = raw['vision_aspect_ratio'] ?? 'anyres_max_9';
    const m = typeof ratio === 'string' ? /^anyres_max_(\d{1,3})$/.exec(ratio) : null;
    if (!m || Number(m[1]) < 1)
      throw new ModelConfigError(
        file,
        'vision_aspect_ratio',
        `${JSON.stringify(ratio)} is not "anyres_max_N" with N from 1 to 999 (OneVision checkpoints use "anyres_max_9")`,
      );
    maxTiles = Number(m[1]);
  }
  const pins = raw['image_grid_pinpoints'];
  if (!Array.isArray(pins) || pins.length === 0 || pins.length > 1024)
    throw new ModelConfigError(
      file,
      'image_grid_pinpoints',
      `${family} needs a list of [height, width] canvas sizes (1 to 1024 of them)`,
    );
  const pinpoints = pins.map((p, i): [number, number] => {
    const ok =
      Array.isArray(p) &&
      p.length === 2 &&
      p.every(
        (d) =>
          Number.isInteger(d) &&
          (d as number) >= tile &&
          (d as number) <= 65536 &&
          (d as number) % tile === 0,
      );
    if (!ok)
      throw new ModelConfigError(
        file,
        `image_grid_pinpoints[${i}]`,
        `${JSON.stringify(p)} is not a [height, width] pair of multiples of the vision tower's ${tile} px`,
      );
    return [p[0] as number, p[1] as number];
  });
  return { family, pinpoints, maxTiles };
}

function parseVision(r: Reader): VisionConfig {
  const type = r.optStr('model_type', 'clip_vision_model');
  const kind = type === 'clip_vision_model' ? 'clip' : type === 'siglip_vision_model' ? 'siglip' : null;
  if (!kind)
    throw r.error(
      'model_type',
      `"${type}" is not supported (supported: clip_vision_model, siglip_vision_model)`,
    );
  const act = r.optStr('hidden_act', kind === 'clip' ? 'quick_gelu' : 'gelu_pytorch_tanh');
  if (!['quick_gelu', 'gelu', 'gelu_pytorch_tanh'].includes(act))
    throw r.error('hidden_act', `"${act}" is not supported`);
  const v: VisionConfig = {
    kind,
    hidden: r.size('hidden_size', 768, 65536),
    intermediate: r.size('intermediate_size', 3072, 262144),
    layers: r.size('num_hidden_layers', 12, 1024),
    heads: r.size('num_attention_heads', 12, 1024),
    imageSize: r.size('image_size', 224, 8192),
    patchSize: r.size('patch_size', 32, 1024),
    channels: r.size('num_channels', 3, 4),
    patchesPerSide: 0,
    act: act as VisionConfig['act'],
    layerNormEps: r.range(
      'layer_norm_eps',
      kind === 'clip' ? 1e-5 : 1e-6,
      1e-12,
      0.1,
      'an epsilon from 1e-12 to 0.1',
    ),
  };
  v.patchesPerSide = Math.floor(v.imageSize / v.patchSize);
  if (v.patchSize > v.imageSize)
    throw r.error('patch_size', `${v.patchSize} is larger than image_size ${v.imageSize}`);
  if (v.hidden % v.heads !== 0)
    throw r.error('hidden_size', `${v.hidden} does not split over ${v.heads} heads`);
  return v;
}

function parseText(r: Reader, top: Json): TextConfig {
  const type = r.optStr('model_type', 'llama');
  if (type !== 'llama' && type !== 'qwen2')
    throw r.error('model_type', `"${type}" is not supported (supported: llama, qwen2)`);
  const hidden = r.size('hidden_size', 4096, 65536);
  const heads = r.size('num_attention_heads', 32, 1024);
  const headDim = r.optNum('head_dim', hidden / heads);
  const kvHeads = r.size('num_key_value_heads', heads, 1024);
  if (heads % kvHeads !== 0)
    throw r.error('num_key_value_heads', `${heads} attention heads do not group over ${kvHeads} kv heads`);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    throw r.error('head_dim', `${headDim} must be an even integer`);
  const scaling = r.raw['rope_scaling'];
  if (
    scaling &&
    typeof scaling === 'object' &&
    (scaling as Json)['rope_type'] !== 'default' &&
    (scaling as Json)['type'] !== 'default'
  ) {
    throw r.error(
      'rope_scaling',
      `${JSON.stringify(scaling)} is not supported yet (only default rotary embeddings)`,
    );
  }
  const eos = r.raw['eos_token_id'] ?? top['eos_token_id'];
  return {
    kind: type,
    hidden,
    intermediate: r.size('intermediate_size', 11008, 262144),
    layers: r.size('num_hidden_layers', 32, 1024),
    heads,
    kvHeads,
    headDim,
    vocab: r.size('vocab_size', 32000, 4_194_304),
    rmsEps: r.range('rms_norm_eps', 1e-6, 1e-12, 0.1, 'an epsilon from 1e-12 to 0.1'),
    ropeTheta: r.range('rope_theta', 10000, 1, 1e9, 'a rotary base from 1 to 1e9'),
    qkvBias: type === 'qwen2' ? true : Boolean(r.raw['attention_bias']),
    tieEmbeddings: Boolean(r.raw['tie_word_embeddings'] ?? false),
    bosTokenId: typeof r.raw['bos_token_id'] === 'number' ? (r.raw['bos_token_id'] as number) : null,
    eosTokenIds: Array.isArray(eos) ? eos.map(Number) : typeof eos === 'number' ? [eos] : [],
    maxPositions: r.size('max_position_embeddings', 4096, 1 << 21),
  };
}

class Reader {
  constructor(
    readonly raw: Json,
    readonly file: string,
    readonly prefix: string,
  ) {}
  error(field: string, message: string): ModelConfigError {
    return new ModelConfigError(this.file, this.prefix + field, message);
  }
  str(field: string): string {
    const v = this.raw[field];
    if (typeof v !== 'string')
      throw this.error(field, v === undefined ? 'missing' : `expected a string, got ${JSON.stringify(v)}`);
    return v;
  }
  optStr(field: string, dflt: string): string {
    return this.raw[field] === undefined || this.raw[field] === null ? dflt : this.str(field);
  }
  optNum(field: string, dflt: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw this.error(field, `expected a number, got ${JSON.stringify(v)}`);
    return v;
  }
  /**
   * A whole number in 1…max. Past the largest any LLaVA uses, the config is corrupt or hostile: refuse it
   * here, before anything is allocated from it.
   */
  size(field: string, dflt: number, max: number): number {
    const v = this.optNum(field, dflt);
    if (!Number.isInteger(v) || v < 1 || v > max)
      throw this.error(
        field,
        `${v} is not a size a LLaVA model uses (a whole number from 1 to ${max}); the config is corrupt`,
      );
    return v;
  }
  /** A number in [min, max] (an epsilon of -1 or a rope_theta of 0 gives NaN answers, not an error). */
  range(field: string, dflt: number, min: number, max: number, what: string): number {
    const v = this.optNum(field, dflt);
    if (!(v >= min && v <= max)) throw this.error(field, `${v} is out of range: ${what}`);
    return v;
  }
  obj(field: string): Reader {
    const v = this.raw[field];
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw this.error(field, v === undefined ? 'missing' : 'expected an object');
    return new Reader(v as Json, this.file, `${this.prefix}${field}.`);
  }
}
