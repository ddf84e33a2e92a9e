// Hard negatives: the pool images most similar to the training photos by cosine similarity of pooled
// vision embeddings, taken round-robin over the photos (each photo's nearest first). Exact duplicates
// (same bytes) and near duplicates (similarity ≥ a threshold) of a training photo are not negatives: they
// are reported as contamination.
//
// Similarities are taken after removing the mean embedding of all the images involved: pooled vision
// features share a large common direction (every photo scores ≈0.9999 against every other on a small
// pretrained tower), which would otherwise drown the differences that ranking and duplicate detection need.

export interface RetrievalResult {
  /** Indices into the pool, most similar first. */
  hard: number[];
  contamination: { pool: number; train: number; similarity: number; exact: boolean }[];
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Embeddings minus their common mean, L2-normalized again. */
export function centered(embeddings: readonly Float32Array[]): Float32Array[] {
  if (!embeddings.length) return [];
  const D = embeddings[0]!.length;
  const mean = new Float64Array(D);
  for (const e of embeddings) for (let d = 0; d < D; d++) mean[d]! += e[d]! / embeddings.length;
  return embeddings.map((e) => {
    const out = new Float32Array(D);
    let n = 0;
    for (let d = 0; d < D; d++) {
      out[d] = e[d]! - mean[d]!;
      n += out[d]! * out[d]!;
    }
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let d = 0; d < D; d++) out[d]! *= inv;
    return out;
  });
}

export function retrieveHardNegatives(
  trainRaw: { embedding: Float32Array; hash: string }[],
  poolRaw: { embedding: Float32Array; hash: string }[],
  m: number,
  nearDuplicate = 0.999,
): RetrievalResult {
  const c = centered([...trainRaw, ...poolRaw].map((x) => x.embedding));
  const train = trainRaw.map((t, j) => ({ ...t, embedding: c[j]! }));
  const pool = poolRaw.map((p, i) => ({ ...p, embedding: c[trainRaw.length + i]! }));
  const contamination: RetrievalResult['contamination'] = [];
  const excluded = new Set<number>();
  pool.forEach((p, i) => {
    train.forEach((t, j) => {
      const sim = dot(p.embedding, t.embedding);
      const exact = p.hash === t.hash;
      if (exact || sim >= nearDuplicate) {
        if (!excluded.has(i)) contamination.push({ pool: i, train: j, similarity: sim, exact });
        excluded.add(i);
      }
    });
  });
  const ranked = train.map((t) =>
    pool
      .map((p, i) => ({ i, s: dot(p.embedding, t.embedding) }))
      .filter((x) => !excluded.has(x.i))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .map((x) => x.i),
  );
  const hard: number[] = [];
  const taken = new Set<number>();
  const cursors = ranked.map(() => 0);
  const available = pool.length - excluded.size;
  while (hard.length < Math.min(m, available)) {
    for (let j = 0; j < ranked.length && hard.length < m; j++) {
      while (cursors[j]! < ranked[j]!.length && taken.has(ranked[j]![cursors[j]!]!)) cursors[j]!++;
      const next = ranked[j]![cursors[j]!];
      if (next === undefined) continue;
      taken.add(next);
      hard.push(next);
    }
  }
  return { hard, contamination };
}
