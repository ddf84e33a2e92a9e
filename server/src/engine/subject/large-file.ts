// Subject files far larger than any real one (megabytes, hundreds of thousands of keys) are read line by
// line: the top-level keys are found in one linear pass, every key the schema does not know gets its
// diagnostic there, and only the lines of the known fields go to the YAML parser. A real subject file
// has a dozen lines, so nothing it could say is lost; a hostile one costs linear time.
import schema from '../../../../schemas/subject.schema.json';
import { lineCounterFor } from './line-counter';
import type { ParsedSubject, SubjectDiagnostic } from './subject-file';

/** Files longer than this (in characters) take the line-by-line path. */
export const LARGE_FILE = 256 * 1024;

const KNOWN = new Set(Object.keys((schema as { properties: Record<string, unknown> }).properties));
const TOP_KEY = /^([A-Za-z_][\w-]*)\s*:(?=\s|$)/;

interface Kept {
  /** Where the line starts in the original text and in the reduced one. */
  orig: number;
  reduced: number;
  length: number;
}

function closest(word: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of KNOWN) {
    const d = distance(word, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return dp[b.length]!;
}

/** Parses a large file through `parseSmall` on its known fields only; diagnostics keep their positions. */
export function parseLarge(
  text: string,
  parseSmall: (t: string) => ParsedSubject,
  maxDiagnostics: number,
): ParsedSubject {
  const kept: Kept[] = [];
  const extra: SubjectDiagnostic[] = [];
  let unknown = 0;
  const seen = new Set<string>();
  let keep = false;
  let reducedLength = 0;
  for (let start = 0; start < text.length;) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const first = text.charCodeAt(start);
    // A line at column 0 that is a key starts a block; anything else continues the current one.
    if (end > start && first !== 32 && first !== 9 && first !== 35 && first !== 45) {
      const m = TOP_KEY.exec(text.slice(start, Math.min(end, start + 200)));
      if (m) {
        const key = m[1]!;
        keep = KNOWN.has(key) && !seen.has(key);
        if (KNOWN.has(key) && seen.has(key)) {
          extra.push({
            start,
            end: start + key.length,
            severity: 'error',
            message: `YAML: Map keys must be unique ("${key}" appears more than once)`,
            field: '',
            code: 'DUPLICATE_KEY',
          });
        } else if (!KNOWN.has(key)) {
          unknown++;
          if (extra.length <= maxDiagnostics) {
            const near = closest(key);
            extra.push({
              start,
              end: start + key.length,
              severity: 'error',
              message: `${key}: unknown field${near ? ` (did you mean "${near}"?)` : ` (known: ${[...KNOWN].join(', ')})`}`,
              field: '',
              code: 'additionalProperties',
            });
          }
        }
        seen.add(key);
      }
    }
    if (keep) {
      kept.push({ orig: start, reduced: reducedLength, length: end - start });
      reducedLength += end - start + 1;
    }
    start = end + 1;
  }
  const reducedText = kept.map((k) => text.slice(k.orig, k.orig + k.length)).join('\n');
  const small = parseSmall(reducedText);
  const toOriginal = (offset: number): number => {
    let lo = 0;
    let hi = kept.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (kept[mid]!.reduced <= offset) lo = mid;
      else hi = mid - 1;
    }
    const k = kept[lo]!;
    return k.orig + Math.min(offset - k.reduced, k.length);
  };
  const mapRange = (r: { start: number; end: number }): { start: number; end: number } => ({
    start: toOriginal(r.start),
    end: Math.max(toOriginal(r.end), toOriginal(r.start) + 1),
  });
  const diagnostics = [
    {
      start: 0,
      end: Math.min(1, text.length),
      severity: 'information' as const,
      message: `this file is ${(text.length / 1e6).toFixed(1)} MB (a subject file is a few lines): it was read line by line, and only its known fields were parsed`,
      field: '',
      code: 'large-file',
    },
    ...small.diagnostics.map((d) => ({ ...d, ...mapRange(d) })),
    ...extra,
  ].sort((a, b) => a.start - b.start);
  const shown = diagnostics.slice(0, maxDiagnostics);
  const shownUnknown = shown.filter((d) => d.code === 'additionalProperties').length;
  if (unknown > shownUnknown)
    shown.push({
      start: extra[extra.length - 1]?.start ?? 0,
      end: (extra[extra.length - 1]?.start ?? 0) + 1,
      severity: 'warning',
      message: `${unknown} unknown fields in all; the first ${shownUnknown} are shown`,
      field: '',
      code: 'too-many',
    });
  return {
    text,
    // Unknown fields are errors, as the schema says; the known ones still give their value.
    value: small.value,
    diagnostics: shown,
    rangeOf: (path, part) => mapRange(small.rangeOf(path, part)),
    lineCounter: lineCounterFor(text),
  };
}
