// The vision tower (CLIP or SigLIP encoder) and the multimodal projector, as one graph:
// pixel_values [B, C, H, W] → image features [B, N, text hidden] and a pooled retrieval embedding.
import {
  concat,
  gelu,
  geluTanh,
  layerNorm,
  linear,
  quickGelu,
  silu,
  attention,
  splitHeads,
  mergeHeads,
  type Tensor,
} from '../../graph/index';
import type { LlavaConfig } from './config';
import type { WeightInputs } from './weight-inputs';
import { visionLayersUsed } from './weights';

function activation(name: string, x: Tensor): Tensor {
  switch (name) {
    case 'quick_gelu':
      return quickGelu(x);
    case 'gelu':
      return gelu(x);
    case 'gelu_pytorch_tanh':
      return geluTanh(x);
    case 'silu':
      return silu(x);
    default:
      throw new Error(`activation "${name}" is not supported`);
  }
}

export interface VisionOutputs {
  /** Hidden states selected by vision_feature_layer (and select strategy): the projector's input. */
  selected: Tensor;
  /** Projector output: the rows that replace image tokens. */
  features: Tensor;
  /**
   * Retrieval embedding: the mean of the selected hidden states over tokens, L2-normalized. These are the
   * features the language model itself sees (before projection), they cost nothing extra, and they exist
   * for SigLIP towers too, which have no CLS token.
   */
  pooled: Tensor;
}

export function visionTower(pixels: Tensor, c: LlavaConfig, w: WeightInputs): VisionOutputs {
  const v = c.vision;
  const [B] = pixels.shape;
  const grid = v.patchesPerSide;
  const p = v.patchSize;
  // Patch embedding: a stride-p, kernel-p convolution is a MatMul over non-overlapping patches. Pixels past
  // the last whole patch are never seen by the unpadded convolution.
  const seen = grid * p < v.imageSize ? pixels.slice(2, 0, grid * p).slice(3, 0, grid * p) : pixels;
  const patches = seen
    .reshape([B!, v.channels, grid, p, grid, p])
    .transpose([0, 2, 4, 1, 3, 5])
    .reshape([B!, grid * grid, v.channels * p * p]);
  let x = linear(
    patches,
    w.get('vision.embeddings.patch_embedding.weight', [v.hidden, v.channels * p * p]),
    v.kind === 'siglip' ? w.get('vision.embeddings.patch_embedding.bias') : undefined,
  );
  if (v.kind === 'clip') {
    const cls = w.get('vision.embeddings.class_embedding', [1, 1, v.hidden]).expand([B!, 1, v.hidden]);
    x = concat([cls, x], 1);
  }
  x = x.add(w.get('vision.embeddings.position_embedding.weight'));
  if (v.kind === 'clip')
    x = layerNorm(x, w.get('vision.pre_layrnorm.weight'), w.get('vision.pre_layrnorm.bias'), v.layerNormEps);

  const hidden: Tensor[] = [x];
  const hd = v.hidden / v.heads;
  for (let l = 0; l < visionLayersUsed(c); l++) {
    w.anchor(x);
    const P = `vision.encoder.layers.${l}.`;
    const lin = (m: string, t: Tensor): Tensor => linear(t, w.get(`${P}${m}.weight`), w.get(`${P}${m}.bias`));
    const n1 = layerNorm(x, w.get(`${P}layer_norm1.weight`), w.get(`${P}layer_norm1.bias`), v.layerNormEps);
    const q = splitHeads(lin('self_attn.q_proj', n1), v.heads, hd);
    const k = splitHeads(lin('self_attn.k_proj', n1), v.heads, hd);
    const val = splitHeads(lin('self_attn.v_proj', n1), v.heads, hd);
    x = x.add(lin('self_attn.out_proj', mergeHeads(attention({ q, k, v: val }))));
    const n2 = layerNorm(x, w.get(`${P}layer_norm2.weight`), w.get(`${P}layer_norm2.bias`), v.layerNormEps);
    x = x.add(lin('mlp.fc2', activation(v.act, lin('mlp.fc1', n2))));
    hidden.push(x);
  }
  const total = v.layers + 1;
  const chosen = c.featureLayers.map((l) => hidden[l < 0 ? total + l : l]!);
  let selected = concat(chosen, -1);
  w.anchor(selected);
  if (c.selectStrategy === 'default') selected = selected.slice(1, 1);
  const h1 = linear(selected, w.get('projector.linear_1.weight'), w.get('projector.linear_1.bias'));
  const features = linear(
    activation(c.projectorAct, h1),
    w.get('projector.linear_2.weight'),
    w.get('projector.linear_2.bias'),
  );
  const mean = selected.mean(1);
  const pooled = mean.mul(mean.mul(mean).sum(-1, true).add(1e-12).sqrt().reciprocal());
  return { selected, features, pooled };
}
