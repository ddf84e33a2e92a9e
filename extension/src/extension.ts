// The VS Code side: starts the language server over IPC, shows a status bar item, and offers the
// yollava commands. Heavy work (training, evaluation, recognition, chat) runs in the yollava CLI process,
// so VS Code's extension host never blocks on it.
import * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { ValidatedNotification, type ValidatedParams } from '../../server/src/protocol';
import { registerCommands } from './commands';
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
  client = new LanguageClient('yollava', 'yollava', serverOptions, clientOptions);
  const status = new StatusBar();
  context.subscriptions.push(status);
  client.onNotification(ValidatedNotification, (p: ValidatedParams) => status.update(p));
  context.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor(() =>
      status.showFor(vscode.window.activeTextEditor?.document.uri.toString()),
    ),
  );
  registerCommands(context, status);
  // Trust granted later: restart the server so that it may read the workspace's model folders.
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(async () => {
      if (!client) return;
      clientOptions.initializationOptions = { trusted: true };
      await client.stop();
      client = new LanguageClient('yollava', 'yollava', serverOptions, clientOptions);
      client.onNotification(ValidatedNotification, (p: ValidatedParams) => status.update(p));
      await client.start();
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
