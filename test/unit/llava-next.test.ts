// LLaVA-NeXT ("anyres"): the golden checkpoint made by transformers 4.45.1's LlavaNextForConditionalGeneration
// and its processor. The processor's tiles must equal Python's pixel for pixel, the token count of every
// image size must equal the processor's, and the packed features, logits, loss and gradients the model's.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { runGoldenCheck } from '../../server/src/engine/checks/golden-check';
import { SafetensorsFile } from '../../server/src/engine/io/safetensors';
import {
  anyresLayout,
  anyresShape,
  bestResolution,
  type HW,
} from '../../server/src/engine/models/llava/anyres';
import { parseLlavaConfig, ModelConfigError } from '../../server/src/engine/models/llava/config';
import {
  anyresPixels,
  decodeRgb,
  readImageProcessorConfig,
} from '../../server/src/engine/models/llava/image-processor';
import { inspectModel } from '../../server/src/engine/models/llava/inspect';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { ImageFeatureStore } from '../../server/src/engine/personalize/image-features';

const GOLDEN = path.join(__dirname, '..', 'fixtures', 'golden', 'llava-next-tiny-D');
const golden = JSON.parse(readFileSync(path.join(GOLDEN, 'golden.json'), 'utf8')) as {
  anyres_token_count_table: {
    image_hw: HW;
    best_resolution_hw: HW;
    num_crops_plus_base: number;
    processor_tokens: number;
    model_tokens: number;
  }[];
  image_processor_config: Record<string, unknown>;
};
const config = parseLlavaConfig(JSON.parse(readFileSync(path.join(GOLDEN, 'config.json'), 'utf8')));

describe('golden: llava-next-tiny-D against transformers 4.45.1', () => {
  for (const convention of ['expanded', 'legacy'] as const) {
    it(`matches tile features, packed features, logits, loss, gradients and greedy tokens (${convention})`, async () => {
      const r = await runGoldenCheck(GOLDEN, convention);
      for (const c of r.comparisons) assert.ok(c.ok, `${c.name}: max rel ${c.maxRel} > ${c.tolerance}`);
      assert.deepEqual(r.tokens.actual, r.tokens.expected);
      assert.deepEqual(
        r.comparisons.map((c) => c.name),
        [
          'vision_selected_features',
          'projected_patch_features',
          'image_features',
          'inputs_embeds',
          'logits',
          'loss',
          'grad_inputs_embeds',
          'grad_lm_head_weight_rows_120_125',
        ],
      );
    });
  }

  it("gives every image size of the processor's table its canvas, tile count and token count", () => {
    assert.equal(golden.anyres_token_count_table.length, 10);
    for (const row of golden.anyres_token_count_table) {
      const s = anyresShape(row.image_hw, config.vision.imageSize, config.vision.patchSize, config.anyres!);
      assert.deepEqual(bestResolution(row.image_hw, config.anyres!.pinpoints), row.best_resolution_hw);
      assert.equal(s.images, row.num_crops_plus_base, `${row.image_hw}`);
      assert.equal(s.tokens, row.processor_tokens, `${row.image_hw}`);
      assert.equal(s.tokens, row.model_tokens, `${row.image_hw}`);
    }
  });

  it("cuts the raw image into the processor's tiles, pixel for pixel (Pillow bicubic, the short canvas)", () => {
    const ref = SafetensorsFile.open(path.join(GOLDEN, 'golden.safetensors'));
    try {
      const raw = ref.readFloat32('raw_image_hwc');
      const layout = anyresLayout([18, 30], 12, config.anyres!);
      assert.deepEqual(layout.padded, [23, 24], 'transformers 4.45.1 pads (24 - 15) // 2 rows on both sides');
      const pc = golden.image_processor_config;
      const out = anyresPixels(
        { width: 30, height: 18, data: Uint8Array.from(raw) },
        {
          size: 12,
          crop: { height: 12, width: 12 },
          doResize: true,
          doCenterCrop: true,
          rescale: pc['rescale_factor'] as number,
          mean: pc['image_mean'] as [number, number, number],
          std: pc['image_std'] as [number, number, number],
        },
        config.anyres!,
      );
      assert.equal(out.images, 5);
      assert.deepEqual(out.imageSize, [18, 30]);
      assert.deepEqual(Array.from(out.pixels), Array.from(ref.readFloat32('pixel_values')));
    } finally {
      ref.close();
    }
  });

  it('decodes a photo file to the same 8-bit pixels it was written from (PNG, lossless)', async () => {
    const data = Uint8Array.from({ length: 18 * 30 * 3 }, (_, i) => (i * 37) % 256);
    const png = await sharp(data, { raw: { width: 30, height: 18, channels: 3 } })
      .png()
      .toBuffer();
    const img = await decodeRgb(png);
    assert.deepEqual([img.width, img.height], [30, 18]);
    assert.deepEqual(Array.from(img.data), Array.from(data));
    const cfg = readImageProcessorConfig(GOLDEN, 12);
    assert.equal(anyresPixels(img, cfg, config.anyres!).images, 5);
  });

  it('reads the architecture from config.json, and refuses what it cannot run by name', () => {
    assert.equal(config.family, 'llava_next');
    assert.deepEqual(config.anyres!.pinpoints, [
      [12, 24],
      [24, 12],
      [24, 24],
    ]);
    assert.match(inspectModel(GOLDEN).architecture, /^llava_next \(clip vision, llama text, anyres tiles\)/);
    const raw = JSON.parse(readFileSync(path.join(GOLDEN, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.throws(
      () => parseLlavaConfig({ ...raw, image_grid_pinpoints: [[12, 20]] }),
      (e: Error) => e instanceof ModelConfigError && /image_grid_pinpoints\[0\]: \[12,20\]/.test(e.message),
    );
    assert.throws(
      () => parseLlavaConfig({ ...raw, vision_feature_select_strategy: 'full' }),
      /vision_feature_select_strategy: "full"/,
    );
    assert.throws(
      () => parseLlavaConfig({ ...raw, model_type: 'llava_next_video' }),
      /model_type: "llava_next_video" is not supported \(supported: llava, llava_next, llava_onevision\)/,
    );
  });

  it("the product's photo path (file, tiles, tower, packing) gives transformers' image features", async () => {
    // The golden's folder with its processor config beside it, and its raw image as a photo file.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'yollava-next-store-'));
    cpSync(GOLDEN, dir, { recursive: true });
    writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify(golden.image_processor_config));
    const ref = SafetensorsFile.open(path.join(GOLDEN, 'golden.safetensors'));
    const model = LlavaModel.load(dir);
    try {
      const photo = path.join(dir, 'photo.png');
      await sharp(Uint8Array.from(ref.readFloat32('raw_image_hwc')), {
        raw: { width: 30, height: 18, channels: 3 },
      })
        .png()
        .toFile(photo);
      const [features] = await new ImageFeatureStore(model, null).projected([photo]);
      const want = ref.readFloat32('image_features');
      assert.equal(features!.length, want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++)
        worst = Math.max(worst, Math.abs(features![i]! - want[i]!) / Math.max(1e-3, Math.abs(want[i]!)));
      assert.ok(worst < 1e-4, `max rel ${worst}`);
    } finally {
      ref.close();
      await model.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
