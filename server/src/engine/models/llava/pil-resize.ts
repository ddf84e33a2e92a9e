// Bicubic resizing of 8-bit RGB images computed the way Pillow does it (Image.resize with BICUBIC), which
// is what transformers' image processors call: a separable filter whose support widens with the
// downscale factor (antialiasing), fixed-point weights with 22 fractional bits, the horizontal pass first,
// rounded and clipped to 8 bits between the passes. Pixel for pixel the same values, so an anyres
// processor fed the same image gives the same tiles as the Python one (sharp's cubic kernel does not).

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

export interface RgbImage {
  width: number;
  height: number;
  /** Row-major, 3 bytes per pixel. */
  data: Uint8Array;
}

function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  /** First source index of each output pixel. */
  start: Int32Array;
  /** Taps of each output pixel. */
  count: Int32Array;
  /** [out, kmax] fixed-point weights. */
  weights: Int32Array;
  kmax: number;
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const kmax = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kmax);
  const k = new Float64Array(kmax);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    // C's (int) truncates toward zero; a negative start is clamped to 0 anyway.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      k[x] = w;
      total += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x]! / total : k[x]!;
      weights[xx * kmax + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, kmax };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

function horizontal(src: RgbImage, outWidth: number): RgbImage {
  const c = coefficients(src.width, outWidth);
  const out = new Uint8Array(outWidth * src.height * 3);
  for (let y = 0; y < src.height; y++) {
    const row = y * src.width * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      let r = ONE / 2;
      let g = ONE / 2;
      let b = ONE / 2;
      const k0 = xx * c.kmax;
      const x0 = c.start[xx]!;
      for (let x = 0; x < c.count[xx]!; x++) {
        const w = c.weights[k0 + x]!;
        const i = row + (x0 + x) * 3;
        r += src.data[i]! * w;
        g += src.data[i + 1]! * w;
        b += src.data[i + 2]! * w;
      }
      const o = (y * outWidth + xx) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return { width: outWidth, height: src.height, data: out };
}

/** Rows become columns: the vertical pass is the horizontal one on the transposed image. */
function transposeRgb(src: RgbImage): RgbImage {
  const out = new Uint8Array(src.data.length);
  for (let y = 0; y < src.height; y++)
    for (let x = 0; x < src.width; x++) {
      const i = (y * src.width + x) * 3;
      const o = (x * src.height + y) * 3;
      out[o] = src.data[i]!;
      out[o + 1] = src.data[i + 1]!;
      out[o + 2] = src.data[i + 2]!;
    }
  return { width: src.height, height: src.width, data: out };
}

function vertical(src: RgbImage, outHeight: number): RgbImage {
  return transposeRgb(horizontal(transposeRgb(src), outHeight));
}

/** Image.resize((width, height), BICUBIC) of Pillow; the same size returns a copy, as Pillow does. */
export function resizeBicubic(src: RgbImage, width: number, height: number): RgbImage {
  let img = src;
  if (width !== src.width) img = horizontal(img, width);
  if (height !== src.height) img = vertical(img, height);
  return img === src ? { ...src, data: src.data.slice() } : img;
}

/** A rectangle of an image (it must lie inside). */
export function cropRgb(src: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * src.width + left) * 3;
    data.set(src.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}

/**
 * The image on a height × width canvas of `fill` with its top-left corner at (top, left); by default black
 * borders of `top` rows above and below and `left` columns on each side.
 */
export function padRgb(
  src: RgbImage,
  top: number,
  left: number,
  height = src.height + 2 * top,
  width = src.width + 2 * left,
  fill: readonly [number, number, number] = [0, 0, 0],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  if (fill.some((v) => v !== 0)) for (let i = 0; i < data.length; i++) data[i] = fill[i % 3]!;
  for (let y = 0; y < src.height; y++)
    data.set(src.data.subarray(y * src.width * 3, (y + 1) * src.width * 3), ((y + top) * width + left) * 3);
  return { width, height, data };
}

/** The image mirrored left to right (training's flipped photos; sharp's flop on decoded pixels). */
export function mirrorRgb(src: RgbImage): RgbImage {
  const { width: w, height: h } = src;
  const data = new Uint8Array(src.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const from = (y * w + x) * 3;
      const to = (y * w + (w - 1 - x)) * 3;
      data[to] = src.data[from]!;
      data[to + 1] = src.data[from + 1]!;
      data[to + 2] = src.data[from + 2]!;
    }
  return { width: w, height: h, data };
}
