// Entry point of the language server (bundled as dist/server.js, started by the extension over node IPC).
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

startServer(createConnection(ProposedFeatures.all));
