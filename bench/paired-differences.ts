// Whether one variant beats another on these subjects: the same subjects score both, so the honest
// comparison is per subject. A mean difference under two standard errors of itself is not an ordering.

export interface PairedDifference {
  /** Mean over subjects of (variant − reference). */
  mean: number;
  /** Standard error of that mean (sample standard deviation / √n); NaN with fewer than two subjects. */
  se: number;
  /** Subjects on which the variant scored higher, and lower, than the reference. */
  better: number;
  worse: number;
  subjects: number;
}

/** Per-subject differences of two variants' figures; subjects missing either figure are left out. */
export function pairedDifference(variant: number[], reference: number[]): PairedDifference {
  const d: number[] = [];
  variant.forEach((v, i) => {
    const r = reference[i];
    if (Number.isFinite(v) && r !== undefined && Number.isFinite(r)) d.push(v - r);
  });
  const n = d.length;
  const mean = n ? d.reduce((a, b) => a + b, 0) / n : NaN;
  const variance = n > 1 ? d.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1) : NaN;
  // Differences within rounding of zero (figures are shares of ten or a hundred photos) are ties.
  const eps = 1e-9;
  return {
    mean,
    se: Math.sqrt(variance / n),
    better: d.filter((x) => x > eps).length,
    worse: d.filter((x) => x < -eps).length,
    subjects: n,
  };
}

/** "+0.026 ± 0.013 (7 better, 3 worse)": the difference, one standard error, and the count of subjects. */
export function formatPaired(p: PairedDifference): string {
  if (!p.subjects) return '—';
  const sign = p.mean >= 0 ? '+' : '−';
  const se = Number.isFinite(p.se) ? ` ± ${p.se.toFixed(3)}` : '';
  return `${sign}${Math.abs(p.mean).toFixed(3)}${se} (${p.better}↑ ${p.worse}↓)`;
}
