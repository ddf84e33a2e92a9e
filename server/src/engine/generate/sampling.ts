// Picking the next token from logits: greedy, or temperature with nucleus (top-p) sampling.
export interface SamplingOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Nucleus mass, (0, 1]; default 1. */
  topP?: number;
  /** Uniform [0, 1) source; default Math.random. Seed it for reproducible samples. */
  random?: () => number;
}

export function argmax(logits: Float32Array, from = 0, to = logits.length): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (logits[i]! > logits[best]!) best = i;
  return best - from;
}

export function sampleToken(logits: Float32Array, opts: SamplingOptions = {}): number {
  const temperature = opts.temperature ?? 0;
  if (temperature <= 0) return argmax(logits);
  const topP = opts.topP ?? 1;
  const max = logits.reduce((m, v) => Math.max(m, v), -Infinity);
  const probs = Array.from(logits, (v, i) => ({ i, p: Math.exp((v - max) / temperature) }));
  const total = probs.reduce((s, x) => s + x.p, 0);
  probs.sort((a, b) => b.p - a.p);
  // Keep the smallest prefix whose mass reaches topP (always at least one token).
  const kept: typeof probs = [];
  let mass = 0;
  for (const x of probs) {
    kept.push(x);
    mass += x.p / total;
    if (mass >= topP) break;
  }
  const keptMass = kept.reduce((s, x) => s + x.p, 0);
  let r = (opts.random ?? Math.random)() * keptMass;
  for (const x of kept) {
    r -= x.p;
    if (r <= 0) return x.i;
  }
  return kept[kept.length - 1]!.i;
}
