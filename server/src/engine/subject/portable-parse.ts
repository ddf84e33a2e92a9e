// A parsed subject file as plain data, so that parsing can run on another thread (the language server
// parses off its message loop) and the result crosses over by structured clone. The ranges of every
// field the schema knows, and of their list items, are looked up once on the parsing side; a path that
// is not in the table gets the range of its nearest ancestor that is, as the parser's own lookup does.
import { lineCounterFor } from './line-counter';
import schema from '../../../../schemas/subject.schema.json';
import { parseSubject, type ParsedSubject, type SubjectDiagnostic, type SubjectFile } from './subject-file';

type Range = { start: number; end: number };

export interface PortableParse {
  value: SubjectFile | null;
  diagnostics: SubjectDiagnostic[];
  /** Path (joined by "\u0000") → [key range, value range]. */
  ranges: Record<string, [Range, Range]>;
}

/** List items whose ranges are kept, per list. */
const MAX_ITEMS = 1000;

interface SchemaLike {
  properties?: Record<string, SchemaLike>;
}

function schemaPaths(node: SchemaLike, prefix: string[], out: string[][]): void {
  for (const [k, child] of Object.entries(node.properties ?? {})) {
    const p = [...prefix, k];
    out.push(p);
    schemaPaths(child, p, out);
  }
}

const SCHEMA_PATHS: string[][] = [];
schemaPaths(schema as SchemaLike, [], SCHEMA_PATHS);

const key = (path: (string | number)[]): string => path.join('\u0000');

export function toPortable(parsed: ParsedSubject): PortableParse {
  const ranges: PortableParse['ranges'] = {};
  const add = (path: (string | number)[]): void => {
    ranges[key(path)] = [parsed.rangeOf(path, 'key'), parsed.rangeOf(path, 'value')];
  };
  add([]);
  for (const p of SCHEMA_PATHS) {
    add(p);
    let v: unknown = parsed.value;
    for (const k of p) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (Array.isArray(v)) for (let i = 0; i < Math.min(v.length, MAX_ITEMS); i++) add([...p, i]);
  }
  return { value: parsed.value, diagnostics: parsed.diagnostics, ranges };
}

export function fromPortable(text: string, p: PortableParse): ParsedSubject {
  const lineCounter = lineCounterFor(text);
  return {
    text,
    value: p.value,
    diagnostics: p.diagnostics,
    lineCounter,
    rangeOf(path, part = 'value') {
      for (let n = path.length; n >= 0; n--) {
        const r = p.ranges[key(path.slice(0, n))];
        // The path itself: its key or value; an ancestor stands in with its value's range, as findRange does.
        if (r) return n === path.length ? r[part === 'key' ? 0 : 1] : r[1];
      }
      return { start: 0, end: Math.min(1, text.length) };
    },
  };
}

/** Parses and makes portable in one step (the parsing thread's whole job). */
export function parsePortable(text: string): PortableParse {
  return toPortable(parseSubject(text));
}
