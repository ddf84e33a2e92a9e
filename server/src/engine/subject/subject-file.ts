// A *.subject.yaml file → its value and diagnostics with exact offset ranges: YAML syntax errors first,
// then schema errors (ajv) placed on the key or value they concern. Pure: no LSP types, no file system, so
// the language server and the CLI share it. Offsets are converted to line/column only at the edges.
import type { Category } from './category';
import Ajv, { type ErrorObject } from 'ajv';
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
} from 'yaml';
import schema from '../../../../schemas/subject.schema.json';
import { LARGE_FILE, parseLarge } from './large-file';
import { lineCounterFor } from './line-counter';

export type Severity = 'error' | 'warning' | 'information';

export interface SubjectDiagnostic {
  /** Offsets into the file's text, [start, end). */
  start: number;
  end: number;
  severity: Severity;
  message: string;
  /** The field path it concerns, e.g. "images.train" ("" for the whole file). */
  field: string;
  code: string;
}

export interface SubjectFile {
  name?: string;
  category?: Category;
  description?: string;
  images?: { train?: string | string[]; test?: string | string[] };
  negatives?: { pools?: string[]; hard?: number; random?: number };
  training?: {
    tokens?: number;
    epochs?: number;
    learningRate?: number;
    weightDecay?: number;
    batchSize?: number;
    seed?: number;
    headRows?: 'all' | 'name';
  };
  model?: string;
}

export interface ParsedSubject {
  text: string;
  /** The value when the YAML parsed (schema errors may remain). */
  value: SubjectFile | null;
  diagnostics: SubjectDiagnostic[];
  /** Finds the source range of a field path (its value, else its key); for other checks to place diagnostics. */
  rangeOf(path: (string | number)[], part?: 'key' | 'value'): { start: number; end: number };
  lineCounter: LineCounter;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

/** More than this many problems in one file are summarized in one last diagnostic. */
export const MAX_DIAGNOSTICS = 100;
/** A subject file nests three levels; past this the YAML parser's recursion is the risk, not the schema. */
export const MAX_NESTING = 64;

export function parseSubject(text: string): ParsedSubject {
  if (text.length > LARGE_FILE && deepNesting(text, MAX_NESTING) === null)
    return parseLarge(text, parseWhole, MAX_DIAGNOSTICS);
  return parseWhole(text);
}

/** The YAML parser over the whole text (parseSubject sends only small files, or a large one's known fields). */
function parseWhole(text: string): ParsedSubject {
  const lineCounter = new LineCounter();
  const deep = deepNesting(text, MAX_NESTING);
  if (deep !== null) {
    // Too deep to hand to the parser: report where, without parsing.
    const diagnostics: SubjectDiagnostic[] = [
      {
        start: deep,
        end: Math.min(deep + 1, text.length),
        severity: 'error',
        message: `YAML: nested more than ${MAX_NESTING} levels deep here; a subject file needs three`,
        field: '',
        code: 'too-deep',
      },
    ];
    return {
      text,
      value: null,
      diagnostics,
      rangeOf: () => ({ start: 0, end: 0 }),
      lineCounter: lineCounterFor(text),
    };
  }
  // Duplicate keys are found below in one pass: the parser's own check is quadratic in the keys of a map.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const diagnostics: SubjectDiagnostic[] = [];
  const rangeOf = (path: (string | number)[], part: 'key' | 'value' = 'value') =>
    findRange(doc, path, part, text.length);
  const done = (value: SubjectFile | null): ParsedSubject => ({
    text,
    value,
    diagnostics: capped(diagnostics),
    rangeOf,
    lineCounter,
  });
  for (const e of [...doc.errors, ...doc.warnings]) {
    const [start, end] = e.pos;
    diagnostics.push({
      start,
      end: Math.max(end, start + 1),
      severity: doc.errors.includes(e as never) ? 'error' : 'warning',
      message: `YAML: ${e.message.split('\n')[0]}`,
      field: '',
      code: e.code,
    });
  }
  diagnostics.push(...duplicateKeys(doc.contents as Node | null));
  if (diagnostics.some((d) => d.severity === 'error')) return done(null);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (e) {
    // An alias bomb (aliases of aliases that expand exponentially): place it on the first alias.
    const at = /(^|[\s[{,:-])\*[^\s,\]}]+/m.exec(text);
    const start = at ? at.index + at[1]!.length : 0;
    diagnostics.push({
      start,
      end: Math.min(start + 1, text.length),
      severity: 'error',
      message: `YAML: ${(e as Error).message.split('\n')[0]}`,
      field: '',
      code: 'alias-count',
    });
    return done(null);
  }
  if (value === null || value === undefined) {
    diagnostics.push({
      start: 0,
      end: Math.min(1, text.length),
      severity: 'error',
      message: 'the file is empty: a subject needs name, category and images.train',
      field: '',
      code: 'empty',
    });
    return done(null);
  }
  if (!validate(value)) {
    // Ranges cost a search each: only for the diagnostics that will be shown.
    const errors = simplify(validate.errors ?? []);
    for (const e of errors.slice(0, MAX_DIAGNOSTICS + 1)) diagnostics.push(toDiagnostic(e, rangeOf));
    for (let i = MAX_DIAGNOSTICS + 1; i < errors.length; i++)
      diagnostics.push({ start: 0, end: 0, severity: 'error', message: '', field: '', code: 'schema' });
  }
  return done(value as SubjectFile);
}

/** The offset where flow or block nesting first exceeds `max` levels, or null. One pass, no recursion. */
function deepNesting(text: string, max: number): number | null {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote && !(quote === '"' && text[i - 1] === '\\')) quote = '';
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl - 1;
      continue;
    }
    if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1]!))) quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > max) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
    else if (c === '\n') {
      // Block nesting shows as indentation (two columns a level at the least) and as "- - -" runs.
      let j = i + 1;
      while (text[j] === ' ') j++;
      let dashes = 0;
      while (text[j] === '-' && text[j + 1] === ' ') {
        dashes++;
        j += 2;
        while (text[j] === ' ') j++;
      }
      if ((j - i - 1) / 2 + dashes > max * 2) return i + 1;
    }
  }
  return null;
}

/** Keys that appear twice in one mapping, found in one pass over the document (no recursion). */
function duplicateKeys(root: Node | null): SubjectDiagnostic[] {
  const out: SubjectDiagnostic[] = [];
  const stack: (Node | null | undefined)[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const it of node.items) {
        const k = isScalar(it.key) ? it.key.value : undefined;
        if (k !== undefined) {
          if (seen.has(k) && it.key && (it.key as Node).range) {
            const r = (it.key as Node).range!;
            out.push({
              start: r[0],
              end: Math.max(r[1], r[0] + 1),
              severity: 'error',
              message: `YAML: Map keys must be unique ("${String(k)}" appears more than once)`,
              field: '',
              code: 'DUPLICATE_KEY',
            });
          }
          seen.add(k);
        }
        stack.push(it.value as Node | null);
      }
    } else if (isSeq(node)) for (const it of node.items) stack.push(it as Node);
  }
  return out;
}

/** At most MAX_DIAGNOSTICS, then one that says how many more there are. */
function capped(diagnostics: SubjectDiagnostic[]): SubjectDiagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS) return diagnostics;
  const shown = diagnostics.slice(0, MAX_DIAGNOSTICS);
  const next = diagnostics[MAX_DIAGNOSTICS]!;
  shown.push({
    start: next.start,
    end: next.end,
    severity: 'warning',
    message: `${diagnostics.length - MAX_DIAGNOSTICS} more problem(s) in this file are not shown (the first ${MAX_DIAGNOSTICS} are)`,
    field: '',
    code: 'too-many',
  });
  return shown;
}

/** Drops ajv's follow-on errors (oneOf branches, "must match a schema in oneOf") in favour of one clear one. */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.schemaPath.includes('/oneOf/')) continue;
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(e);
    }
  }
  return out;
}

function toDiagnostic(e: ErrorObject, rangeOf: ParsedSubject['rangeOf']): SubjectDiagnostic {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
  const field = path.join('.');
  const where = field || 'the file';
  let message: string;
  let range = rangeOf(path);
  switch (e.keyword) {
    case 'required':
      message = `${where}: missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
      range = path.length ? rangeOf(path, 'key') : { start: 0, end: 0 };
      break;
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(propertiesAt(path) ?? {});
      const near = closest(extra, allowed);
      message = `${field ? `${field}.` : ''}${extra}: unknown field${near ? ` (did you mean "${near}"?)` : allowed.length ? ` (known: ${allowed.join(', ')})` : ''}`;
      range = rangeOf([...path, extra], 'key');
      break;
    }
    case 'enum':
      message = `${where}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'pattern':
      message =
        field === 'name'
          ? 'name: use letters, digits, "_" or "-", starting with a letter (at most 32), e.g. "bo"'
          : `${where}: ${e.message}`;
      break;
    case 'oneOf':
      message = `${where}: must be a folder or glob, or a list of them`;
      break;
    default:
      message = `${where}: ${e.message}`;
  }
  return { ...range, severity: 'error', message, field, code: `schema.${e.keyword}` };
}

function propertiesAt(path: (string | number)[]): Record<string, unknown> | undefined {
  let s = schema as Record<string, unknown>;
  for (const p of path) {
    const props = s['properties'] as Record<string, Record<string, unknown>> | undefined;
    if (!props || typeof p !== 'string' || !props[p]) return undefined;
    s = props[p]!;
  }
  return s['properties'] as Record<string, unknown> | undefined;
}

/** The allowed name nearest to a typo (edit distance ≤ 2), if any. */
function closest(word: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      best = o;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function findRange(
  doc: Document,
  path: (string | number)[],
  part: 'key' | 'value',
  textLength: number,
): { start: number; end: number } {
  let node: Node | null = doc.contents as Node | null;
  let pair: Pair | null = null;
  for (const p of path) {
    if (isMap(node)) {
      const found = node.items.find((it) => isScalar(it.key) && it.key.value === p) as Pair | undefined;
      if (!found) break;
      pair = found;
      node = found.value as Node | null;
    } else if (isSeq(node) && typeof p === 'number') {
      pair = null;
      node = (node.items[p] as Node | undefined) ?? null;
    } else break;
  }
  const target = part === 'key' && pair ? (pair.key as Node) : (node ?? (pair?.key as Node | undefined));
  const r = target?.range;
  if (!r) return { start: 0, end: Math.min(1, textLength) };
  return { start: r[0], end: Math.max(r[1], r[0] + 1) };
}

/** 1-based line and column of an offset. */
export function lineColumn(parsed: ParsedSubject, offset: number): { line: number; column: number } {
  const p = parsed.lineCounter.linePos(offset);
  return { line: p.line, column: p.col };
}

/** `file:line:column: message`, the CLI's and CI's format. */
export function formatDiagnostic(file: string, parsed: ParsedSubject, d: SubjectDiagnostic): string {
  const { line, column } = lineColumn(parsed, d.start);
  return `${file}:${line}:${column}: ${d.severity}: ${d.message}`;
}
