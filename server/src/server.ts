// The language server for *.subject.yaml, independent of its transport: main.ts hands it a connection
// (IPC from VS Code, stdio from tests and other editors). This file only wires the parts together:
// validation.ts checks files as they change, handlers/editor-features.ts answers the editing requests,
// handlers/jobs.ts runs training, evaluation, recognition and chat.
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver';
import { ServerContext } from './context';
import type { ImageCheckCache } from './engine';
import { registerEditorFeatures } from './handlers/editor-features';
import { registerJobs } from './handlers/jobs';
import { Commands } from './protocol';
import { Validation } from './validation';

export interface ServerHandle {
  /** Resolves when no validation is pending (tests, benchmarks). */
  idle(): Promise<void>;
  readonly imageCache: ImageCheckCache;
}

export function startServer(connection: Connection): ServerHandle {
  const ctx = new ServerContext(connection);
  const validation = new Validation(ctx);
  registerEditorFeatures(ctx, validation);
  registerJobs(ctx, validation);

  connection.onInitialize((params): InitializeResult => {
    ctx.roots = (params.workspaceFolders ?? []).map((f) => fileURLToPath(f.uri));
    if (!ctx.roots.length && params.rootUri) ctx.roots = [fileURLToPath(params.rootUri)];
    ctx.trusted = (params.initializationOptions as { trusted?: boolean } | undefined)?.trusted !== false;
    ctx.capabilities = params.capabilities;
    return {
      capabilities: {
        textDocumentSync: {
          openClose: true,
          change: TextDocumentSyncKind.Incremental,
          // willSave tells a hand save from an auto-save: only hand saves train.
          willSave: true,
          save: { includeText: false },
        },
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
    await ctx.index.scan(ctx.roots);
    connection.console.info(
      `yollava: ${ctx.index.byName().size} subject(s) in ${ctx.roots.join(', ') || 'no workspace folder'}`,
    );
    validation.all();
  });

  connection.onDidChangeConfiguration(async () => {
    await ctx.jobs.settingsChanged();
    validation.all();
  });

  connection.onShutdown(async () => {
    await ctx.jobs.close();
    await validation.close();
  });

  ctx.documents.listen(connection);
  connection.listen();

  return {
    imageCache: ctx.imageCache,
    idle: () => validation.idle(),
  };
}
