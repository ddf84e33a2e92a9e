// A summary of a model folder: architecture, parameter count and a memory estimate, read from the config
// and safetensors headers only (no weights are loaded).
import { SafetensorsCheckpoint } from '../../io/safetensors';
import { readLlavaConfig } from './config';
import { canonicalName, requiredWeights, residentDtype } from './weights';

export interface ModelSummary {
  dir: string;
  architecture: string;
  vision: string;
  text: string;
  imageTokens: number;
  parameters: number;
  storedBytes: number;
  /** The weights as held in memory: large F16/BF16 tensors at 2 bytes, everything else at 4 (weights.ts). */
  weightBytes: number;
  /**
   * Peak for a chat turn: the weights, the float32 copy of the largest weight while a graph casts it, a
   * KV cache of 2,048 tokens and the activations of a 2,048-token prompt.
   */
  estimatedInferenceBytes: number;
}

export function inspectModel(dir: string): ModelSummary {
  const c = readLlavaConfig(dir);
  const ck = SafetensorsCheckpoint.open(dir);
  try {
    const needed = new Set(requiredWeights(c));
    let parameters = 0;
    let stored = 0;
    let resident = 0;
    let largest = 0;
    for (const n of ck.names()) {
      const canon = canonicalName(n);
      const info = ck.info(n);
      stored += info.end - info.begin;
      if (!canon || !needed.has(canon)) continue;
      const count = info.shape.reduce((p, d) => p * d, 1);
      parameters += count;
      const half = residentDtype(info) === 'float16';
      resident += count * (half ? 2 : 4);
      if (half) largest = Math.max(largest, count * 4);
    }
    const t = c.text;
    const v = c.vision;
    const kv = 2 * t.layers * t.kvHeads * t.headDim * 2048 * 4;
    const act = 2048 * (t.hidden * 8 + t.intermediate * 3) * 4;
    return {
      dir,
      architecture: `${c.family} (${v.kind} vision, ${t.kind} text${c.anyres ? ', anyres tiles' : ''})`,
      vision: `${v.layers} layers, hidden ${v.hidden}, ${v.heads} heads, ${v.imageSize}px images in ${v.patchSize}px patches`,
      text: `${t.layers} layers, hidden ${t.hidden}, ${t.heads} heads (${t.kvHeads} kv), MLP ${t.intermediate}, vocab ${t.vocab}`,
      imageTokens: c.imageTokens,
      parameters,
      storedBytes: stored,
      weightBytes: resident,
      estimatedInferenceBytes: resident + largest + kv + act,
    };
  } finally {
    ck.close();
  }
}
