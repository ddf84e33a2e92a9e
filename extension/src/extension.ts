// The VS Code side: starts the language server over IPC and talks to it only through LSP and the
// messages in protocol.ts. The server validates, trains on save, and keeps the model warm for chat and
// recognition; this side shows it: status bar, commands, panels, Explorer decorations.
import * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  ChatDeltaNotification,
  JobStateNotification,
  ValidatedNotification,
  type ChatDeltaParams,
  type JobStateParams,
  type ValidatedParams,
} from '../../server/src/protocol';
import { registerCommands } from './commands';
import { RecognitionDecorations } from './decorations';
import { JobNotifications } from './job-notifications';
import { Panels } from './panel';
import { StatusBar } from './status-bar';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverModule = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: {
      module: serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', '--inspect=6010'] },
    },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'yollava-subject' }],
    synchronize: { configurationSection: 'yollava' },
    outputChannelName: 'yollava',
    // In Restricted Mode the server validates but reads nothing from model folders the workspace names.
    initializationOptions: { trusted: vscode.workspace.isTrusted },
  };
  const status = new StatusBar();
  const decorations = new RecognitionDecorations();
  const names = new Map<string, string>();
  const panels = new Panels(
    context,
    () => client!,
    decorations,
    (uri) => names.get(uri),
  );
  const notifications = new JobNotifications(() => client!);
  context.subscriptions.push(status, decorations, panels);

  const start = async (): Promise<void> => {
    client = new LanguageClient('yollava', 'yollava', serverOptions, clientOptions);
    client.onNotification(ValidatedNotification, (p: ValidatedParams) => {
      if (p.name) names.set(p.uri, p.name);
      status.update(p);
    });
    client.onNotification(JobStateNotification, (p: JobStateParams) => {
      status.job(p);
      panels.onJobState(p);
      notifications.onJobState(p);
    });
    client.onNotification(ChatDeltaNotification, (p: ChatDeltaParams) => panels.onChatDelta(p));
    await client.start();
  };

  context.subscriptions.push(vscode.window.onDidChangeActiveTextEditor(() => status.refresh()));
  registerCommands(context, () => client!, panels);
  // Trust granted later: restart the server so that it may read the workspace's model folders.
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(async () => {
      if (!client) return;
      clientOptions.initializationOptions = { trusted: true };
      await client.stop();
      await start();
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
