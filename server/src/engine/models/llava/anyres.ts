// LLaVA-NeXT's "anyres" geometry, as transformers 4.45.1 computes it: which canvas an image is fitted to,
// how it is cut into tiles, and how the tiles' features are put back together (unpadded, with a learned
// newline after each row) behind the base image's. The processor and the model must agree on the token
// count of every image size, so both sides take their numbers from here.
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
   * The padded image's size. transformers 4.45.1 pads (canvas − resized) // 2 on both sides, so an odd
   * difference leaves the canvas one pixel short (fixed upstream later; the goldens hold this version).
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
  const padded: HW = [resized[0] + 2 * pad[0], resized[1] + 2 * pad[1]];
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
 * than padding: the model's unpad_image, in floats as it computes them.
 */
export function unpaddedWindow(
  image: HW,
  rows: number,
  cols: number,
): { rowStart: number; rowEnd: number; colStart: number; colEnd: number } {
  const [H, W] = image;
  if (W / H > cols / rows) {
    const newH = Math.trunc(H * (cols / W));
    const padding = Math.floor((rows - newH) / 2);
    return { rowStart: padding, rowEnd: rows - padding, colStart: 0, colEnd: cols };
  }
  const newW = Math.trunc(W * (rows / H));
  const padding = Math.floor((cols - newW) / 2);
  return { rowStart: 0, rowEnd: rows, colStart: padding, colEnd: cols - padding };
}

/** Tokens per tile side (the vision tower's patches per side). */
function patchesPerSide(tile: number, patch: number): number {
  return Math.floor(tile / patch);
}

export interface AnyresShape {
  /** Vision tower inputs: the base image, then the tiles. */
  images: number;
  grid: HW;
  window: ReturnType<typeof unpaddedWindow>;
  /** Image tokens in the language model's input. */
  tokens: number;
}

export function anyresShape(image: HW, tile: number, patch: number, anyres: AnyresConfig): AnyresShape {
  const p = patchesPerSide(tile, patch);
  const [ph, pw] = bestResolution(image, anyres.pinpoints);
  const grid: HW = [ph / tile, pw / tile];
  const window = unpaddedWindow(image, grid[0] * p, grid[1] * p);
  const rows = window.rowEnd - window.rowStart;
  const cols = window.colEnd - window.colStart;
  return { images: 1 + grid[0] * grid[1], grid, window, tokens: p * p + rows * (cols + 1) };
}

/**
 * The language model's image sequence from the vision tower's projected features of one image's base and
 * tiles ([1 + tiles, p·p, D], row-major): the base image's p·p tokens, then the tiles' tokens laid out
 * spatially, cropped to the unpadded window, each row followed by `newline` ([D]).
 */
export function packAnyresFeatures(
  features: Float32Array,
  image: HW,
  tile: number,
  patch: number,
  anyres: AnyresConfig,
  newline: Float32Array,
): Float32Array {
  const D = newline.length;
  const p = patchesPerSide(tile, patch);
  const shape = anyresShape(image, tile, patch, anyres);
  if (features.length !== shape.images * p * p * D)
    throw new Error(
      `anyres: ${features.length / (p * p * D)} images' features for an image that needs ${shape.images}`,
    );
  const out = new Float32Array(shape.tokens * D);
  out.set(features.subarray(0, p * p * D), 0);
  let o = p * p * D;
  const gw = shape.grid[1];
  const { rowStart, rowEnd, colStart, colEnd } = shape.window;
  for (let r = rowStart; r < rowEnd; r++) {
    const tileRow = Math.floor(r / p);
    const tokenRow = r % p;
    for (let c = colStart; c < colEnd; c++) {
      const tileIndex = 1 + tileRow * gw + Math.floor(c / p);
      const token = tokenRow * p + (c % p);
      const from = (tileIndex * p * p + token) * D;
      out.set(features.subarray(from, from + D), o);
      o += D;
    }
    out.set(newline, o);
    o += D;
  }
  return out;
}
