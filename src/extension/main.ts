// Entry point: builds the context object and lets each feature register itself with it.
//
// Activation: the extension activates for C files, for every header VS Code opens as C++ (its default for .h, so a
// folder of headers with no Makefile works), for a workspace holding a landing program or a bpf/custom Makefile, and
// for its views. Activating costs registrations only: nothing runs make, bpftool or ssh, the language server starts
// only once a custom-program source is open (languageClient.ts), and the status items wait until the window has a
// custom program (watchScope). shared/customProgramScope.ts decides what a custom program is.
import * as vscode from 'vscode';
import {
  CUSTOM_PROGRAM_WORKSPACE_MARKERS,
  isCSourceDocument,
  isCustomProgramEditorDocument,
  isCustomProgramSource,
} from '../shared/customProgramScope';
import { registerTaskProvider } from './build/taskProvider';
import { registerCommands } from './commands';
import { registerCompileCommandsOffer } from './compileCommands';
import { CiliumCustomContext } from './context';
import { registerLanguageClient } from './languageClient';
import { registerInsight } from './insight/register';
import { registerKernelMatrix } from './verify/matrixCommand';
import { registerProgTests, type ProgTestsApi } from './testing/register';
import { registerVerifierLogLanguage } from './verifierLog/register';
import type { TargetManager } from './targets/targetManager';
import type { Results } from './verify/results';
import type { Views } from './views/views';

/**
 * What the extension exports: its views, the per-header results (status item, stale marking) and the targets (their
 * picker), so that tests (and other extensions) can read what they show.
 */
export interface CiliumCustomApi {
  views: Views;
  results: Results;
  targets: TargetManager;
  /** Packet test cases in the Testing view (testing/register.ts). */
  progTests: ProgTestsApi;
}

let current: CiliumCustomContext | undefined;

export function activate(extension: vscode.ExtensionContext): CiliumCustomApi {
  const started = Date.now();
  const ctx = new CiliumCustomContext(extension);
  extension.subscriptions.push(ctx);
  registerCommands(ctx);
  registerCompileCommandsOffer(ctx);
  registerTaskProvider(ctx);
  registerVerifierLogLanguage(ctx);
  registerInsight(ctx);
  registerKernelMatrix(ctx);
  const progTests = registerProgTests(ctx);
  registerLanguageClient(ctx);
  watchScope(ctx);
  ctx.log.info(`activated in ${Date.now() - started} ms (bundled SDK: ${ctx.bundledSdkDir})`);
  current = ctx;
  return { views: ctx.views, results: ctx.results, targets: ctx.targets, progTests };
}

export async function deactivate(): Promise<void> {
  const ctx = current;
  current = undefined;
  // Awaited: QEMU VMs and SSH control masters end before the extension host goes (they would die with it anyway,
  // through their parent-death signal and ControlPersist, but not at once).
  await ctx?.disposeAsync();
}

/**
 * Puts the window in scope (ctx.enterScope) once a custom-program source is open, typed or saved, or the workspace
 * holds a marker file; then stops listening, so unrelated C++ work costs nothing more.
 */
function watchScope(ctx: CiliumCustomContext): void {
  if (ctx.inScope) return;
  const listeners: vscode.Disposable[] = [];
  const stop = () => listeners.splice(0).forEach((l) => l.dispose());
  ctx.own({ dispose: stop });
  ctx.whenInScope(stop);
  const consider = (document: vscode.TextDocument) => {
    if (!ctx.inScope && isCustomProgramEditorDocument(document)) ctx.enterScope(vscode.workspace.asRelativePath(document.uri));
  };
  listeners.push(
    vscode.workspace.onDidOpenTextDocument(consider),
    vscode.workspace.onDidSaveTextDocument(consider),
    // While typing only the text can change the answer, and the text test is the cheap one.
    vscode.workspace.onDidChangeTextDocument(({ document }) => {
      if (!ctx.inScope && isCSourceDocument(document) && isCustomProgramSource(document.getText())) ctx.enterScope(vscode.workspace.asRelativePath(document.uri));
    }),
  );
  vscode.workspace.textDocuments.forEach(consider);
  if (ctx.inScope || !vscode.workspace.workspaceFolders?.length) return;
  void vscode.workspace.findFiles(`{${CUSTOM_PROGRAM_WORKSPACE_MARKERS.join(',')}}`, '**/node_modules/**', 1).then(
    (found) => {
      if (found[0]) ctx.enterScope(vscode.workspace.asRelativePath(found[0]));
    },
    () => undefined,
  );
}
