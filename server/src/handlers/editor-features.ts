// The editing features of a subject file: completion, hover, links, inlay hints, quick fixes and the
// CodeLens. Each handler finds the document and its last validation, then calls a pure function.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CodeActionKind, InlayHintKind, type CodeAction } from 'vscode-languageserver';
import type { ServerContext } from '../context';
import { Commands } from '../protocol';
import type { Validation } from '../validation';
import { subjectLenses } from './code-lens';
import { completions } from './completion';
import { hover } from './hover';
import { pathSpans } from '../engine';
import { imageCountHints, linkTargets } from './links-and-hints';
import { registerNegativePools } from './negative-pools';

export function registerEditorFeatures(ctx: ServerContext, validation: Validation): void {
  const { connection, documents, states } = ctx;
  registerNegativePools(ctx);

  connection.onCompletion((p) => {
    const doc = documents.get(p.textDocument.uri);
    return doc ? completions(doc.getText(), doc.offsetAt(p.position), ctx.fileOf(doc.uri)) : [];
  });

  connection.onHover(async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    const r = await hover(
      doc.getText(),
      doc.offsetAt(p.position),
      states.get(doc.uri)?.summary.images ?? new Map(),
      ctx.jobs.lastRecognition(ctx.fileOf(doc.uri)),
      ctx.fileOf(doc.uri),
      (f) => ctx.mayTouch(f),
    );
    return r ? { ...r.hover, range: { start: doc.positionAt(r.start), end: doc.positionAt(r.end) } } : null;
  });

  connection.onDocumentLinks((p) => {
    const doc = documents.get(p.textDocument.uri);
    const st = doc && states.get(doc.uri);
    if (!doc || !st) return [];
    return linkTargets(pathSpans(st.parsed, ctx.fileOf(doc.uri))).map((l) => ({
      range: { start: doc.positionAt(l.start), end: doc.positionAt(l.end) },
      target: l.target,
    }));
  });

  // CodeLens and inlay hints are asked for once when a file opens, often before its first validation
  // ends: they wait for it, or the editor would show nothing until the next edit.
  connection.languages.inlayHint.on(async (p) => {
    await validation.idle(p.textDocument.uri);
    const doc = documents.get(p.textDocument.uri);
    const st = doc && states.get(doc.uri);
    if (!doc || !st) return [];
    return imageCountHints(st.parsed, st.summary.images).map((h) => ({
      position: doc.positionAt(h.offset),
      label: h.label,
      kind: InlayHintKind.Parameter,
      paddingLeft: true,
    }));
  });

  connection.onCodeLens(async (p) => {
    await validation.idle(p.textDocument.uri);
    const doc = documents.get(p.textDocument.uri);
    const st = doc && states.get(doc.uri);
    if (!doc || !st) return [];
    const file = ctx.fileOf(doc.uri);
    const job = ctx.jobs.stateOf('train', file);
    const photos = ['images.train', 'images.test'].flatMap((f) => st.summary.images.get(f) ?? []);
    return subjectLenses({
      file,
      name: typeof st.parsed.value?.name === 'string' ? st.parsed.value.name : undefined,
      nameOffset: st.parsed.rangeOf(['name'], 'key').start,
      job: job === 'queued' || job === 'running' ? job : undefined,
      run: ctx.jobs.lastRun(doc.uri),
      inputs: [file, ...photos],
      now: Date.now(),
      autoSavedUntrained: ctx.autoSavedUntrained.has(doc.uri),
    }).map((l) => ({
      range: { start: doc.positionAt(l.offset), end: doc.positionAt(l.offset) },
      command: { title: l.title, command: l.command, arguments: l.command ? [doc.uri] : undefined },
    }));
  });

  connection.onCodeAction((p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const actions: CodeAction[] = [];
    for (const d of p.context.diagnostics) {
      const data = d.data as { folder?: string; suggestion?: string } | undefined;
      // Only inside the workspace: a subject file from elsewhere must not make the editor create folders
      // wherever its paths point.
      if (d.code === 'missing-folder' && data?.folder && ctx.insideWorkspace(data.folder)) {
        actions.push({
          title: `Create folder ${path.relative(path.dirname(ctx.fileOf(doc.uri)), data.folder)}`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          command: {
            title: 'Create folder',
            command: Commands.createFolder,
            arguments: [data.folder, doc.uri],
          },
        });
      }
      if ((d.code === 'name-collision' || d.code === 'name-in-vocabulary') && data?.suggestion) {
        actions.push({
          title: `Rename to "${data.suggestion}"`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          isPreferred: true,
          edit: { changes: { [doc.uri]: [{ range: d.range, newText: data.suggestion }] } },
        });
      }
    }
    return actions;
  });

  connection.onExecuteCommand(async (p) => {
    if (p.command === Commands.createFolder) {
      const [folder, uri] = (p.arguments ?? []) as [string, string];
      if (typeof folder !== 'string' || !ctx.insideWorkspace(folder)) {
        void connection.window.showWarningMessage(
          `yollava: not creating ${String(folder)}: it is outside the workspace`,
        );
        return;
      }
      await mkdir(folder, { recursive: true });
      const doc = uri ? documents.get(uri) : undefined;
      if (doc) validation.schedule(doc, 0);
    }
  });
}
