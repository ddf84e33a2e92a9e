// A summary of a model folder: architecture, parameter count and a memory estimate, read from the config
// and safetensors headers only (no weights are loaded).
import { SafetensorsCheckpoint } from '../../io/safetensors';
import { readLlavaConfig } from './config';
import { canonicalName, requiredWeights } from './weights';

export interface ModelSummary {
  dir: string;
  architecture: string;
  vision: string;
  text: string;
  imageTokens: number;
  parameters: number;
  storedBytes: number;
  /** float32 weights in memory (the CPU engine computes in float32). */
  weightBytesF32: number;
  /** Rough peak for inference: weights plus one KV cache of 2048 tokens plus activations. */
  estimatedInferenceBytes: number;
}

export function inspectModel(dir: string): ModelSummary {
  const c = readLlavaConfig(dir);
  const ck = SafetensorsCheckpoint.open(dir);
  try {
    const needed = new Set(requiredWeights(c));
    let parameters = 0;
    let stored = 0;
    for (const n of ck.names()) {
      const canon = canonicalName(n);
      const info = ck.info(n);
      stored += info.end - info.begin;
      if (canon && needed.has(canon)) parameters += info.shape.reduce((p, d) => p * d, 1);
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
      weightBytesF32: parameters * 4,
      estimatedInferenceBytes: parameters * 4 + kv + act,
    };
  } finally {
    ck.close();
  }
}
