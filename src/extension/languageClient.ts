// Starts the language server (dist/server.js, node IPC) once a custom-program source is open (the same test the
// server uses to decide what it speaks about, shared/customProgramScope.ts), so that editing other C or C++ costs
// no server process. Its documents are C files and headers VS Code opens as C++ (the default for .h); the server
// only speaks about those of them in custom-program scope. The client then lives as long as the extension context,
// and follows the ciliumCustom.languageServer.enabled setting.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';
import {
  CUSTOM_PROGRAM_DOCUMENT_SELECTOR,
  forgetFolder,
  isCSourceDocument,
  isCustomProgramEditorDocument,
  isCustomProgramSource,
} from '../shared/customProgramScope';
import { LANGUAGE_SERVER_SETTING, type ServerInitializationOptions } from '../shared/protocol';
import type { CiliumCustomContext } from './context';

export function registerLanguageClient(ctx: CiliumCustomContext): void {
  let client: LanguageClient | undefined;
  let starting: Promise<void> | undefined;
  const enabled = (): boolean => vscode.workspace.getConfiguration().get<boolean>(LANGUAGE_SERVER_SETTING, true);

  const start = (): Promise<void> => {
    if (client) return starting ?? Promise.resolve();
    const module = ctx.extension.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const initializationOptions: ServerInitializationOptions = { debounceMs: 150 };
    const clientOptions: LanguageClientOptions = {
      documentSelector: CUSTOM_PROGRAM_DOCUMENT_SELECTOR.map((filter) => ({ ...filter })),
      outputChannel: ctx.log.channel,
      initializationOptions,
    };
    const c = new LanguageClient('ciliumCustomLanguageServer', 'Cilium Custom Language Server', serverOptions, clientOptions);
    client = c;
    starting = c.start().then(
      () => ctx.log.info('language server started'),
      (e: unknown) => ctx.log.error(`language server failed to start: ${(e as Error).message}`),
    );
    return starting;
  };

  const stop = async (): Promise<void> => {
    const c = client;
    client = undefined;
    starting = undefined;
    if (!c) return;
    try {
      await c.stop();
    } catch (e) {
      ctx.log.warn(`language server did not stop cleanly: ${(e as Error).message}`);
    }
  };

  const startFor = (document: vscode.TextDocument): void => {
    if (client || !enabled()) return;
    if (isCustomProgramEditorDocument(document)) void start();
  };
  const startForOpenDocuments = () => vscode.workspace.textDocuments.forEach(startFor);

  ctx.own({ dispose: () => void stop() });
  ctx.own(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(LANGUAGE_SERVER_SETTING)) return;
      if (enabled()) startForOpenDocuments();
      else void stop();
    }),
  );
  ctx.own(vscode.workspace.onDidOpenTextDocument(startFor));
  // A file may become a custom program as it is typed (custom_prog appears): only its text can change while typing,
  // and the text test is the cheap one.
  ctx.own(
    vscode.workspace.onDidChangeTextDocument(({ document }) => {
      if (!client && enabled() && isCSourceDocument(document) && isCustomProgramSource(document.getText())) void start();
    }),
  );
  // A saved file (a Makefile, a new custom program) can change its folder's answer for the documents open there.
  ctx.own(
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (client || document.uri.scheme !== 'file') return;
      forgetFolder(path.dirname(document.uri.fsPath));
      startForOpenDocuments();
    }),
  );
  startForOpenDocuments();
}
