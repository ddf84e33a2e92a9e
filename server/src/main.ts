// The language server's entry: a connection over the transport the client chose (--node-ipc from VS Code,
// --stdio from other clients and tests), handed to the transport-agnostic server. stdout is the protocol
// channel in stdio mode, so nothing here prints.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

startServer(createConnection(ProposedFeatures.all));
