// Compares our LLaVA implementation with what Hugging Face transformers computed on a golden checkpoint
// folder (config.json, model.safetensors, golden.json, golden.safetensors): image features, merged
// embeddings, logits, loss, gradients and greedy tokens.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SafetensorsFile } from '../io/safetensors';
import { generateTokens } from '../generate/generate';
import { labelTargets, expandImageTokens } from '../models/llava/embeddings';
import { LlavaModel, type LoadOptions } from '../models/llava/model';

export interface Comparison {
  name: string;
  maxAbs: number;
  /** max |ours − reference| / max |reference| */
  maxRel: number;
  tolerance: number;
  ok: boolean;
}

export interface GoldenReport {
  convention: 'expanded' | 'legacy';
  comparisons: Comparison[];
  tokens: { expected: number[]; actual: number[]; ok: boolean };
  ok: boolean;
}

export const FORWARD_TOLERANCE = 1e-4;
export const GRADIENT_TOLERANCE = 1e-3;

function compare(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
): Comparison {
  if (actual.length !== expected.length)
    return { name, maxAbs: Infinity, maxRel: Infinity, tolerance, ok: false };
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  const maxRel = scale === 0 ? maxAbs : maxAbs / scale;
  return { name, maxAbs, maxRel, tolerance, ok: maxRel <= tolerance };
}

interface GoldenJson {
  input_ids: number[];
  input_ids_legacy_single_image_token: number[];
  labels: number[];
  labels_legacy: number[];
  generation: { new_token_ids: number[] };
  /** LLaVA-NeXT: each image's (height, width) before processing. */
  image_sizes?: number[][];
}

export async function runGoldenCheck(
  dir: string,
  convention: 'expanded' | 'legacy' = 'expanded',
  opts: LoadOptions = {},
): Promise<GoldenReport> {
  const golden = JSON.parse(readFileSync(path.join(dir, 'golden.json'), 'utf8')) as GoldenJson;
  const ref = SafetensorsFile.open(path.join(dir, 'golden.safetensors'));
  const model = LlavaModel.load(dir, opts);
  try {
    const c = model.config;
    const D = model.hidden;
    const comparisons: Comparison[] = [];
    const pixels = ref.read('pixel_values');
    // LLaVA-NeXT's pixel_values are [batch, base + tiles, C, H, W]: the vision tower sees the tiles as images.
    const imageShape = pixels.shape.slice(-4);
    if (c.anyres) imageShape[0] = pixels.shape[0]! * pixels.shape[1]!;
    const vision = await model.encodeImages({
      dtype: 'float32',
      shape: imageShape,
      data: ref.readFloat32('pixel_values'),
    });
    comparisons.push(
      compare(
        'vision_selected_features',
        vision.selected.data as Float32Array,
        ref.readFloat32('vision_selected_features'),
        FORWARD_TOLERANCE,
      ),
    );
    let imageFeatures = vision.features.data as Float32Array;
    if (c.anyres) {
      comparisons.push(
        compare(
          'projected_patch_features',
          imageFeatures,
          ref.readFloat32('projected_patch_features'),
          FORWARD_TOLERANCE,
        ),
      );
      const [h, w] = golden.image_sizes![0]!;
      imageFeatures = model.packAnyres(imageFeatures, [h!, w!]);
    }
    comparisons.push(
      compare('image_features', imageFeatures, ref.readFloat32('image_features'), FORWARD_TOLERANCE),
    );
    const imageTokens = imageFeatures.length / D;

    let ids = golden.input_ids;
    let labels = golden.labels;
    if (convention === 'legacy') {
      ids = expandImageTokens(golden.input_ids_legacy_single_image_token, c.imageTokenIndex, imageTokens);
      labels = golden.input_ids_legacy_single_image_token.flatMap((id, i) =>
        id === c.imageTokenIndex ? new Array<number>(imageTokens).fill(-100) : [golden.labels_legacy[i]!],
      );
    }
    const T = ids.length;
    const embeds = model.embed(ids, [imageFeatures]);
    comparisons.push(compare('inputs_embeds', embeds, ref.readFloat32('inputs_embeds'), FORWARD_TOLERANCE));

    const logits = await model.logits(
      embeds,
      1,
      T,
      Array.from({ length: T }, (_, i) => i),
    );
    comparisons.push(compare('logits', logits, ref.readFloat32('logits'), FORWARD_TOLERANCE));

    const targets = labelTargets(labels);
    const train = await model.trainStep(
      {
        embeds,
        batch: 1,
        seq: T,
        labelPositions: targets.positions,
        labelIds: targets.ids,
        extraHead: new Float32Array(0),
      },
      { lmHeadGradient: true },
    );
    comparisons.push(compare('loss', [train.loss], ref.readFloat32('loss'), FORWARD_TOLERANCE));
    comparisons.push(
      compare(
        'grad_inputs_embeds',
        train.gradEmbeds,
        ref.readFloat32('grad_inputs_embeds'),
        GRADIENT_TOLERANCE,
      ),
    );
    const rows = train.gradLmHead!.subarray(120 * D, 126 * D);
    comparisons.push(
      compare(
        'grad_lm_head_weight_rows_120_125',
        rows,
        ref.readFloat32('grad_lm_head_weight_rows_120_125'),
        GRADIENT_TOLERANCE,
      ),
    );

    const expected = golden.generation.new_token_ids;
    const actual: number[] = [];
    for await (const id of generateTokens(model, embeds, {
      maxNewTokens: expected.length,
      eosTokenIds: c.text.eosTokenIds,
    }))
      actual.push(id);
    const tokensOk = actual.join() === expected.join();
    return {
      convention,
      comparisons,
      tokens: { expected, actual, ok: tokensOk },
      ok: tokensOk && comparisons.every((x) => x.ok),
    };
  } finally {
    ref.close();
    await model.release();
  }
}
