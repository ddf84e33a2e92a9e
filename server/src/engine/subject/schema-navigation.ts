// Where the cursor is in a subject file, in schema terms: on a key (and under which parent) or on a value
// (of which field). Line-based, so it also works while the document does not parse.
import schema from '../../../../schemas/subject.schema.json';

export type CursorContext =
  | { kind: 'key'; parent: string[]; prefix: string }
  | { kind: 'value'; path: string[]; prefix: string; inList: boolean };

export type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  description?: string;
  enum?: string[];
  type?: string;
  $ref?: string;
  items?: SchemaNode;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};

export function schemaAt(path: string[]): SchemaNode | undefined {
  let node = schema as SchemaNode;
  for (const p of path) {
    const next = node.properties?.[p];
    if (!next) return undefined;
    node = next;
  }
  return node;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** The chain of keys enclosing a line with the given indentation, read from the lines above. */
function parentKeys(lines: string[], lineNo: number, indent: number): string[] {
  const chain: string[] = [];
  let want = indent;
  for (let i = lineNo - 1; i >= 0 && want > 0; i--) {
    const l = lines[i]!;
    if (!l.trim() || l.trimStart().startsWith('#')) continue;
    const ind = indentOf(l);
    const m = /^\s*([A-Za-z][\w-]*):\s*$/.exec(l);
    if (ind < want && m) {
      chain.unshift(m[1]!);
      want = ind;
    } else if (ind < want) want = ind;
  }
  return chain;
}

export function cursorContext(text: string, offset: number): CursorContext {
  const before = text.slice(0, offset);
  const lines = text.split('\n');
  const lineNo = before.split('\n').length - 1;
  const lineStart = before.lastIndexOf('\n') + 1;
  const head = text.slice(lineStart, offset);
  const kv = /^(\s*)(?:-\s+)?([A-Za-z][\w-]*):\s*(.*)$/.exec(head);
  if (kv) {
    const parent = parentKeys(lines, lineNo, kv[1]!.length);
    const value = kv[3]!;
    const inList = value.startsWith('[');
    const prefix = value.replace(/^\[/, '').split(',').pop()!.trim().replace(/^["']/, '');
    return { kind: 'value', path: [...parent, kv[2]!], prefix, inList };
  }
  const item = /^(\s*)-\s*(.*)$/.exec(head);
  if (item) {
    // A list item: the key that owns the list is the nearest less-indented "key:" line.
    const parent = parentKeys(lines, lineNo, item[1]!.length + 1);
    return { kind: 'value', path: parent, prefix: item[2]!.trim(), inList: true };
  }
  const key = /^(\s*)([\w-]*)$/.exec(head);
  return {
    kind: 'key',
    parent: parentKeys(lines, lineNo, key ? key[1]!.length : indentOf(head)),
    prefix: key ? key[2]! : '',
  };
}

/** The key on this line and its path, for hover. */
export function keyAtLine(
  text: string,
  offset: number,
): { path: string[]; start: number; end: number } | null {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset) < 0 ? text.length : text.indexOf('\n', offset);
  const line = text.slice(lineStart, lineEnd);
  const m = /^(\s*)(?:-\s+)?([A-Za-z][\w-]*):/.exec(line);
  if (!m) return null;
  const lines = text.split('\n');
  const lineNo = text.slice(0, lineStart).split('\n').length - 1;
  const keyStart = lineStart + line.indexOf(m[2]!, m[1]!.length);
  return {
    path: [...parentKeys(lines, lineNo, m[1]!.length), m[2]!],
    start: keyStart,
    end: keyStart + m[2]!.length,
  };
}

/** Fields whose values are folders (or globs) relative to the subject file. */
export function isFolderField(path: string[]): boolean {
  const p = path.join('.');
  return p === 'images.train' || p === 'images.test' || p === 'negatives.pools' || p === 'model';
}
