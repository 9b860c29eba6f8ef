// Entry point: builds the context object and lets each feature register itself with it.
import * as vscode from 'vscode';
import { registerTaskProvider } from './build/taskProvider';
import { registerCommands } from './commands';
import { registerCompileCommandsOffer } from './compileCommands';
import { CiliumCustomContext } from './context';
import { registerLanguageClient } from './languageClient';
import { registerVerifierLogLanguage } from './verifierLog/register';
import type { Views } from './views/views';

/** What the extension exports: its views, so that tests (and other extensions) can read what they show. */
export interface CiliumCustomApi {
  views: Views;
}

let current: CiliumCustomContext | undefined;

export function activate(extension: vscode.ExtensionContext): CiliumCustomApi {
  const ctx = new CiliumCustomContext(extension);
  extension.subscriptions.push(ctx);
  registerCommands(ctx);
  registerCompileCommandsOffer(ctx);
  registerTaskProvider(ctx);
  registerVerifierLogLanguage(ctx);
  registerLanguageClient(ctx);
  ctx.log.info(`activated (bundled SDK: ${ctx.bundledSdkDir})`);
  current = ctx;
  return { views: ctx.views };
}

export function deactivate(): void {
  current?.dispose();
  current = undefined;
}
