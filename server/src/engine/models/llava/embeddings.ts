// Host-side embedding lookup: token ids → rows of embed_tokens, or of the extra rows of learned tokens
// (ids ≥ vocab), with image-token rows replaced by the projector's features.
import { f16ToF32 } from '../../io/safetensors';

export interface EmbeddingTable {
  /** embed_tokens, [vocab, hidden] row-major; float16 bits for a 16-bit checkpoint (rows widened on use). */
  table: Float32Array | Uint16Array;
  vocab: number;
  hidden: number;
  /** Rows for ids vocab, vocab+1, … (new tokens), [extra, hidden]. */
  extra?: Float32Array;
}

export function embedTokens(ids: readonly number[], t: EmbeddingTable): Float32Array {
  const D = t.hidden;
  const out = new Float32Array(ids.length * D);
  const extraRows = t.extra ? t.extra.length / D : 0;
  ids.forEach((id, i) => {
    if (id >= 0 && id < t.vocab) {
      const row = t.table.subarray(id * D, (id + 1) * D);
      out.set(row instanceof Uint16Array ? f16ToF32(row) : row, i * D);
    } else if (id >= t.vocab && id < t.vocab + extraRows)
      out.set(t.extra!.subarray((id - t.vocab) * D, (id - t.vocab + 1) * D), i * D);
    else
      throw new Error(
        `token id ${id} is outside the vocabulary (${t.vocab}) and the ${extraRows} added rows`,
      );
  });
  return out;
}

/**
 * Writes image features over the image-token rows, in order: the image tokens, read left to right, take
 * image 1's rows, then image 2's, and so on. `features` holds one [N, hidden] block per image; N may differ
 * from image to image (anyres models).
 */
export function mergeImageFeatures(
  ids: readonly number[],
  embeds: Float32Array,
  features: readonly Float32Array[],
  imageTokenIndex: number,
  hidden: number,
): void {
  const slots = ids.flatMap((id, i) => (id === imageTokenIndex ? [i] : []));
  const rows = features.reduce((n, f) => n + f.length / hidden, 0);
  if (slots.length !== rows) {
    throw new Error(
      `the prompt has ${slots.length} image tokens, but ${features.length} image(s) give ${rows} feature rows`,
    );
  }
  let j = 0;
  for (const img of features)
    for (let row = 0; row < img.length / hidden; row++, j++)
      embeds.set(img.subarray(row * hidden, (row + 1) * hidden), slots[j]! * hidden);
}

/** The legacy convention (one image token per image) expanded to the model's N tokens per image. */
export function expandImageTokens(
  ids: readonly number[],
  imageTokenIndex: number,
  perImage: number | readonly number[],
): number[] {
  const runs = countRuns(ids, imageTokenIndex);
  if (typeof perImage === 'number') {
    if (runs.every((r) => r === perImage)) return [...ids];
    return ids.flatMap((id) => (id === imageTokenIndex ? new Array<number>(perImage).fill(id) : [id]));
  }
  // Anyres models: each image has its own count (anyres.ts). The template writes one token per image
  // ("<image><image>" is two images); ids already expanded hold exactly the counts' sum.
  const tokens = ids.filter((id) => id === imageTokenIndex).length;
  const sum = perImage.reduce((a, b) => a + b, 0);
  if (tokens === sum && runs.length <= perImage.length) return [...ids];
  if (tokens !== perImage.length)
    throw new Error(`the prompt has ${tokens} image token(s), and ${perImage.length} image(s) were given`);
  let image = 0;
  return ids.flatMap((id) =>
    id === imageTokenIndex ? new Array<number>(perImage[image++]!).fill(id) : [id],
  );
}

/** Each image's token count, from its projector features [N·D]. */
export function tokensPerImage(features: readonly Float32Array[], hidden: number): number[] {
  return features.map((f) => f.length / hidden);
}

function countRuns(ids: readonly number[], token: number): number[] {
  const runs: number[] = [];
  let n = 0;
  for (const id of ids) {
    if (id === token) n++;
    else if (n) {
      runs.push(n);
      n = 0;
    }
  }
  if (n) runs.push(n);
  return runs;
}

/** Hugging Face labels (same length as ids, −100 = ignore) → the positions whose logits predict them. */
export function labelTargets(
  labels: readonly number[],
  batchOffset = 0,
): { positions: number[]; ids: number[] } {
  const positions: number[] = [];
  const ids: number[] = [];
  for (let t = 1; t < labels.length; t++) {
    if (labels[t] === -100) continue;
    positions.push(batchOffset + t - 1);
    ids.push(labels[t]!);
  }
  return { positions, ids };
}
