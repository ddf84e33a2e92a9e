// The language server for *.subject.yaml, independent of its transport: main.ts hands it a connection
// (IPC from VS Code, stdio from tests and other editors). Handlers find the document, read settings and
// call pure functions in subject/ and handlers/.
import { defaultModelDir } from './engine/toyworld/default-model';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  DiagnosticSeverity,
  InlayHintKind,
  TextDocumentSyncKind,
  TextDocuments,
  type CodeAction,
  type Connection,
  type Diagnostic,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LlavaTokenizer } from './engine/models/llava/tokenizer';
import { subjectLenses } from './handlers/code-lens';
import { completions } from './handlers/completion';
import { hover } from './handlers/hover';
import { imageCountHints, linkTargets, pathSpans } from './handlers/links-and-hints';
import {
  Commands,
  DEFAULT_SETTINGS,
  ValidatedNotification,
  type ValidatedParams,
  type YollavaSettings,
} from './protocol';
import { checkDataset, type DatasetSummary } from './engine/personalize/dataset-checks';
import { FolderWatcher } from './subject/folder-watcher';
import { ImageCheckCache } from './engine/personalize/image-checks';
import { parseSubject, type ParsedSubject, type SubjectDiagnostic } from './engine/personalize/subject-file';
import { SubjectIndex } from './subject/subject-index';

interface DocState {
  version: number;
  parsed: ParsedSubject;
  summary: DatasetSummary;
}

export interface ServerHandle {
  /** Resolves when no validation is pending (tests, benchmarks). */
  idle(): Promise<void>;
  readonly imageCache: ImageCheckCache;
}

const SEVERITY: Record<SubjectDiagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export function startServer(connection: Connection): ServerHandle {
  const documents = new TextDocuments(TextDocument);
  const imageCache = new ImageCheckCache();
  const index = new SubjectIndex();
  const states = new Map<string, DocState>();
  const pending = new Map<string, Promise<void>>();
  const seq = new Map<string, number>();
  let roots: string[] = [];
  /** False in VS Code's Restricted Mode: validate, but load nothing from paths the workspace chose. */
  let trusted = true;
  let canReadConfig = false;
  const tokenizers = new Map<string, LlavaTokenizer | null>();

  const watcher = new FolderWatcher((subjectFiles) => {
    for (const f of subjectFiles) {
      const doc = documents.get(pathToFileURL(f).toString());
      if (doc) schedule(doc, 0);
    }
  });

  const fileOf = (uri: string): string => fileURLToPath(uri);

  async function settings(uri: string): Promise<YollavaSettings> {
    if (!canReadConfig) return DEFAULT_SETTINGS;
    try {
      const s = (await connection.workspace.getConfiguration({
        scopeUri: uri,
        section: 'yollava',
      })) as Partial<YollavaSettings> | null;
      return { ...DEFAULT_SETTINGS, ...(s ?? {}) };
    } catch {
      return DEFAULT_SETTINGS;
    }
  }

  function vocabularyCheck(modelDir: string | undefined): ((w: string) => boolean) | undefined {
    if (!modelDir) return undefined;
    if (!tokenizers.has(modelDir)) {
      try {
        tokenizers.set(modelDir, LlavaTokenizer.load(modelDir));
      } catch (e) {
        connection.console.warn(`yollava: cannot read the tokenizer of ${modelDir}: ${(e as Error).message}`);
        tokenizers.set(modelDir, null);
      }
    }
    const t = tokenizers.get(modelDir);
    return t ? (w) => t.hasToken(w) : undefined;
  }

  async function validate(doc: TextDocument): Promise<void> {
    const mine = (seq.get(doc.uri) ?? 0) + 1;
    seq.set(doc.uri, mine);
    const file = fileOf(doc.uri);
    const text = doc.getText();
    const parsed = parseSubject(text);
    if (index.update(file, text)) {
      for (const other of documents.all()) if (other.uri !== doc.uri) schedule(other);
    }
    const s = await settings(doc.uri);
    // In Restricted Mode nothing is read from a model folder the workspace chose: only the embedded one.
    const modelPath = !trusted
      ? defaultModelDir()
      : parsed.value?.model
        ? path.resolve(path.dirname(file), parsed.value.model)
        : s.modelPath
          ? path.resolve(roots[0] ?? path.dirname(file), s.modelPath)
          : defaultModelDir();
    // The dataset is checked whenever the YAML parsed (checkDataset gives nothing otherwise), schema
    // errors or not: a typo in one field should not hide a missing folder in another.
    let dataset: Awaited<ReturnType<typeof checkDataset>> = {
      diagnostics: [],
      summary: { images: new Map(), checks: new Map() },
    };
    try {
      dataset = await checkDataset(file, parsed, {
        cache: imageCache,
        otherNames: index.byName(),
        isVocabularyWord: vocabularyCheck(modelPath),
        workspaceRoots: roots.length ? roots : undefined,
      });
    } catch (e) {
      connection.console.error(`yollava: dataset check of ${file} failed: ${(e as Error).stack ?? e}`);
    }
    if (seq.get(doc.uri) !== mine) return; // a newer edit is being validated
    states.set(doc.uri, { version: doc.version, parsed, summary: dataset.summary });
    const all = [...parsed.diagnostics, ...dataset.diagnostics];
    const diagnostics: Diagnostic[] = all.map((d) => ({
      range: { start: doc.positionAt(d.start), end: doc.positionAt(d.end) },
      severity: SEVERITY[d.severity],
      message: d.message,
      source: 'yollava',
      code: d.code,
      data: (d as SubjectDiagnostic & { data?: unknown }).data,
    }));
    await connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
    const images: Record<string, number> = {};
    for (const [k, v] of dataset.summary.images)
      images[k] = v.filter((f) => dataset.summary.checks.get(f)?.ok).length;
    const params: ValidatedParams = {
      uri: doc.uri,
      name: typeof parsed.value?.name === 'string' ? parsed.value.name : undefined,
      errors: all.filter((d) => d.severity === 'error').length,
      warnings: all.filter((d) => d.severity === 'warning').length,
      images,
    };
    await connection.sendNotification(ValidatedNotification, params);
    const folders = pathSpans(parsed, file)
      .filter((p) => p.field !== 'model')
      .map((p) => p.target);
    await watcher.setFolders(file, folders);
  }

  const timers = new Map<string, NodeJS.Timeout>();
  function schedule(doc: TextDocument, delayMs = 30): void {
    clearTimeout(timers.get(doc.uri));
    const run = (): void => {
      timers.delete(doc.uri);
      const p = validate(doc).catch((e: Error) =>
        connection.console.error(`yollava: validation failed: ${e.stack ?? e}`),
      );
      pending.set(doc.uri, p);
      void p.finally(() => pending.get(doc.uri) === p && pending.delete(doc.uri));
    };
    if (delayMs === 0) run();
    else timers.set(doc.uri, setTimeout(run, delayMs));
  }

  connection.onInitialize((params): InitializeResult => {
    roots = (params.workspaceFolders ?? []).map((f) => fileURLToPath(f.uri));
    trusted = (params.initializationOptions as { trusted?: boolean } | undefined)?.trusted !== false;
    if (!roots.length && params.rootUri) roots = [fileURLToPath(params.rootUri)];
    canReadConfig = Boolean(params.capabilities.workspace?.configuration);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: [':', ' ', '/', '-'] },
        hoverProvider: true,
        documentLinkProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        inlayHintProvider: true,
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: [Commands.createFolder] },
      },
      serverInfo: { name: 'yollava', version: '0.1.0' },
    };
  });

  connection.onInitialized(async () => {
    await index.scan(roots);
    connection.console.info(
      `yollava: ${index.byName().size} subject(s) in ${roots.join(', ') || 'no workspace folder'}`,
    );
    for (const d of documents.all()) schedule(d, 0);
  });

  connection.onDidChangeConfiguration(() => {
    tokenizers.clear();
    for (const d of documents.all()) schedule(d, 0);
  });

  documents.onDidOpen((e) => schedule(e.document, 0));
  documents.onDidChangeContent((e) => schedule(e.document));
  documents.onDidClose(async (e) => {
    clearTimeout(timers.get(e.document.uri));
    // The index goes back to what is on disk (the editor may have held unsaved changes).
    const file = fileOf(e.document.uri);
    const changed = existsSync(file)
      ? index.update(file, readFileSync(file, 'utf8'))
      : (index.remove(file), true);
    if (changed) for (const other of documents.all()) if (other.uri !== e.document.uri) schedule(other);
    states.delete(e.document.uri);
    await watcher.forget(fileOf(e.document.uri));
    await connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onCompletion((p) => {
    const doc = documents.get(p.textDocument.uri);
    return doc ? completions(doc.getText(), doc.offsetAt(p.position), fileOf(doc.uri)) : [];
  });

  connection.onHover(async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    const r = await hover(
      doc.getText(),
      doc.offsetAt(p.position),
      states.get(doc.uri)?.summary.images ?? new Map(),
    );
    return r ? { ...r.hover, range: { start: doc.positionAt(r.start), end: doc.positionAt(r.end) } } : null;
  });

  connection.onDocumentLinks((p) => {
    const doc = documents.get(p.textDocument.uri);
    const st = doc && states.get(doc.uri);
    if (!doc || !st) return [];
    return linkTargets(pathSpans(st.parsed, fileOf(doc.uri))).map((l) => ({
      range: { start: doc.positionAt(l.start), end: doc.positionAt(l.end) },
      target: l.target,
    }));
  });

  connection.languages.inlayHint.on((p) => {
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

  connection.onCodeLens((p) => {
    const doc = documents.get(p.textDocument.uri);
    const st = doc && states.get(doc.uri);
    if (!doc || !st) return [];
    const name = typeof st.parsed.value?.name === 'string' ? st.parsed.value.name : undefined;
    return subjectLenses(fileOf(doc.uri), name, st.parsed.rangeOf(['name'], 'key').start).map((l) => ({
      range: { start: doc.positionAt(l.offset), end: doc.positionAt(l.offset) },
      command: { title: l.title, command: l.command },
    }));
  });

  connection.onCodeAction((p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const actions: CodeAction[] = [];
    for (const d of p.context.diagnostics) {
      const data = d.data as { folder?: string; suggestion?: string } | undefined;
      if (d.code === 'missing-folder' && data?.folder) {
        actions.push({
          title: `Create folder ${path.relative(path.dirname(fileOf(doc.uri)), data.folder)}`,
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
      await mkdir(folder, { recursive: true });
      const doc = uri ? documents.get(uri) : undefined;
      if (doc) schedule(doc, 0);
    }
  });

  connection.onShutdown(async () => {
    await watcher.close();
  });

  documents.listen(connection);
  connection.listen();

  return {
    imageCache,
    async idle() {
      for (;;) {
        await new Promise((r) => setTimeout(r, 10));
        if (!timers.size && !pending.size) return;
        await Promise.all([...pending.values()]);
      }
    },
  };
}
