// preprocessor_config.json applied with sharp: RGB, resize the shortest edge (bicubic), center-crop,
// rescale, normalize, as CHW float32. Optionally pad to a square with the mean colour first, as the
// original LLaVA training code does (image_aspect_ratio "pad"); transformers' processor does not.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FILE_CAPS, FileKindError, readRegularFile, readRegularTextSync } from '../../io/regular-file';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { anyresLayout, type HW } from './anyres';
import { ModelConfigError, type AnyresConfig } from './config';
import { cropRgb, padRgb, resizeBicubic, type RgbImage } from './pil-resize';

export interface ImageProcessorConfig {
  size: number;
  crop: { height: number; width: number };
  doResize: boolean;
  doCenterCrop: boolean;
  rescale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export class ImageError extends Error {
  override name = 'ImageError';
}

const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

function readJsonObject(file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readRegularTextSync(file, 'preprocessor_config.json', FILE_CAPS.modelConfig));
  } catch (e) {
    throw new ModelConfigError(
      file,
      '',
      e instanceof FileKindError
        ? e.message.slice(file.length + 2)
        : `not valid JSON: ${(e as Error).message}`,
    );
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ModelConfigError(file, '', 'not a JSON object');
  return v as Record<string, unknown>;
}

export function readImageProcessorConfig(dir: string, imageSize: number): ImageProcessorConfig {
  const file = path.join(dir, 'preprocessor_config.json');
  const raw = existsSync(file) ? readJsonObject(file) : {};
  const sizeRaw = raw['size'];
  const size =
    typeof sizeRaw === 'number'
      ? sizeRaw
      : ((sizeRaw as { shortest_edge?: number; height?: number } | undefined)?.shortest_edge ??
        (sizeRaw as { height?: number } | undefined)?.height ??
        imageSize);
  const cropRaw = raw['crop_size'] as { height?: number; width?: number } | number | undefined;
  const crop =
    typeof cropRaw === 'number'
      ? { height: cropRaw, width: cropRaw }
      : { height: cropRaw?.height ?? imageSize, width: cropRaw?.width ?? imageSize };
  if (crop.height !== imageSize || crop.width !== imageSize) {
    throw new ModelConfigError(
      file,
      'crop_size',
      `${crop.height}×${crop.width} differs from the vision tower's image_size ${imageSize}`,
    );
  }
  // A resize to 60000 px costs minutes per photo, and a std of 0 divides by zero: every value a real
  // processor uses lies far inside these ranges.
  const bad = (field: string, why: string): ModelConfigError => new ModelConfigError(file, field, why);
  if (!(Number.isInteger(size) && size >= 1 && size <= 4 * imageSize))
    throw bad(
      'size',
      `${JSON.stringify(size)} must be a whole number of pixels from 1 to 4 × image_size (${4 * imageSize})`,
    );
  const rescale = raw['rescale_factor'] === undefined ? 1 / 255 : raw['rescale_factor'];
  if (typeof rescale !== 'number' || !(rescale > 0 && rescale <= 1))
    throw bad('rescale_factor', `${JSON.stringify(rescale)} must be a number in (0, 1]`);
  const triple = (field: string, dflt: [number, number, number], min: number): [number, number, number] => {
    const v = raw[field] ?? dflt;
    if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !(x >= min && x <= 10)))
      throw bad(field, `${JSON.stringify(v)} must be three numbers from ${min} to 10`);
    return v as [number, number, number];
  };
  return {
    size,
    crop,
    doResize: raw['do_resize'] !== false,
    doCenterCrop: raw['do_center_crop'] !== false,
    rescale,
    mean: triple('image_mean', CLIP_MEAN, -10),
    std: triple('image_std', CLIP_STD, 1e-3),
  };
}

/**
 * A file's bytes, read here rather than by sharp: sharp opens a path on libuv's pool, where a FIFO blocks a
 * thread for good and /dev/zero never ends. Only a regular file of at most FILE_CAPS.image is read.
 */
async function imageBytes(input: string | Buffer): Promise<Buffer> {
  if (typeof input !== 'string') return input;
  try {
    return await readRegularFile(input, 'an image', FILE_CAPS.image);
  } catch (e) {
    if (e instanceof FileKindError) throw new ImageError(e.message);
    throw new ImageError(
      `${input}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/** One image file or buffer → pixel values [3, crop.height, crop.width], normalized. */
export async function preprocessImage(
  input: string | Buffer,
  cfg: ImageProcessorConfig,
  opts: { padToSquare?: boolean; flip?: boolean } = {},
): Promise<Float32Array> {
  const where = typeof input === 'string' ? input : 'image';
  const bytes = await imageBytes(input);
  let img: Sharp;
  let meta: Metadata;
  try {
    img = sharp(bytes, { limitInputPixels: 268_402_689, failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb');
    meta = await img.metadata();
  } catch (e) {
    throw new ImageError(`${where}: cannot decode image: ${(e as Error).message}`);
  }
  let w = meta.autoOrient?.width ?? meta.width!;
  let h = meta.autoOrient?.height ?? meta.height!;
  if (!w || !h) throw new ImageError(`${where}: the image has no size`);
  if (opts.padToSquare && w !== h) {
    const side = Math.max(w, h);
    const bg = {
      r: Math.round(cfg.mean[0] * 255),
      g: Math.round(cfg.mean[1] * 255),
      b: Math.round(cfg.mean[2] * 255),
    };
    const left = Math.floor((side - w) / 2);
    const top = Math.floor((side - h) / 2);
    img = sharp(await img.toBuffer()).extend({
      left,
      right: side - w - left,
      top,
      bottom: side - h - top,
      background: bg,
    });
    w = h = side;
  }
  if (cfg.doResize) {
    // transformers: the short side becomes `size`, the long side int(size · long / short).
    const [nw, nh] =
      w <= h ? [cfg.size, Math.floor((cfg.size * h) / w)] : [Math.floor((cfg.size * w) / h), cfg.size];
    img = sharp(await img.toBuffer()).resize(nw, nh, { kernel: 'cubic', fit: 'fill' });
    w = nw;
    h = nh;
  }
  const { height: ch, width: cw } = cfg.crop;
  if (cfg.doCenterCrop) {
    if (w < cw || h < ch) throw new ImageError(`${where}: ${w}×${h} is smaller than the ${cw}×${ch} crop`);
    img = sharp(await img.toBuffer()).extract({
      left: Math.floor((w - cw) / 2),
      top: Math.floor((h - ch) / 2),
      width: cw,
      height: ch,
    });
  }
  if (opts.flip) img = img.flop();
  let raw: Buffer;
  try {
    raw = await img.raw().toBuffer();
  } catch (e) {
    throw new ImageError(`${where}: cannot decode image: ${(e as Error).message}`);
  }
  const out = new Float32Array(3 * ch * cw);
  const plane = ch * cw;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++)
      out[c * plane + i] = (raw[i * 3 + c]! * cfg.rescale - cfg.mean[c]!) / cfg.std[c]!;
  }
  return out;
}

/** Decodes an image file or buffer to 8-bit RGB (EXIF orientation applied, alpha dropped). */
export async function decodeRgb(input: string | Buffer): Promise<RgbImage> {
  const where = typeof input === 'string' ? input : 'image';
  const bytes = await imageBytes(input);
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: 268_402_689, failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels after conversion to RGB`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (e) {
    throw new ImageError(`${where}: cannot decode image: ${(e as Error).message}`);
  }
}

/**
 * The CLIP processor's steps on an 8-bit image, the way transformers computes them: resize the shortest
 * edge (Pillow bicubic), center-crop, rescale in float64 then float32, normalize in float32. CHW out.
 */
export function clipPixels(img: RgbImage, cfg: ImageProcessorConfig): Float32Array {
  let x = img;
  if (cfg.doResize) {
    const [nw, nh] =
      x.width <= x.height
        ? [cfg.size, Math.floor((cfg.size * x.height) / x.width)]
        : [Math.floor((cfg.size * x.width) / x.height), cfg.size];
    x = resizeBicubic(x, nw, nh);
  }
  const { height: ch, width: cw } = cfg.crop;
  if (cfg.doCenterCrop) {
    if (x.width < cw || x.height < ch)
      throw new ImageError(`${x.width}×${x.height} is smaller than the ${cw}×${ch} crop`);
    x = cropRgb(x, Math.floor((x.height - ch) / 2), Math.floor((x.width - cw) / 2), ch, cw);
  }
  const plane = ch * cw;
  const out = new Float32Array(3 * plane);
  const mean = cfg.mean.map(Math.fround);
  const std = cfg.std.map(Math.fround);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.fround(x.data[i * 3 + c]! * cfg.rescale);
      out[c * plane + i] = Math.fround(Math.fround(v - mean[c]!) / std[c]!);
    }
  }
  return out;
}

export interface AnyresPixels {
  /** [1 + tiles, 3, S, S]: the whole image squashed to one tile, then the tiles row-major. */
  pixels: Float32Array;
  images: number;
  /** The decoded image's (height, width), which the model needs to unpad. */
  imageSize: HW;
}

/**
 * LLaVA-NeXT's and OneVision's processor: the base image and the tiles of the best-fitting canvas (see
 * anyres.ts). OneVision tiles only the one image of a prompt; an image among several (`imagesInPrompt` > 1)
 * is padded to a square of the mean colour and squashed to one tile, as its processor does.
 */
export function anyresPixels(
  img: RgbImage,
  cfg: ImageProcessorConfig,
  anyres: AnyresConfig,
  imagesInPrompt = 1,
): AnyresPixels {
  const tile = cfg.crop.height;
  if (anyres.family === 'llava_onevision' && imagesInPrompt > 1) {
    const side = Math.max(img.width, img.height);
    const fill = cfg.mean.map((m) => Math.trunc(m * 255)) as [number, number, number];
    const square = padRgb(img, (side - img.height) >> 1, (side - img.width) >> 1, side, side, fill);
    const pixels = clipPixels(resizeBicubic(square, cfg.crop.width, cfg.crop.height), cfg);
    return { pixels, images: 1, imageSize: [img.height, img.width] };
  }
  const layout = anyresLayout([img.height, img.width], tile, anyres);
  const resized = resizeBicubic(img, layout.resized[1], layout.resized[0]);
  const padded = padRgb(resized, layout.pad[0], layout.pad[1], layout.padded[0], layout.padded[1]);
  const parts = [resizeBicubic(img, cfg.crop.width, cfg.crop.height)];
  for (const t of layout.tiles) parts.push(cropRgb(padded, t.top, t.left, t.height, t.width));
  const per = 3 * cfg.crop.height * cfg.crop.width;
  const pixels = new Float32Array(parts.length * per);
  parts.forEach((p, i) => pixels.set(clipPixels(p, cfg), i * per));
  return { pixels, images: parts.length, imageSize: [img.height, img.width] };
}
