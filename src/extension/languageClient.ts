// Starts the language server (dist/server.js, node IPC) once a custom-program source is open (the same test the
// server uses to decide what it speaks about), so that editing other C costs no server process. The client then
// lives as long as the extension context, and follows the ciliumCustom.languageServer.enabled setting.
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { isCustomProgramDocument } from '../shared/customProgramScope';
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
      documentSelector: [
        { scheme: 'file', language: 'c' },
        { scheme: 'file', language: 'cpp', pattern: '**/*.h' },
      ],
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
    if (client || !enabled() || !isCSource(document)) return;
    if (isCustomProgramDocument(document.fileName, document.getText())) void start();
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
  // A file may become a custom program as it is typed (custom_prog appears).
  ctx.own(vscode.workspace.onDidChangeTextDocument((e) => startFor(e.document)));
  startForOpenDocuments();
}

/** The documents the client's selector covers: C files, and headers VS Code took for C++. */
function isCSource(document: vscode.TextDocument): boolean {
  if (document.uri.scheme !== 'file') return false;
  return document.languageId === 'c' || (document.languageId === 'cpp' && document.fileName.endsWith('.h'));
}
