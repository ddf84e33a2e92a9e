// Synthetic checkpoints with the exact tensor shapes of models people use, written at bench time: random
// BF16 values, sharded as the hub shards them, with model.safetensors.index.json. Nothing here is a real
// model's weights, and nothing is committed: the folder lives under .cache/ and is rebuilt when missing.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { f32ToBf16, safetensorsHeader } from '../server/src/engine/io/safetensors';
import { parseLlavaConfig } from '../server/src/engine/models/llava/config';
import { hfWeightName, weightShape } from '../server/src/engine/models/llava/random-checkpoint';
import { requiredWeights } from '../server/src/engine/models/llava/weights';

export type RealShape = 'llava-1.5-7b' | 'interleave-0.5b';
export const REAL_SHAPES: RealShape[] = ['llava-1.5-7b', 'interleave-0.5b'];

/** config.json of each shape, as the llava-hf checkpoints give it (sizes only; no weights are real). */
export function realShapeConfig(shape: RealShape): Record<string, unknown> {
  if (shape === 'llava-1.5-7b')
    return {
      model_type: 'llava',
      architectures: ['LlavaForConditionalGeneration'],
      image_token_index: 32000,
      pad_token_id: 32001,
      projector_hidden_act: 'gelu',
      vision_feature_layer: -2,
      vision_feature_select_strategy: 'default',
      image_seq_length: 576,
      vision_config: {
        model_type: 'clip_vision_model',
        hidden_size: 1024,
        intermediate_size: 4096,
        num_hidden_layers: 24,
        num_attention_heads: 16,
        image_size: 336,
        patch_size: 14,
        projection_dim: 768,
        hidden_act: 'quick_gelu',
        layer_norm_eps: 1e-5,
      },
      text_config: {
        model_type: 'llama',
        hidden_size: 4096,
        intermediate_size: 11008,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 32,
        vocab_size: 32064,
        max_position_embeddings: 4096,
        rms_norm_eps: 1e-5,
        rope_theta: 10000,
        bos_token_id: 1,
        eos_token_id: 2,
        tie_word_embeddings: false,
      },
      torch_dtype: 'bfloat16',
    };
  return {
    model_type: 'llava',
    architectures: ['LlavaForConditionalGeneration'],
    image_token_index: 151646,
    projector_hidden_act: 'gelu',
    vision_feature_layer: -1,
    vision_feature_select_strategy: 'full',
    image_seq_length: 729,
    vision_config: {
      model_type: 'siglip_vision_model',
      hidden_size: 1152,
      intermediate_size: 4304,
      num_hidden_layers: 26,
      num_attention_heads: 16,
      image_size: 384,
      patch_size: 14,
      hidden_act: 'gelu_pytorch_tanh',
      layer_norm_eps: 1e-6,
    },
    text_config: {
      model_type: 'qwen2',
      hidden_size: 896,
      intermediate_size: 4864,
      num_hidden_layers: 24,
      num_attention_heads: 14,
      num_key_value_heads: 2,
      vocab_size: 152000,
      max_position_embeddings: 32768,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      bos_token_id: 151643,
      eos_token_id: 151645,
      tie_word_embeddings: true,
    },
    torch_dtype: 'bfloat16',
  };
}

/** xorshift32 → uniform(-1, 1): fast enough to fill billions of values at bench time. */
function uniformSource(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2147483648 - 1;
  };
}

const SHARD_BYTES = 2 * 2 ** 30;

/**
 * Writes the checkpoint into `dir` unless a complete one is there, and returns its total tensor bytes.
 * Values: uniform with the spread transformers-style initialisation gives each kind of tensor.
 */
export function ensureRealSizeCheckpoint(
  dir: string,
  shape: RealShape,
  log: (s: string) => void = () => {},
): { bytes: number; wrote: boolean } {
  const marker = path.join(dir, 'complete.json');
  if (existsSync(marker))
    return { ...(JSON.parse(readFileSync(marker, 'utf8')) as { bytes: number }), wrote: false };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const raw = realShapeConfig(shape);
  const c = parseLlavaConfig(raw);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(raw, null, 2));
  // Every tensor the hub's checkpoint holds: all vision layers, post_layernorm, no tied lm_head.
  const names = new Set(requiredWeights({ ...c, featureLayers: [-1] }));
  names.add('vision.post_layernorm.weight');
  names.add('vision.post_layernorm.bias');
  if (c.text.tieEmbeddings) names.delete('lm_head.weight');
  const tensors = [...names].map((name) => ({
    name,
    hf: hfWeightName(name),
    shape: weightShape(name, c, c.text.hidden),
  }));
  tensors.sort((a, b) => (a.hf < b.hf ? -1 : 1));
  const shards: (typeof tensors)[] = [[]];
  let inShard = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((p, d) => p * d, 1) * 2;
    if (inShard > 0 && inShard + bytes > SHARD_BYTES) {
      shards.push([]);
      inShard = 0;
    }
    shards[shards.length - 1]!.push(t);
    inShard += bytes;
  }
  const weightMap: Record<string, string> = {};
  let total = 0;
  const uniform = uniformSource(1234);
  const CHUNK = 1 << 20;
  const buf = new Float32Array(CHUNK);
  shards.forEach((list, s) => {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const header = safetensorsHeader(
      Object.fromEntries(list.map((t) => [t.hf, { dtype: 'BF16' as const, shape: t.shape }])),
      { format: 'pt' },
    );
    const fd = openSync(path.join(dir, file), 'w');
    try {
      writeSync(fd, header.bytes);
      for (const t of list) {
        weightMap[t.hf] = file;
        const n = t.shape.reduce((p, d) => p * d, 1);
        const isNorm = /norm|layrnorm/.test(t.name) && !t.name.endsWith('.bias');
        const isBias = t.name.endsWith('.bias');
        const isEmbedding = /class_embedding|position_embedding|embed_tokens/.test(t.name);
        const fanIn = t.shape.slice(1).reduce((p, d) => p * d, 1);
        // Uniform(-a, a) has standard deviation a/√3.
        const a = Math.sqrt(3) * (isNorm ? 0.1 : isBias ? 0.02 : isEmbedding ? 0.02 : 1 / Math.sqrt(fanIn));
        for (let o = 0; o < n; o += CHUNK) {
          const m = Math.min(CHUNK, n - o);
          for (let i = 0; i < m; i++) buf[i] = (isNorm ? 1 : 0) + a * uniform();
          const half = f32ToBf16(buf.subarray(0, m));
          writeSync(fd, new Uint8Array(half.buffer, half.byteOffset, half.byteLength));
        }
        total += n * 2;
      }
    } finally {
      closeSync(fd);
    }
    log(`  wrote ${file} (${list.length} tensors)`);
  });
  writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
  );
  writeFileSync(marker, JSON.stringify({ bytes: total }));
  return { bytes: total, wrote: true };
}
