// The embedded default model's architecture and its fresh initialization. A CLIP-like ViT on 64-pixel
// images with 16-pixel patches gives 16 image tokens: as many as a concept's 16 learned tokens, so that
// "<bo> is <token0>…<token15>." and "<zib> is <image>." fill the prompt the same way.
import type { LlavaConfig } from '../models/llava/config';
import { tinyLlavaConfig, weightShape } from '../models/llava/random-checkpoint';
import { requiredWeights, type WeightMap } from '../models/llava/weights';
import { Rng } from '../util/rng';

export interface DefaultModelSpec {
  vision: {
    hidden: number;
    intermediate: number;
    layers: number;
    heads: number;
    imageSize: number;
    patchSize: number;
  };
  text: { hidden: number; intermediate: number; layers: number; heads: number; kvHeads: number };
}

export const DEFAULT_MODEL_SPEC: DefaultModelSpec = {
  vision: { hidden: 192, intermediate: 768, layers: 4, heads: 4, imageSize: 64, patchSize: 16 },
  text: { hidden: 256, intermediate: 688, layers: 5, heads: 4, kvHeads: 4 },
};

/** config.json for the spec and a vocabulary of `vocab` ids (<image> last). */
export function defaultModelConfig(spec: DefaultModelSpec, vocab: number): Record<string, unknown> {
  const raw = tinyLlavaConfig({
    vision: spec.vision,
    text: { ...spec.text, vocab, ropeTheta: 10000, modelType: 'llama' },
    featureLayer: -1,
    selectStrategy: 'default',
  });
  raw['_name_or_path'] = 'yollava/toy-llava';
  return raw;
}

/**
 * GPT-style initialization: N(0, 0.02) for matrices and embeddings, residual output projections scaled by
 * 1/√(2·layers), norms at 1, biases at 0.
 */
export function initialWeights(config: LlavaConfig, seed: number): WeightMap {
  const rng = new Rng(seed);
  const out: WeightMap = new Map();
  const residual = /(o_proj|down_proj|out_proj|fc2)\.weight$/;
  for (const name of requiredWeights(config)) {
    const shape = weightShape(name, config, config.text.hidden);
    const n = shape.reduce((p, d) => p * d, 1);
    const data = new Float32Array(n);
    const isNorm = /norm|layrnorm/.test(name) && name.endsWith('.weight');
    const isBias = name.endsWith('.bias');
    const layers = name.startsWith('vision.') ? config.vision.layers : config.text.layers;
    const std = residual.test(name) ? 0.02 / Math.sqrt(2 * layers) : 0.02;
    for (let i = 0; i < n; i++) data[i] = isNorm ? 1 : isBias ? 0 : std * rng.normal();
    if (name === 'vision.embeddings.patch_embedding.weight') seedColourFilters(data, shape);
    out.set(name, { dtype: 'float32', shape, data });
  }
  return out;
}

/**
 * The first rows of the patch embedding start as local colour averages: each reads one channel over one
 * quarter-by-quarter block of the patch. A ViT from scratch otherwise learns slowly from few images
 * (measured: linear probes on its features barely improved in 300 steps of 16 photos); with colour and
 * coarse layout available from step 0, the rest of the tower and the language model have something to
 * read. They are only a starting point: every row trains.
 */
function seedColourFilters(data: Float32Array, shape: number[]): void {
  const [hidden, channels, p] = shape as [number, number, number, number];
  const blocks = 4;
  const cell = p / blocks;
  let row = 0;
  for (let c = 0; c < channels && row < hidden; c++)
    for (let by = 0; by < blocks && row < hidden; by++)
      for (let bx = 0; bx < blocks && row < hidden; bx++, row++) {
        const base = row * channels * p * p;
        data.fill(0, base, base + channels * p * p);
        for (let y = by * cell; y < (by + 1) * cell; y++)
          for (let x = bx * cell; x < (bx + 1) * cell; x++)
            data[base + (c * p + y) * p + x] = 0.5 / (cell * cell);
      }
}

/**
 * Weight decay applies to the language model's matrices only: not to norms, biases or embeddings, and not
 * to the vision tower or projector, whose weights decay helps drive to zero while the language model
 * cannot use them yet (then the image path is dead and stays dead).
 */
export function decays(name: string): boolean {
  if (!(name.startsWith('lm.') || name.startsWith('lm_head'))) return false;
  return !(/norm/.test(name) || name.endsWith('.bias') || /embed/.test(name));
}

// Where the model lives on disk is the models room's business (models/default-model-dir.ts).
export { DEFAULT_MODEL_RELATIVE, defaultModelDir } from '../models/default-model-dir';
