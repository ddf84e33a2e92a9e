// Exact and near-duplicate image pairs, by content hash and perceptual hash.
import type { ImageCheck } from '../image-checks';

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Pairs (a, b) that are the same bytes or whose perceptual hashes differ in ≤ `bits` bits. */
export function duplicatePairs(
  a: string[],
  b: string[],
  checks: Map<string, ImageCheck>,
  bits: number,
  limit = 20,
): [string, string, boolean][] {
  // Reporting stops at `limit` pairs: a folder of 5,000 copies must not produce millions of diagnostics.
  const out: [string, string, boolean][] = [];
  const same = a === b;
  // Split the 64-bit hashes into two 32-bit halves once: the pair loop then costs a few ns per pair.
  const halves = (files: string[]) =>
    files.map((f) => {
      const c = checks.get(f)!;
      const h = c.dhash ?? '0'.repeat(16);
      return { sha: c.sha256, hi: parseInt(h.slice(0, 8), 16) | 0, lo: parseInt(h.slice(8), 16) | 0 };
    });
  const ha = halves(a);
  const hb = same ? ha : halves(b);
  for (let i = 0; i < a.length && out.length < limit; i++) {
    const x = ha[i]!;
    for (let j = same ? i + 1 : 0; j < b.length && out.length < limit; j++) {
      if (a[i] === b[j]) continue;
      const y = hb[j]!;
      if (x.sha === y.sha) out.push([a[i]!, b[j]!, true]);
      else if (popcount32(x.hi ^ y.hi) + popcount32(x.lo ^ y.lo) <= bits) out.push([a[i]!, b[j]!, false]);
    }
  }
  return out;
}
