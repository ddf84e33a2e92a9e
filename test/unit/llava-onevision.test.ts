// LLaVA-OneVision (SigLIP + Qwen2, anyres_max_9). No golden of it is shared, so each part is checked against
// a reference written here in the form transformers states it, independent of the engine's code path:
// the processor's token-count arithmetic, the model's pack_image_features as tensor steps (view, permute,
// unpad, interpolate, newline column), PyTorch's bilinear interpolation on values it is known to give,
// and a tiny random checkpoint run end to end.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  anyresLayout,
  anyresShape,
  bestResolution,
  bilinearResize,
  imageTokenCount,
  packAnyresFeatures,
  type HW,
} from '../../server/src/engine/models/llava/anyres';
import { loadChatTemplate } from '../../server/src/engine/models/llava/chat-template';
import {
  ModelConfigError,
  parseLlavaConfig,
  type AnyresConfig,
} from '../../server/src/engine/models/llava/config';
import {
  anyresPixels,
  clipPixels,
  decodeRgb,
  readImageProcessorConfig,
} from '../../server/src/engine/models/llava/image-processor';
import { inspectModel } from '../../server/src/engine/models/llava/inspect';
import { LlavaModel } from '../../server/src/engine/models/llava/model';
import { cropRgb, padRgb, resizeBicubic } from '../../server/src/engine/models/llava/pil-resize';
import { writeTinyLlava } from '../../server/src/engine/models/llava/random-checkpoint';
import { ImageFeatureStore } from '../../server/src/engine/personalize/image-features';
import { expandImageTokens, tokensPerImage } from '../../server/src/engine/models/llava/embeddings';

/** The shape of llava-onevision-qwen2-0.5b-ov-hf's config.json (values from its model card's config). */
const PINPOINTS_384: [number, number][] = [];
for (let a = 1; a <= 6; a++) for (let b = 1; b <= 6; b++) PINPOINTS_384.push([384 * a, 384 * b]);
const OV_05B = {
  model_type: 'llava_onevision',
  architectures: ['LlavaOnevisionForConditionalGeneration'],
  image_token_index: 151646,
  video_token_index: 151647,
  image_grid_pinpoints: PINPOINTS_384,
  vision_aspect_ratio: 'anyres_max_9',
  vision_feature_layer: -1,
  vision_feature_select_strategy: 'full',
  projector_hidden_act: 'gelu',
  multimodal_projector_bias: true,
  tie_word_embeddings: true,
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
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    max_position_embeddings: 32768,
    tie_word_embeddings: true,
  },
};
const ov = parseLlavaConfig(OV_05B);

/**
 * Python's float a // b for a whole a ≥ 0 and b > 0: the floor of the exact quotient, b taken as the exact
 * binary number it is (so 50 // 1.1111111111111112 is 44, where 50 / b rounds to 45.0).
 */
function exactFloorDiv(a: number, b: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, b);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn) - 1075;
  const mantissa = (bits & ((1n << 52n) - 1n)) | (1n << 52n);
  return exp >= 0
    ? Number(BigInt(a) / (mantissa << BigInt(exp)))
    : Number((BigInt(a) << BigInt(-exp)) / mantissa);
}

/**
 * The processor's arithmetic for one image's tokens (LlavaOnevisionProcessor._get_number_of_features):
 * base tile, unpadded feature rows × columns on the chosen canvas, one newline per row, and the shrink
 * past 9 tiles (the processor's constant).
 */
function processorTokens(
  h: number,
  w: number,
  pinpoints: [number, number][],
  tile: number,
  p: number,
): number {
  const [bh, bw] = bestResolution([h, w], pinpoints);
  let ch = p * Math.floor(bh / tile);
  let cw = p * Math.floor(bw / tile);
  if (w / h > cw / ch) {
    const newH = Math.trunc(h * (cw / w));
    ch -= 2 * Math.floor((ch - newH) / 2);
  } else {
    const newW = Math.trunc(w * (ch / h));
    cw -= 2 * Math.floor((cw - newW) / 2);
  }
  let unpadded = ch * cw;
  let newlines = ch;
  const ratio = Math.sqrt((ch * cw) / (9 * p * p));
  if (ratio > 1.1) {
    unpadded = exactFloorDiv(ch, ratio) * exactFloorDiv(cw, ratio);
    newlines = exactFloorDiv(ch, ratio);
  }
  return p * p + unpadded + newlines;
}

/** PyTorch's bilinear interpolation (align_corners=False) of a [C, H, W] tensor, in float64. */
function interpolateChw(
  x: Float64Array,
  C: number,
  H: number,
  W: number,
  h: number,
  w: number,
): Float64Array {
  const src = (o: number, inSize: number, outSize: number): [number, number, number] => {
    const real = Math.max(((o + 0.5) * inSize) / outSize - 0.5, 0);
    const i0 = Math.min(Math.floor(real), inSize - 1);
    return [i0, Math.min(i0 + 1, inSize - 1), real - i0];
  };
  const out = new Float64Array(C * h * w);
  for (let c = 0; c < C; c++)
    for (let y = 0; y < h; y++)
      for (let xo = 0; xo < w; xo++) {
        const [y0, y1, ly] = src(y, H, h);
        const [x0, x1, lx] = src(xo, W, w);
        const at = (yy: number, xx: number): number => x[(c * H + yy) * W + xx]!;
        out[(c * h + y) * w + xo] =
          (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
          ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
      }
  return out;
}

/**
 * pack_image_features for one image as the model writes it, step by step on a [D, rows, cols] tensor:
 * tiles laid out spatially, unpadded (scaled side rounded to 7 decimals), shrunk past maxTiles, a
 * newline column appended, flattened row-major behind the base tile.
 */
function referencePack(
  features: Float32Array,
  image: HW,
  tile: number,
  p: number,
  anyres: AnyresConfig,
  newline: Float32Array,
): Float64Array {
  const D = newline.length;
  const [bh, bw] = bestResolution(image, anyres.pinpoints);
  const gh = bh / tile;
  const gw = bw / tile;
  let H = gh * p;
  let W = gw * p;
  // view(gh, gw, p, p, D).permute(4, 0, 2, 1, 3) → [D, gh·p, gw·p]
  let t: Float64Array = new Float64Array(D * H * W);
  for (let a = 0; a < gh; a++)
    for (let b = 0; b < gw; b++)
      for (let i = 0; i < p; i++)
        for (let j = 0; j < p; j++)
          for (let d = 0; d < D; d++)
            t[(d * H + a * p + i) * W + b * p + j] =
              features[((1 + a * gw + b) * p * p + i * p + j) * D + d]!;
  // unpad_image
  const [oh, ow] = image;
  let r0 = 0;
  let r1 = H;
  let c0 = 0;
  let c1 = W;
  if (ow / oh > W / H) {
    const pad = Math.floor((H - Math.trunc(Number((oh * (W / ow)).toFixed(7)))) / 2);
    r0 = pad;
    r1 = H - pad;
  } else {
    const pad = Math.floor((W - Math.trunc(Number((ow * (H / oh)).toFixed(7)))) / 2);
    c0 = pad;
    c1 = W - pad;
  }
  const cropped = new Float64Array(D * (r1 - r0) * (c1 - c0));
  for (let d = 0; d < D; d++)
    for (let y = r0; y < r1; y++)
      for (let x = c0; x < c1; x++)
        cropped[(d * (r1 - r0) + y - r0) * (c1 - c0) + x - c0] = t[(d * H + y) * W + x]!;
  t = cropped;
  H = r1 - r0;
  W = c1 - c0;
  const ratio = Math.sqrt((H * W) / (anyres.maxTiles! * p * p));
  if (ratio > 1.1) {
    const h = exactFloorDiv(H, ratio);
    const w = exactFloorDiv(W, ratio);
    t = interpolateChw(t, D, H, W, h, w);
    H = h;
    W = w;
  }
  // cat the newline column, flatten(1, 2).transpose(0, 1), cat behind the base tile
  const out = new Float64Array((p * p + H * (W + 1)) * D);
  for (let i = 0; i < p * p * D; i++) out[i] = features[i]!;
  let o = p * p * D;
  for (let y = 0; y < H; y++)
    for (let x = 0; x <= W; x++) {
      for (let d = 0; d < D; d++) out[o + d] = x === W ? newline[d]! : t[(d * H + y) * W + x]!;
      o += D;
    }
  return out;
}

function randomFloats(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('llava_onevision: config', () => {
  it('reads a OneVision config: SigLIP 384/14 whole (no CLS), 36 pinpoints, anyres_max_9', () => {
    assert.equal(ov.family, 'llava_onevision');
    assert.equal(ov.anyres!.family, 'llava_onevision');
    assert.equal(ov.anyres!.maxTiles, 9);
    assert.equal(ov.anyres!.pinpoints.length, 36);
    assert.equal(ov.vision.patchesPerSide, 27);
    assert.equal(ov.imageTokens, 729);
    assert.equal(ov.selectStrategy, 'full');
    assert.deepEqual(ov.featureLayers, [-1]);
    assert.equal(ov.imageTokenIndex, 151646);
    assert.equal(ov.text.kind, 'qwen2');
  });

  it("takes transformers' OneVision defaults for keys a config leaves out", () => {
    const {
      vision_feature_layer,
      vision_feature_select_strategy,
      vision_aspect_ratio,
      image_token_index,
      ...bare
    } = OV_05B;
    void [vision_feature_layer, vision_feature_select_strategy, vision_aspect_ratio, image_token_index];
    const c = parseLlavaConfig(bare);
    assert.deepEqual(c.featureLayers, [-1]);
    assert.equal(c.selectStrategy, 'full');
    assert.equal(c.anyres!.maxTiles, 9);
    assert.equal(c.imageTokenIndex, 151646);
  });

  it('refuses, naming the field, what would not lay out on a square grid or is not anyres_max_N', () => {
    const refuses = (patch: Record<string, unknown>, re: RegExp): void =>
      assert.throws(
        () => parseLlavaConfig({ ...OV_05B, ...patch }),
        (e: Error) => e instanceof ModelConfigError && re.test(e.message),
      );
    refuses(
      { vision_feature_select_strategy: 'default' },
      /vision_feature_select_strategy: "default".*"full" \(SigLIP has no CLS\)/,
    );
    refuses({ vision_aspect_ratio: 'anyres' }, /vision_aspect_ratio: "anyres" is not "anyres_max_N"/);
    refuses({ vision_aspect_ratio: 'anyres_max_0' }, /vision_aspect_ratio/);
    refuses({ multimodal_projector_bias: false }, /multimodal_projector_bias: false is not supported/);
    refuses({ image_grid_pinpoints: [[384, 500]] }, /image_grid_pinpoints\[0\]: \[384,500\]/);
  });
});

describe('llava_onevision: image tokens', () => {
  it('gives hand-worked sizes their token counts (base 729 + rows × (columns + newline))', () => {
    const count = (h: number, w: number): number => imageTokenCount([h, w], 384, 14, ov.anyres!);
    // 384²: one tile, 27×27 kept, 27 newlines.
    assert.equal(count(384, 384), 729 + 27 * 28);
    // 2304²: 6×6 tiles = 162×162, ratio sqrt(162² / (9·27²)) = 2, shrunk to 81×81.
    assert.equal(count(2304, 2304), 729 + 81 * 82);
    // 1037×3370 on 2×6 tiles: 50 rows × 162 columns unpadded, ratio = sqrt(8100 / 6561) = 1.1111111111111112,
    // and 50 // ratio is 44 in Python (45 × ratio > 50), not the 45 that 50 / ratio rounds to.
    assert.equal(count(1037, 3370), 729 + 44 * (145 + 1));
    // A photo of several images in one prompt is one padded tile and a newline, whatever its size.
    assert.equal(imageTokenCount([3024, 4032], 384, 14, ov.anyres!, 3), 730);
  });

  it("equals the processor's arithmetic for 1,500 image sizes, photos and extreme shapes included", () => {
    const sizes: HW[] = [
      [480, 640],
      [3024, 4032],
      [1080, 1920],
      [100, 3000],
      [3000, 100],
      [1, 1],
      [1, 5000],
      [18, 30],
      [767, 769],
    ];
    let s = 7;
    const rnd = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return 1 + (s % n);
    };
    while (sizes.length < 1500) sizes.push([rnd(4500), rnd(4500)]);
    for (const [h, w] of sizes) {
      assert.equal(
        imageTokenCount([h, w], 384, 14, ov.anyres!),
        processorTokens(h, w, ov.anyres!.pinpoints, 384, 27),
        `${h}×${w}`,
      );
    }
  });

  it('packs exactly as many features as it counts tokens for, for every size', () => {
    const small: AnyresConfig = { family: 'llava_onevision', pinpoints: PINPOINTS_384, maxTiles: 9 };
    for (const image of [
      [384, 384],
      [480, 640],
      [2304, 2304],
      [100, 3000],
      [1080, 1920],
    ] as HW[]) {
      const shape = anyresShape(image, 384, 14, small);
      const out = packAnyresFeatures(
        new Float32Array(shape.images * 729),
        image,
        384,
        14,
        small,
        new Float32Array(1),
      );
      assert.equal(out.length, imageTokenCount(image, 384, 14, small), `${image}`);
    }
  });
});

describe('llava_onevision: packing the features', () => {
  it("interpolates as PyTorch's bilinear (align_corners=False) does on values it is known to give", () => {
    // [1, 2, 3, 4] → 2: the means of neighbours; → 6 and back; [a, b] → 4: quarter steps.
    assert.deepEqual(Array.from(bilinearResize(Float32Array.of(1, 2, 3, 4), 1, 4, 1, 1, 2)), [1.5, 3.5]);
    assert.deepEqual(Array.from(bilinearResize(Float32Array.of(0, 8), 1, 2, 1, 1, 4)), [0, 2, 6, 8]);
    assert.deepEqual(Array.from(bilinearResize(Float32Array.of(0, 4, 8), 1, 3, 1, 1, 2)), [1, 7]);
    // 2-D and over channels: a plane a·y + b·x + c is reproduced exactly inside.
    const H = 6;
    const W = 9;
    const plane = new Float32Array(H * W * 2);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        plane[(y * W + x) * 2] = 2 * y + 3 * x + 1;
        plane[(y * W + x) * 2 + 1] = -y;
      }
    const out = bilinearResize(plane, H, W, 2, 3, 4);
    // output row 1 samples source y = 1·2 + 0.5·2 − 0.5 = 2.5; column 2 samples x = 2.25·2.5 − 0.5 = 5.125
    assert.ok(Math.abs(out[(1 * 4 + 2) * 2]! - (2 * 2.5 + 3 * 5.125 + 1)) < 1e-5);
    assert.ok(Math.abs(out[(1 * 4 + 2) * 2 + 1]! + 2.5) < 1e-6);
  });

  const cases: [string, HW, number][] = [
    ['a wide photo, unpadded rows, no shrink', [240, 640], 9],
    ['a tall photo, unpadded columns', [700, 200], 9],
    ['a square photo on 2×2 tiles shrunk past anyres_max_1', [760, 760], 1],
    ['a wide photo shrunk past anyres_max_2', [500, 1500], 2],
  ];
  for (const [name, image, maxTiles] of cases) {
    it(`equals pack_image_features step by step: ${name}`, () => {
      // Tiles of 28 px in 7 px patches (p = 4) on canvases of up to 3×3 tiles.
      const pins: [number, number][] = [];
      for (let a = 1; a <= 3; a++) for (let b = 1; b <= 3; b++) pins.push([28 * a, 28 * b]);
      const anyres: AnyresConfig = { family: 'llava_onevision', pinpoints: pins, maxTiles };
      const scaled: HW = [image[0] / 10, image[1] / 10].map(Math.round) as HW;
      const shape = anyresShape(scaled, 28, 7, anyres);
      const D = 5;
      const features = randomFloats(shape.images * 16 * D, 3 + maxTiles);
      const newline = randomFloats(D, 99);
      const ours = packAnyresFeatures(features, scaled, 28, 7, anyres, newline);
      const ref = referencePack(features, scaled, 28, 4, anyres, newline);
      assert.equal(ours.length, ref.length);
      assert.ok(maxAbsDiff(ours, ref) < 1e-5, `max diff ${maxAbsDiff(ours, ref)}`);
      if (maxTiles < 9)
        assert.notDeepEqual(shape.packed, [
          shape.window.rowEnd - shape.window.rowStart,
          shape.window.colEnd - shape.window.colStart,
        ]);
    });
  }
});

describe('llava_onevision: processor', () => {
  const cfg = {
    size: 12,
    crop: { height: 12, width: 12 },
    doResize: true,
    doCenterCrop: true,
    rescale: 1 / 255,
    mean: [0.5, 0.5, 0.5] as [number, number, number],
    std: [0.5, 0.5, 0.5] as [number, number, number],
  };
  const pins: [number, number][] = [
    [12, 24],
    [24, 12],
    [24, 24],
  ];
  const anyres: AnyresConfig = { family: 'llava_onevision', pinpoints: pins, maxTiles: 9 };
  const img = {
    width: 30,
    height: 18,
    data: Uint8Array.from({ length: 18 * 30 * 3 }, (_, i) => 40 + ((i * 37) % 200)),
  };

  it('fills the whole canvas: the odd padding row goes below the image, so every tile is whole', () => {
    const layout = anyresLayout([18, 30], 12, anyres);
    assert.deepEqual(layout.canvas, [24, 24]);
    assert.deepEqual(layout.resized, [15, 24]);
    assert.deepEqual(layout.pad, [4, 0]);
    assert.deepEqual(layout.padded, [24, 24]);
    assert.ok(layout.tiles.every((t) => t.height === 12 && t.width === 12));
  });

  it('gives the base image squashed to one tile, then the tiles of the padded canvas', () => {
    const out = anyresPixels(img, cfg, anyres);
    assert.equal(out.images, 5);
    const per = 3 * 144;
    assert.deepEqual(out.pixels.subarray(0, per), clipPixels(resizeBicubic(img, 12, 12), cfg));
    const canvas = padRgb(resizeBicubic(img, 24, 15), 4, 0, 24, 24);
    // The last tile holds the canvas' bottom-right corner: rows 12..23, of which 19..23 are padding.
    const last = clipPixels(cropRgb(canvas, 12, 12, 12, 12), cfg);
    assert.deepEqual(out.pixels.subarray(4 * per, 5 * per), last);
    assert.equal(out.pixels[4 * per + 11 * 12 + 5], -1, 'a padding pixel is black: (0 − 0.5) / 0.5');
    assert.notEqual(out.pixels[4 * per + 6 * 12 + 5], -1, 'row 18 of the canvas is the image');
  });

  it('pads an image among several to a square of the mean colour and squashes it to one tile', () => {
    const out = anyresPixels(img, cfg, anyres, 2);
    assert.equal(out.images, 1);
    // 18×30 → 30×30 with 6 rows of (127, 127, 127) above; after the resize to 12 px the top row is grey.
    assert.ok(Math.abs(out.pixels[0]! - (127 / 255 - 0.5) / 0.5) < 1e-6);
    const square = padRgb(img, 6, 0, 30, 30, [127, 127, 127]);
    assert.deepEqual(out.pixels, clipPixels(resizeBicubic(square, 12, 12), cfg));
  });
});

describe('llava_onevision: a tiny random checkpoint end to end', () => {
  let dir: string;
  let model: LlavaModel;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'yollava-ov-'));
    writeTinyLlava(dir, {
      family: 'llava_onevision',
      visionAspectRatio: 'anyres_max_1',
      vision: { kind: 'siglip', imageSize: 28, patchSize: 7 },
      text: { modelType: 'qwen2' },
    });
    model = LlavaModel.load(dir);
  });
  after(async () => {
    await model.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads SigLIP + Qwen2 with image_newline and says so in inspect', () => {
    assert.match(
      inspectModel(dir).architecture,
      /^llava_onevision \(siglip vision, qwen2 text, anyres tiles\)/,
    );
    assert.equal(model.config.imageTokens, 16);
  });

  it('runs a photo through processor, tower, packing and the language model, each image token fed', async () => {
    const png = await sharp(
      Uint8Array.from({ length: 40 * 70 * 3 }, (_, i) => (i * 13) % 256),
      { raw: { width: 70, height: 40, channels: 3 } },
    )
      .png()
      .toBuffer();
    const photo = await decodeRgb(png);
    const cfg = readImageProcessorConfig(dir, 28);
    const px = anyresPixels(photo, cfg, model.config.anyres!);
    assert.equal(px.images, 5, '40×70 fits the 2×2 canvas best');
    const vision = await model.encodeImages({
      dtype: 'float32',
      shape: [px.images, 3, 28, 28],
      data: px.pixels,
    });
    const features = vision.features.data as Float32Array;
    const packed = model.packAnyres(features, px.imageSize);
    const tokens = imageTokenCount(px.imageSize, 28, 7, model.config.anyres!);
    // 2×2 tiles of 4×4 → window 8 rows × 8 columns unpadded to 4.57…→ shrunk past anyres_max_1.
    assert.equal(packed.length, tokens * model.hidden);
    const ref = referencePack(
      features,
      px.imageSize,
      28,
      4,
      model.config.anyres!,
      model.weightF32('image_newline'),
    );
    assert.ok(maxAbsDiff(packed, ref) < 1e-5);
    const ids = [5, ...new Array<number>(tokens).fill(model.config.imageTokenIndex), 7, 9];
    const embeds = model.embed(ids, [packed]);
    const logits = await model.logits(embeds, 1, ids.length, [ids.length - 1]);
    assert.ok(logits.every(Number.isFinite));
    // The image's features reach the answer: another photo changes the last logits.
    const other = model.embed(ids, [packed.map((v) => -v)]);
    const logits2 = await model.logits(other, 1, ids.length, [ids.length - 1]);
    assert.ok(maxAbsDiff(logits, logits2) > 1e-4);
  });

  it("renders a conversation through OneVision's chat template (selectattr, generation blocks)", () => {
    // The template as llava-hf's OneVision folders ship it in chat_template.json: images first, then text.
    const template =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'}}" +
      "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\\n' }}{% endfor %}" +
      "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>\\n' }}{% endfor %}" +
      "{% if message['role'] != 'assistant' %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}" +
      "{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}{{ content['text'] }}{% endgeneration %}{% endfor %}{% endif %}" +
      "{{'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    writeFileSync(path.join(dir, 'chat_template.json'), JSON.stringify({ chat_template: template }));
    const chat = loadChatTemplate(dir);
    assert.equal(chat.source, 'chat_template.json');
    assert.equal(
      chat.renderHf(
        [
          { role: 'user', content: [{ type: 'text', text: 'Is <bo> here?' }, { type: 'image' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'Yes.' }] },
          { role: 'user', content: [{ type: 'text', text: 'Where?' }] },
        ],
        true,
      ),
      '<|im_start|>user\n<image>\nIs <bo> here?<|im_end|>\n<|im_start|>assistant\nYes.<|im_end|>\n' +
        '<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it("the product's photo path packs a photo alone and among others as the processor counts them", async () => {
    const file = path.join(dir, 'photo.png');
    await sharp(
      Uint8Array.from({ length: 40 * 70 * 3 }, (_, i) => (i * 7) % 256),
      {
        raw: { width: 70, height: 40, channels: 3 },
      },
    )
      .png()
      .toFile(file);
    const store = new ImageFeatureStore(model, null);
    const [alone] = await store.projected([file], undefined, 1);
    const [among] = await store.projected([file], undefined, 3);
    const [mirrored] = await store.projected([file], [true], 1);
    const D = model.hidden;
    assert.equal(alone!.length / D, imageTokenCount([40, 70], 28, 7, model.config.anyres!, 1));
    assert.equal(among!.length / D, imageTokenCount([40, 70], 28, 7, model.config.anyres!, 3));
    assert.notEqual(alone!.length, among!.length, 'several images in a prompt are laid out differently');
    assert.equal(mirrored!.length, alone!.length);
    assert.ok(maxAbsDiff(mirrored!, alone!) > 1e-4, 'the mirrored photo is another view');
    // A prompt of two images gets each one's own count, and the embeddings take them.
    const idx = model.config.imageTokenIndex;
    const [t1, t2, t3] = [1, 2, 3].map((t) => (t === idx ? t + 10 : t)) as [number, number, number];
    const ids = expandImageTokens([t1, idx, t2, idx, t3], idx, tokensPerImage([alone!, among!], D));
    assert.equal(ids.length, 3 + (alone!.length + among!.length) / D);
    assert.equal(model.embed(ids, [alone!, among!]).length, ids.length * D);
  });
});
