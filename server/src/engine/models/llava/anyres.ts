// The "anyres" geometry of LLaVA-NeXT (as transformers 4.45.1 computes it, the version of golden D) and
// LLaVA-OneVision (as transformers computes it today): which canvas an image is fitted to, how it is cut
// into tiles, and how the tiles' features are put back together (unpadded, for OneVision shrunk to at most
// anyres_max_N tiles' worth, with a learned newline after each row) behind the base image's. The processor
// and the model must agree on the token count of every image size, so both sides take their numbers from
// here.
import type { AnyresConfig } from './config';

export type HW = [height: number, width: number];

/**
 * The pinpoint that keeps the most of the image when fitted inside it; on a tie the one that wastes the
 * least canvas, on a full tie the earlier one. Python's int() truncation, in the same float order.
 */
export function bestResolution(image: HW, pinpoints: readonly HW[]): HW {
  const [H, W] = image;
  let best: HW = pinpoints[0]!;
  let maxEffective = -1;
  let minWasted = Infinity;
  for (const [ph, pw] of pinpoints) {
    const scale = Math.min(pw / W, ph / H);
    const effective = Math.min(Math.trunc(W * scale) * Math.trunc(H * scale), W * H);
    const wasted = ph * pw - effective;
    if (effective > maxEffective || (effective === maxEffective && wasted < minWasted)) {
      best = [ph, pw];
      maxEffective = effective;
      minWasted = wasted;
    }
  }
  return best;
}

export interface AnyresLayout {
  /** The chosen pinpoint. */
  canvas: HW;
  /** The image's size once resized (aspect ratio kept) to fit the canvas. */
  resized: HW;
  /** Zero rows above and below, zero columns left and right of the resized image. */
  pad: HW;
  /**
   * The padded image's size. transformers 4.45.1 (llava_next) pads (canvas − resized) // 2 on both sides,
   * so an odd difference leaves the canvas one pixel short (golden D holds this version); OneVision's
   * processor puts the odd pixel after the image, so the padded image is the canvas.
   */
  padded: HW;
  /** Tiles (rows, columns) of the canvas, each the vision tower's size. */
  grid: HW;
  /** Each tile's pixel rectangle in the padded image, row-major; edge tiles may be short. */
  tiles: { top: number; left: number; height: number; width: number }[];
}

export function anyresLayout(image: HW, tile: number, anyres: AnyresConfig): AnyresLayout {
  const [H, W] = image;
  const canvas = bestResolution(image, anyres.pinpoints);
  const [ph, pw] = canvas;
  const scaleW = pw / W;
  const scaleH = ph / H;
  const resized: HW =
    scaleW < scaleH ? [Math.min(Math.ceil(H * scaleW), ph), pw] : [ph, Math.min(Math.ceil(W * scaleH), pw)];
  const pad: HW = [Math.floor((ph - resized[0]) / 2), Math.floor((pw - resized[1]) / 2)];
  const padded: HW =
    anyres.family === 'llava_onevision' ? [ph, pw] : [resized[0] + 2 * pad[0], resized[1] + 2 * pad[1]];
  const tiles: AnyresLayout['tiles'] = [];
  for (let top = 0; top < padded[0]; top += tile) {
    for (let left = 0; left < padded[1]; left += tile) {
      tiles.push({
        top,
        left,
        height: Math.min(tile, padded[0] - top),
        width: Math.min(tile, padded[1] - left),
      });
    }
  }
  return { canvas, resized, pad, padded, grid: [ph / tile, pw / tile], tiles };
}

/**
 * Rows and columns of the tiles' feature grid (rows × cols, before unpadding) that hold the image rather
 * than padding: the model's unpad_image, in floats as it computes them. transformers 4.45.1 truncates the
 * scaled side; later versions (OneVision's reference) first round it to 7 decimals, so 23.9999999 is 24.
 */
export function unpaddedWindow(
  image: HW,
  rows: number,
  cols: number,
  rounding: 'trunc' | 'round7' = 'trunc',
): { rowStart: number; rowEnd: number; colStart: number; colEnd: number } {
  const [H, W] = image;
  const toInt = (x: number): number => Math.trunc(rounding === 'round7' ? Number(x.toFixed(7)) : x);
  if (W / H > cols / rows) {
    const newH = toInt(H * (cols / W));
    const padding = Math.floor((rows - newH) / 2);
    return { rowStart: padding, rowEnd: rows - padding, colStart: 0, colEnd: cols };
  }
  const newW = toInt(W * (rows / H));
  const padding = Math.floor((cols - newW) / 2);
  return { rowStart: 0, rowEnd: rows, colStart: padding, colEnd: cols - padding };
}

/** Tokens per tile side (the vision tower's patches per side). */
function patchesPerSide(tile: number, patch: number): number {
  return Math.floor(tile / patch);
}

/** Python's float floor division a // b (fmod-based, as CPython computes it), for b > 0. */
export function pyFloorDiv(a: number, b: number): number {
  const mod = a % b;
  const div = (a - mod) / b;
  let floor = Math.floor(div);
  if (div - floor > 0.5) floor += 1;
  return floor;
}

/**
 * OneVision's anyres_max_N: a feature grid of more than N tiles' worth (by 10 %) is shrunk, keeping its
 * aspect, to int(rows // ratio) × int(cols // ratio) with ratio = sqrt(rows·cols / (N·p²)).
 */
export function shrunkGrid(rows: number, cols: number, p: number, maxTiles: number | null): HW {
  if (maxTiles === null) return [rows, cols];
  const ratio = Math.sqrt((rows * cols) / (maxTiles * p * p));
  if (!(ratio > 1.1)) return [rows, cols];
  return [pyFloorDiv(rows, ratio), pyFloorDiv(cols, ratio)];
}

export interface AnyresShape {
  /** Vision tower inputs: the base image, then the tiles. */
  images: number;
  grid: HW;
  window: ReturnType<typeof unpaddedWindow>;
  /** The unpadded window's rows and columns after OneVision's shrink (the window itself for llava_next). */
  packed: HW;
  /** Image tokens in the language model's input. */
  tokens: number;
}

export function anyresShape(image: HW, tile: number, patch: number, anyres: AnyresConfig): AnyresShape {
  const p = patchesPerSide(tile, patch);
  const [ph, pw] = bestResolution(image, anyres.pinpoints);
  const grid: HW = [ph / tile, pw / tile];
  const onevision = anyres.family === 'llava_onevision';
  const window = unpaddedWindow(image, grid[0] * p, grid[1] * p, onevision ? 'round7' : 'trunc');
  const packed = shrunkGrid(
    window.rowEnd - window.rowStart,
    window.colEnd - window.colStart,
    p,
    anyres.maxTiles,
  );
  return { images: 1 + grid[0] * grid[1], grid, window, packed, tokens: p * p + packed[0] * (packed[1] + 1) };
}

/**
 * Image tokens of one image in the language model's input. OneVision tiles an image only when it is the
 * prompt's one image; in a prompt of several, each is one padded square tile plus a newline.
 */
export function imageTokenCount(
  image: HW,
  tile: number,
  patch: number,
  anyres: AnyresConfig,
  imagesInPrompt = 1,
): number {
  const p = patchesPerSide(tile, patch);
  if (anyres.family === 'llava_onevision' && imagesInPrompt > 1) return p * p + 1;
  return anyresShape(image, tile, patch, anyres).tokens;
}

/**
 * PyTorch's interpolate(mode="bilinear", align_corners=False, antialias=False) of an [H, W, D] grid
 * (row-major, D values per cell) to [h, w], in float32 as its CPU kernel computes it.
 */
export function bilinearResize(
  src: Float32Array,
  H: number,
  W: number,
  D: number,
  h: number,
  w: number,
): Float32Array {
  const axis = (inSize: number, outSize: number) => {
    const scale = Math.fround(inSize / outSize);
    const i0 = new Int32Array(outSize);
    const i1 = new Int32Array(outSize);
    const l0 = new Float32Array(outSize);
    const l1 = new Float32Array(outSize);
    for (let o = 0; o < outSize; o++) {
      const real = Math.max(Math.fround(Math.fround(scale * Math.fround(o + 0.5)) - 0.5), 0);
      const lo = Math.min(Math.floor(real), inSize - 1);
      i0[o] = lo;
      i1[o] = lo < inSize - 1 ? lo + 1 : lo;
      l1[o] = Math.fround(real - lo);
      l0[o] = Math.fround(1 - l1[o]!);
    }
    return { i0, i1, l0, l1 };
  };
  const ry = axis(H, h);
  const rx = axis(W, w);
  const out = new Float32Array(h * w * D);
  for (let y = 0; y < h; y++) {
    const a = ry.i0[y]! * W;
    const b = ry.i1[y]! * W;
    const wy0 = ry.l0[y]!;
    const wy1 = ry.l1[y]!;
    for (let x = 0; x < w; x++) {
      const c0 = rx.i0[x]!;
      const c1 = rx.i1[x]!;
      const wx0 = rx.l0[x]!;
      const wx1 = rx.l1[x]!;
      const p00 = (a + c0) * D;
      const p01 = (a + c1) * D;
      const p10 = (b + c0) * D;
      const p11 = (b + c1) * D;
      const o = (y * w + x) * D;
      for (let d = 0; d < D; d++) {
        const top = Math.fround(Math.fround(wx0 * src[p00 + d]!) + Math.fround(wx1 * src[p01 + d]!));
        const bottom = Math.fround(Math.fround(wx0 * src[p10 + d]!) + Math.fround(wx1 * src[p11 + d]!));
        out[o + d] = Math.fround(wy0 * top) + Math.fround(wy1 * bottom);
      }
    }
  }
  return out;
}

/**
 * The language model's image sequence from the vision tower's projected features of one image's base and
 * tiles ([1 + tiles, p·p, D], row-major): the base image's p·p tokens, then the tiles' tokens laid out
 * spatially, cropped to the unpadded window (OneVision: shrunk to anyres_max_N), each row followed by
 * `newline` ([D]). A OneVision image in a prompt of several (`imagesInPrompt` > 1) is its one tile's p·p
 * tokens and a newline.
 */
export function packAnyresFeatures(
  features: Float32Array,
  image: HW,
  tile: number,
  patch: number,
  anyres: AnyresConfig,
  newline: Float32Array,
  imagesInPrompt = 1,
): Float32Array {
  const D = newline.length;
  const p = patchesPerSide(tile, patch);
  if (anyres.family === 'llava_onevision' && imagesInPrompt > 1) {
    if (features.length !== p * p * D)
      throw new Error(`anyres: ${features.length / (p * p * D)} tiles' features for an image of one tile`);
    const out = new Float32Array((p * p + 1) * D);
    out.set(features, 0);
    out.set(newline, p * p * D);
    return out;
  }
  const shape = anyresShape(image, tile, patch, anyres);
  if (features.length !== shape.images * p * p * D)
    throw new Error(
      `anyres: ${features.length / (p * p * D)} images' features for an image that needs ${shape.images}`,
    );
  const gw = shape.grid[1];
  const { rowStart, rowEnd, colStart, colEnd } = shape.window;
  const rows = rowEnd - rowStart;
  const cols = colEnd - colStart;
  // The unpadded window as one [rows, cols, D] grid, gathered from the tiles.
  let grid: Float32Array = new Float32Array(rows * cols * D);
  for (let r = rowStart; r < rowEnd; r++) {
    const tileRow = Math.floor(r / p);
    const tokenRow = r % p;
    for (let c = colStart; c < colEnd; c++) {
      const tileIndex = 1 + tileRow * gw + Math.floor(c / p);
      const from = (tileIndex * p * p + tokenRow * p + (c % p)) * D;
      grid.set(features.subarray(from, from + D), ((r - rowStart) * cols + (c - colStart)) * D);
    }
  }
  const [h, w] = shape.packed;
  if (h !== rows || w !== cols) grid = bilinearResize(grid, rows, cols, D, h, w);
  const out = new Float32Array(shape.tokens * D);
  out.set(features.subarray(0, p * p * D), 0);
  let o = p * p * D;
  for (let r = 0; r < h; r++) {
    out.set(grid.subarray(r * w * D, (r + 1) * w * D), o);
    o += w * D;
    out.set(newline, o);
    o += D;
  }
  return out;
}
