// The language server's entry: a connection over the transport the client chose (--node-ipc from VS Code,
// --stdio from other clients and tests), handed to the transport-agnostic server. stdout is the protocol
// channel in stdio mode, so nothing here prints.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

const connection = createConnection(ProposedFeatures.all);
// One forgotten promise must not take the editor's validation down with it: log it and carry on.
process.on('unhandledRejection', (e) =>
  connection.console.error(`yollava: unhandled rejection: ${(e as Error)?.stack ?? String(e)}`),
);
startServer(connection);
