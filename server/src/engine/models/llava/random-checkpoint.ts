// Writes a random LLaVA checkpoint in the Hugging Face folder format, for any config: config.json,
// model.safetensors (transformers' parameter names) and preprocessor_config.json. Tests and benchmarks
// use it; the weights follow the golden checkpoints' init rules so that activations stay in range.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { f32ToBf16, f32ToF16, writeSafetensors, type TensorToWrite } from '../../io/safetensors';
import { parseLlavaConfig } from './config';
import { requiredWeights } from './weights';
import { writeWordLevelTokenizer } from './word-level-tokenizer';

export interface TinyLlavaSpec {
  /** config.json's model_type. Default llava. */
  family?: 'llava' | 'llava_next' | 'llava_onevision';
  /** image_grid_pinpoints of an anyres family. Default: 1×2, 2×1 and 2×2 tiles. */
  pinpoints?: [number, number][];
  /** OneVision's vision_aspect_ratio. Default anyres_max_9. */
  visionAspectRatio?: string;
  vision?: {
    kind?: 'clip' | 'siglip';
    hidden?: number;
    intermediate?: number;
    layers?: number;
    heads?: number;
    imageSize?: number;
    patchSize?: number;
  };
  text?: {
    hidden?: number;
    intermediate?: number;
    layers?: number;
    heads?: number;
    kvHeads?: number;
    vocab?: number;
    ropeTheta?: number;
    modelType?: 'llama' | 'qwen2';
  };
  featureLayer?: number | number[];
  selectStrategy?: 'default' | 'full';
  seed?: number;
  /** Stored precision (values are drawn in float32 and rounded). Default F32. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Split into this many files with model.safetensors.index.json. Default 1. */
  shards?: number;
}

/** HF prefixes for our canonical names (transformers < 4.52 layout, as llava-hf checkpoints ship). */
const HF_PREFIX: [string, string][] = [
  ['vision.', 'vision_tower.vision_model.'],
  ['projector.', 'multi_modal_projector.'],
  ['lm.', 'language_model.model.'],
  ['lm_head.', 'language_model.lm_head.'],
];

/** Our canonical weight name → the name transformers writes in model.safetensors. */
export function hfWeightName(name: string): string {
  return HF_PREFIX.reduce((s, [canon, pre]) => (s.startsWith(canon) ? pre + s.slice(canon.length) : s), name);
}

export function tinyLlavaConfig(spec: TinyLlavaSpec = {}): Record<string, unknown> {
  const v = {
    kind: 'clip',
    hidden: 32,
    intermediate: 37,
    layers: 2,
    heads: 4,
    imageSize: 30,
    patchSize: 6,
    ...spec.vision,
  };
  const family = spec.family ?? 'llava';
  const siglip = v.kind === 'siglip';
  const S = v.imageSize;
  const anyres =
    family === 'llava'
      ? {}
      : {
          image_grid_pinpoints: spec.pinpoints ?? [
            [S, 2 * S],
            [2 * S, S],
            [2 * S, 2 * S],
          ],
          ...(family === 'llava_onevision'
            ? { vision_aspect_ratio: spec.visionAspectRatio ?? 'anyres_max_9' }
            : {}),
        };
  const t = {
    hidden: 32,
    intermediate: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    vocab: 128,
    ropeTheta: 10000,
    modelType: 'llama',
    ...spec.text,
  };
  const architecture = {
    llava: 'LlavaForConditionalGeneration',
    llava_next: 'LlavaNextForConditionalGeneration',
    llava_onevision: 'LlavaOnevisionForConditionalGeneration',
  }[family];
  return {
    model_type: family,
    architectures: [architecture],
    image_token_index: t.vocab - 1,
    pad_token_id: 0,
    projector_hidden_act: 'gelu',
    vision_feature_layer: spec.featureLayer ?? (family === 'llava_onevision' ? -1 : -2),
    vision_feature_select_strategy: spec.selectStrategy ?? (siglip ? 'full' : 'default'),
    image_seq_length: Math.floor(v.imageSize / v.patchSize) ** 2,
    ...anyres,
    vision_config: {
      model_type: siglip ? 'siglip_vision_model' : 'clip_vision_model',
      hidden_size: v.hidden,
      intermediate_size: v.intermediate,
      num_hidden_layers: v.layers,
      num_attention_heads: v.heads,
      image_size: v.imageSize,
      patch_size: v.patchSize,
      hidden_act: siglip ? 'gelu_pytorch_tanh' : 'quick_gelu',
      layer_norm_eps: siglip ? 1e-6 : 1e-5,
      ...(siglip ? {} : { projection_dim: v.hidden }),
    },
    text_config: {
      model_type: t.modelType,
      hidden_size: t.hidden,
      intermediate_size: t.intermediate,
      num_hidden_layers: t.layers,
      num_attention_heads: t.heads,
      num_key_value_heads: t.kvHeads,
      vocab_size: t.vocab,
      rms_norm_eps: 1e-6,
      rope_theta: t.ropeTheta,
      bos_token_id: 1,
      eos_token_id: 2,
      max_position_embeddings: 2048,
      tie_word_embeddings: false,
    },
  };
}

/** Deterministic N(0, 1) samples (mulberry32 + Box–Muller). */
function normalSource(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = (): number => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(Math.max(u(), 1e-12))) * Math.cos(2 * Math.PI * u());
}

/** The shape transformers gives weight `name` (canonical) under config `c`. */
export function weightShape(
  name: string,
  c: ReturnType<typeof parseLlavaConfig>,
  projectorHidden: number,
): number[] {
  const v = c.vision;
  const t = c.text;
  const vin = v.hidden;
  const featureDim = vin * c.featureLayers.length;
  const rules: [RegExp, number[]][] = [
    [/^vision\.embeddings\.class_embedding$/, [vin]],
    [/^vision\.embeddings\.patch_embedding\.weight$/, [vin, v.channels, v.patchSize, v.patchSize]],
    [/^vision\.embeddings\.patch_embedding\.bias$/, [vin]],
    [
      /^vision\.embeddings\.position_embedding\.weight$/,
      [v.patchesPerSide ** 2 + (v.kind === 'clip' ? 1 : 0), vin],
    ],
    [/^vision\.(pre_layrnorm|post_layernorm)\.(weight|bias)$/, [vin]],
    [/^vision\..*self_attn\.(q|k|v|out)_proj\.weight$/, [vin, vin]],
    [/^vision\..*self_attn\.(q|k|v|out)_proj\.bias$/, [vin]],
    [/layer_norm[12]\.(weight|bias)$/, [vin]],
    [/mlp\.fc1\.weight$/, [v.intermediate, vin]],
    [/mlp\.fc1\.bias$/, [v.intermediate]],
    [/mlp\.fc2\.weight$/, [vin, v.intermediate]],
    [/mlp\.fc2\.bias$/, [vin]],
    [/^projector\.linear_1\.weight$/, [projectorHidden, featureDim]],
    [/^projector\.linear_1\.bias$/, [projectorHidden]],
    [/^projector\.linear_2\.weight$/, [t.hidden, projectorHidden]],
    [/^projector\.linear_2\.bias$/, [t.hidden]],
    [/^lm\.embed_tokens\.weight$|^lm_head\.weight$/, [t.vocab, t.hidden]],
    [/^lm\..*q_proj\.weight$/, [t.heads * t.headDim, t.hidden]],
    [/^lm\..*(k|v)_proj\.weight$/, [t.kvHeads * t.headDim, t.hidden]],
    [/^lm\..*q_proj\.bias$/, [t.heads * t.headDim]],
    [/^lm\..*(k|v)_proj\.bias$/, [t.kvHeads * t.headDim]],
    [/^lm\..*o_proj\.weight$/, [t.hidden, t.heads * t.headDim]],
    [/(gate|up)_proj\.weight$/, [t.intermediate, t.hidden]],
    [/down_proj\.weight$/, [t.hidden, t.intermediate]],
    [/layernorm\.weight$|^lm\.norm\.weight$/, [t.hidden]],
    [/^image_newline$/, [t.hidden]],
  ];
  for (const [re, shape] of rules) if (re.test(name)) return shape;
  throw new Error(`random checkpoint: no shape rule for ${name}`);
}

/** Writes the checkpoint into `dir` and returns the config it wrote. */
export function writeTinyLlava(dir: string, spec: TinyLlavaSpec = {}): Record<string, unknown> {
  const raw = tinyLlavaConfig(spec);
  const c = parseLlavaConfig(raw);
  const normal = normalSource(spec.seed ?? 1234);
  const projectorHidden = c.text.hidden;
  const tensors: Record<string, TensorToWrite> = {};
  const names = new Set(requiredWeights({ ...c, featureLayers: [-1] }));
  names.add('vision.post_layernorm.weight');
  names.add('vision.post_layernorm.bias');
  for (const name of names) {
    const shape = weightShape(name, c, projectorHidden);
    const n = shape.reduce((p, d) => p * d, 1);
    const data = new Float32Array(n);
    const isNorm = /norm|layrnorm/.test(name);
    const isBias = name.endsWith('.bias');
    const isEmbedding = /class_embedding|position_embedding|embed_tokens|image_newline/.test(name);
    const fanIn = shape.slice(1).reduce((p, d) => p * d, 1);
    for (let i = 0; i < n; i++) {
      const z = normal();
      data[i] =
        isNorm && !isBias ? 1 + 0.1 * z : isBias ? 0.1 * z : isEmbedding ? 0.5 * z : z / Math.sqrt(fanIn);
    }
    const dtype = spec.dtype ?? 'F32';
    tensors[hfWeightName(name)] = {
      dtype,
      shape,
      data: dtype === 'F16' ? f32ToF16(data) : dtype === 'BF16' ? f32ToBf16(data) : data,
    };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(raw, null, 2));
  writeShards(dir, tensors, spec.shards ?? 1);
  if (c.family === 'llava_onevision')
    writeOnevisionPreprocessorConfig(dir, c.vision.imageSize, c.anyres!.pinpoints);
  else writePreprocessorConfig(dir, c.vision.imageSize);
  return raw;
}

/** One model.safetensors, or `shards` files named as transformers names them, with their index. */
export function writeShards(dir: string, tensors: Record<string, TensorToWrite>, shards: number): void {
  if (shards <= 1) {
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    return;
  }
  const names = Object.keys(tensors).sort();
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part: Record<string, TensorToWrite> = {};
    for (const n of names.filter((_, i) => i % shards === s)) {
      part[n] = tensors[n]!;
      weightMap[n] = file;
      total += tensors[n]!.data.byteLength;
    }
    writeSafetensors(path.join(dir, file), part, { format: 'pt' });
  }
  writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
  );
}

/** CLIP's image processor settings (resize, centre crop, normalize) for `size`-pixel images. */
export function writePreprocessorConfig(dir: string, size: number): void {
  writeFileSync(
    path.join(dir, 'preprocessor_config.json'),
    JSON.stringify(
      {
        image_processor_type: 'CLIPImageProcessor',
        do_resize: true,
        size: { shortest_edge: size },
        do_center_crop: true,
        crop_size: { height: size, width: size },
        do_rescale: true,
        rescale_factor: 1 / 255,
        do_normalize: true,
        image_mean: [0.48145466, 0.4578275, 0.40821073],
        image_std: [0.26862954, 0.26130258, 0.27577711],
        do_convert_rgb: true,
      },
      null,
      2,
    ),
  );
}

/** LlavaOnevisionImageProcessor's settings: SigLIP's mean and std, no centre crop, the anyres pinpoints. */
export function writeOnevisionPreprocessorConfig(
  dir: string,
  size: number,
  pinpoints: [number, number][],
): void {
  writeFileSync(
    path.join(dir, 'preprocessor_config.json'),
    JSON.stringify(
      {
        image_processor_type: 'LlavaOnevisionImageProcessor',
        processor_class: 'LlavaOnevisionProcessor',
        do_resize: true,
        size: { height: size, width: size },
        image_grid_pinpoints: pinpoints,
        resample: 3,
        do_rescale: true,
        rescale_factor: 1 / 255,
        do_normalize: true,
        image_mean: [0.5, 0.5, 0.5],
        image_std: [0.5, 0.5, 0.5],
        do_pad: true,
        do_convert_rgb: true,
      },
      null,
      2,
    ),
  );
}

/** The words of the generated tokenizers' vocabularies (after the specials); the rest are w<i>. */
const BASE_WORDS = (
  'yes no is a an the this that it in on of and with photo image picture there what who where color colour ' +
  'red green blue yellow black white dog cat mug toy person . , ? ! : USER ASSISTANT'
).split(' ');

/**
 * A word-level tokenizer of `vocab` ids: 0 <unk>, 1 <s>, 2 </s>, a few common words, then `words` (e.g. the
 * personalization templates' words) as far as vocab allows, and <image> as the last id.
 */
export function writeTinyTokenizer(dir: string, vocab: number, words: readonly string[] = []): void {
  const all = [...new Set([...BASE_WORDS, ...words])];
  for (let i = all.length + 3; i < vocab - 1; i++) all.push(`w${i}`);
  all.length = vocab - 4;
  writeWordLevelTokenizer(dir, all);
}
