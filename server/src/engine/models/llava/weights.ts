// Loads a LLaVA checkpoint's tensors under canonical names, whichever naming the checkpoint uses
// (transformers < 4.52: "language_model.model.*", ≥ 4.52: "model.language_model.*"). Large 16-bit tensors
// stay 16-bit in memory (see residentDtype); graphs cast them to float32 where they are used.
import { bf16ToF16, SafetensorsCheckpoint, type TensorInfo } from '../../io/safetensors';
import type { HostTensor } from '../../runtime/host-tensor';
import { ModelConfigError, type LlavaConfig } from './config';

/** Canonical prefix → the prefixes checkpoints use for it, most common first. */
const PREFIXES: [string, string[]][] = [
  ['vision.', ['vision_tower.vision_model.', 'model.vision_tower.vision_model.']],
  ['projector.', ['multi_modal_projector.', 'model.multi_modal_projector.']],
  ['lm.', ['language_model.model.', 'model.language_model.']],
  ['lm_head.', ['language_model.lm_head.', 'lm_head.']],
  // LLaVA-NeXT's learned separator after each row of tile features ([hidden_text]).
  ['image_newline', ['image_newline', 'model.image_newline']],
];

export type WeightMap = Map<string, HostTensor>;

export function canonicalName(hfName: string): string | null {
  for (const [canon, prefixes] of PREFIXES) {
    for (const p of prefixes) {
      const whole = !canon.endsWith('.');
      if (whole ? hfName === p : hfName.startsWith(p)) return canon + hfName.slice(p.length);
    }
  }
  return null;
}

/**
 * Below this many elements a 16-bit tensor is widened to float32 on load: norms, biases and small models
 * cost nothing extra that way, and their graphs need no Cast.
 */
export const KEEP_16_BIT_FROM = 1 << 20;

/**
 * How a stored tensor is held in memory. F16 stays float16. BF16 becomes float16 (onnxruntime-node takes no
 * bfloat16 inputs): exact for values in float16's normal range, and a tensor with a value beyond ±65504
 * is widened to float32 instead. Everything else, and every tensor under KEEP_16_BIT_FROM elements, is
 * float32.
 */
export function residentDtype(info: TensorInfo): 'float16' | 'float32' {
  const n = info.shape.reduce((p, d) => p * d, 1);
  return (info.dtype === 'F16' || info.dtype === 'BF16') && n >= KEEP_16_BIT_FROM ? 'float16' : 'float32';
}

/** Reads every tensor the config needs, in its resident dtype. Missing tensors are reported together. */
export function loadLlavaWeights(
  dir: string,
  config: LlavaConfig,
  onProgress?: (done: number, total: number) => void,
): WeightMap {
  const ck = SafetensorsCheckpoint.open(dir);
  try {
    const byCanon = new Map<string, string>();
    for (const n of ck.names()) {
      const c = canonicalName(n);
      if (c) byCanon.set(c, n);
    }
    const needed = requiredWeights(config);
    const missing = needed.filter(
      (n) => !byCanon.has(n) && !(n === 'lm_head.weight' && config.text.tieEmbeddings),
    );
    if (missing.length) {
      throw new ModelConfigError(
        dir,
        '',
        `the checkpoint lacks ${missing.length} tensor(s) the config needs: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      );
    }
    const out: WeightMap = new Map();
    const bytes = (name: string): number => {
      const i = ck.info(byCanon.get(name) ?? byCanon.get('lm.embed_tokens.weight')!);
      return i.end - i.begin;
    };
    const total = needed.reduce((sum, n) => sum + bytes(n), 0);
    let done = 0;
    for (const name of needed) {
      const hf = byCanon.get(name) ?? byCanon.get('lm.embed_tokens.weight')!;
      out.set(name, readResident(ck, hf));
      done += bytes(name);
      onProgress?.(done, total);
    }
    checkShapes(out, config, dir);
    return out;
  } finally {
    ck.close();
  }
}

function readResident(ck: SafetensorsCheckpoint, name: string): HostTensor {
  const info = ck.info(name);
  const shape = [...info.shape];
  if (residentDtype(info) === 'float16') {
    const raw = ck.read(name).data as Uint16Array;
    const half = info.dtype === 'F16' ? raw : bf16ToF16(raw);
    if (half) return { dtype: 'float16', shape, data: half };
  }
  return { dtype: 'float32', shape, data: ck.readFloat32(name) };
}

export function requiredWeights(c: LlavaConfig): string[] {
  const v = c.vision;
  const names: string[] = [];
  if (v.kind === 'clip')
    names.push('vision.embeddings.class_embedding', 'vision.pre_layrnorm.weight', 'vision.pre_layrnorm.bias');
  names.push('vision.embeddings.patch_embedding.weight', 'vision.embeddings.position_embedding.weight');
  if (v.kind === 'siglip') names.push('vision.embeddings.patch_embedding.bias');
  for (let l = 0; l < visionLayersUsed(c); l++) {
    const p = `vision.encoder.layers.${l}.`;
    for (const m of [
      'self_attn.q_proj',
      'self_attn.k_proj',
      'self_attn.v_proj',
      'self_attn.out_proj',
      'mlp.fc1',
      'mlp.fc2',
      'layer_norm1',
      'layer_norm2',
    ]) {
      names.push(`${p}${m}.weight`, `${p}${m}.bias`);
    }
  }
  names.push(
    'projector.linear_1.weight',
    'projector.linear_1.bias',
    'projector.linear_2.weight',
    'projector.linear_2.bias',
  );
  if (c.anyres) names.push('image_newline');
  names.push('lm.embed_tokens.weight', 'lm.norm.weight', 'lm_head.weight');
  for (let l = 0; l < c.text.layers; l++) {
    const p = `lm.layers.${l}.`;
    for (const m of [
      'self_attn.q_proj',
      'self_attn.k_proj',
      'self_attn.v_proj',
      'self_attn.o_proj',
      'mlp.gate_proj',
      'mlp.up_proj',
      'mlp.down_proj',
    ]) {
      names.push(`${p}${m}.weight`);
    }
    if (c.text.qkvBias) for (const m of ['q_proj', 'k_proj', 'v_proj']) names.push(`${p}self_attn.${m}.bias`);
    names.push(`${p}input_layernorm.weight`, `${p}post_attention_layernorm.weight`);
  }
  return names;
}

/** The vision layers whose output some selected hidden state depends on. */
export function visionLayersUsed(c: LlavaConfig): number {
  const total = c.vision.layers + 1;
  return Math.max(...c.featureLayers.map((l) => (l < 0 ? total + l : l)));
}

function checkShapes(w: WeightMap, c: LlavaConfig, dir: string): void {
  const expect = (name: string, shape: number[]): void => {
    const t = w.get(name)!;
    if (t.shape.join() !== shape.join()) {
      throw new ModelConfigError(
        dir,
        name,
        `has shape [${t.shape.join(', ')}], the config implies [${shape.join(', ')}]`,
      );
    }
  };
  const v = c.vision;
  const t = c.text;
  expect('vision.embeddings.patch_embedding.weight', [v.hidden, v.channels, v.patchSize, v.patchSize]);
  expect('vision.embeddings.position_embedding.weight', [
    v.patchesPerSide ** 2 + (v.kind === 'clip' ? 1 : 0),
    v.hidden,
  ]);
  expect('lm.embed_tokens.weight', [t.vocab, t.hidden]);
  expect('lm_head.weight', [t.vocab, t.hidden]);
  if (t.layers > 0) {
    expect('lm.layers.0.self_attn.q_proj.weight', [t.heads * t.headDim, t.hidden]);
    expect('lm.layers.0.self_attn.k_proj.weight', [t.kvHeads * t.headDim, t.hidden]);
  }
  if (c.anyres) expect('image_newline', [t.hidden]);
  expect('projector.linear_2.weight', [t.hidden, w.get('projector.linear_1.weight')!.shape[0]!]);
}
