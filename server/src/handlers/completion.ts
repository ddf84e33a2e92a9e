// Completion from the schema (keys not yet present, enum values) and for folder paths.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CompletionItemKind, type CompletionItem } from 'vscode-languageserver';
import { cursorContext, isFolderField, schemaAt, type SchemaNode } from '../engine';

export function completions(text: string, offset: number, file: string): CompletionItem[] {
  const ctx = cursorContext(text, offset);
  if (ctx.kind === 'key') {
    const node = schemaAt(ctx.parent);
    const present = presentKeys(text, offset);
    return Object.entries(node?.properties ?? {})
      .filter(([k]) => !present.has(k))
      .map(([k, s]) => ({
        label: k,
        kind: CompletionItemKind.Property,
        detail: s.default !== undefined ? `default ${JSON.stringify(s.default)}` : undefined,
        documentation: s.description,
        insertText: s.properties ? `${k}:\n  ` : `${k}: `,
      }));
  }
  const node = schemaAt(ctx.path);
  if (node?.enum)
    return node.enum.map((e, i) => ({
      label: e,
      kind: CompletionItemKind.EnumMember,
      detail: e === node.default ? 'default' : undefined,
      documentation: node.description,
      // The default first.
      sortText: `${e === node.default ? 0 : 1}${String(i).padStart(3, '0')}`,
      preselect: e === node.default,
    }));
  if (node && (node.type === 'integer' || node.type === 'number')) return numberCompletions(node);
  if (node?.type === 'boolean')
    return ['true', 'false'].map((b) => ({
      label: b,
      kind: CompletionItemKind.Value,
      detail: String(node.default) === b ? 'default' : undefined,
      documentation: node.description,
    }));
  if (isFolderField(ctx.path)) return folderCompletions(path.dirname(file), ctx.prefix);
  return [];
}

/** A number field: its default, and its allowed range in the detail. */
function numberCompletions(node: SchemaNode): CompletionItem[] {
  const low =
    node.minimum !== undefined
      ? `≥ ${node.minimum}`
      : node.exclusiveMinimum !== undefined
        ? `> ${node.exclusiveMinimum}`
        : '';
  const high = node.maximum !== undefined ? `≤ ${node.maximum}` : '';
  const range = [low, high].filter(Boolean).join(', ');
  const kind = node.type === 'integer' ? 'an integer' : 'a number';
  const detail = `${kind}${range ? ` ${range}` : ''}`;
  if (node.default === undefined)
    return [
      { label: detail, kind: CompletionItemKind.Text, insertText: '', documentation: node.description },
    ];
  return [
    {
      label: String(node.default),
      kind: CompletionItemKind.Value,
      detail: `default · ${detail}`,
      documentation: node.description,
      preselect: true,
    },
  ];
}

/** Keys already written at the cursor's indentation level, so they are not offered again. */
function presentKeys(text: string, offset: number): Set<string> {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const indent = text.slice(lineStart, offset).length - text.slice(lineStart, offset).trimStart().length;
  const keys = new Set<string>();
  const lines = text.split('\n');
  const lineNo = text.slice(0, lineStart).split('\n').length - 1;
  for (const dir of [-1, 1]) {
    for (let i = lineNo + dir; i >= 0 && i < lines.length; i += dir) {
      const l = lines[i]!;
      if (!l.trim()) continue;
      const ind = l.length - l.trimStart().length;
      if (ind < indent) break;
      const m = /^\s*([A-Za-z][\w-]*):/.exec(l);
      if (ind === indent && m) keys.add(m[1]!);
    }
  }
  return keys;
}

function folderCompletions(baseDir: string, prefix: string): CompletionItem[] {
  const typed = prefix.replace(/["']/g, '');
  const dirPart = typed.includes('/') ? typed.slice(0, typed.lastIndexOf('/') + 1) : '';
  const abs = path.resolve(baseDir, dirPart || '.');
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .filter((n) => {
      try {
        return statSync(path.join(abs, n)).isDirectory();
      } catch {
        return false;
      }
    })
    .slice(0, 200)
    .map((n) => ({ label: `${dirPart}${n}`, kind: CompletionItemKind.Folder, insertText: `${dirPart}${n}` }));
}
