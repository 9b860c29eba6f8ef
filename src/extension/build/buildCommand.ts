// "Cilium Custom: Build Custom Program": builds the active header and publishes clang's diagnostics. The result stays
// findable: on the status item of the header's editor (verify/results.ts), in Problems, and in the log.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { buildHeader, BuildResult } from '../../core/build/build';
import { formatDiagnostic, type ClangDiagnostic } from '../../core/build/clangDiagnostics';
import type { CiliumCustomContext } from '../context';
import { publishBuildDiagnostics } from '../diagnostics';
import { resolveHeader } from '../headerArgument';

export async function buildCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<BuildResult | undefined> {
  const headerPath = await resolveHeader(arg, ctx.results.recentHeader);
  if (!headerPath) return undefined;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Building ${vscode.workspace.asRelativePath(headerPath)}`, cancellable: true },
    (_progress, token) => runBuild(ctx, headerPath, token),
  );
  if (result.ok) {
    // The status item says so while the header's editor is active; when it shows something else, a short note.
    if (ctx.results.status.header !== headerPath) {
      const warnings = result.diagnostics.length;
      void vscode.window.setStatusBarMessage(`$(check) Built ${path.basename(result.objectPath)}${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}`, 5000);
    }
  } else if (!result.cancelled) {
    const actions = result.diagnostics.some((d) => d.severity === 'error') ? ['Show Problems', 'Show Output'] : ['Show Output'];
    void vscode.window.showErrorMessage(`Cilium Custom: ${result.failure ?? 'build failed'}`, ...actions).then((choice) => {
      if (choice === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
      else if (choice) ctx.log.show();
    });
  }
  return result;
}

/** The build every feature uses (verify builds first): logs, honours cancellation, publishes diagnostics. */
export async function runBuild(ctx: CiliumCustomContext, headerPath: string, token?: vscode.CancellationToken): Promise<BuildResult> {
  const abort = new AbortController();
  const cancellation = token?.onCancellationRequested(() => abort.abort());
  try {
    ctx.log.info(`build ${headerPath}`);
    const result = await buildHeader({
      headerPath,
      ...ctx.config.buildSettings(ctx.bundledSdkDir),
      signal: abort.signal,
      onOutput: (chunk) => ctx.log.output(chunk),
    });
    if (result.argv) ctx.log.info(`$ ${result.argv.map((a) => JSON.stringify(a)).join(' ')}  (in ${result.makeDir?.dir}, ${result.makeDir?.source})`);
    logClangDiagnostics(ctx, result.diagnostics);
    if (result.ok) ctx.log.info(`built ${result.objectPath} in ${result.durationMs} ms`);
    else if (result.cancelled) ctx.log.info('build cancelled');
    else ctx.log.error(`${result.failure ?? 'build failed'}${result.fix ? ` ${result.fix}` : ''}`);
    if (!result.cancelled) {
      publishBuildDiagnostics(ctx.buildDiagnostics, headerPath, result.diagnostics);
      ctx.results.recordBuild(headerPath, result);
    }
    return result;
  } finally {
    cancellation?.dispose();
  }
}

/** clang's errors as errors in the log, its warnings as warnings. */
export function logClangDiagnostics(ctx: CiliumCustomContext, diagnostics: readonly ClangDiagnostic[]): void {
  for (const d of diagnostics) {
    if (d.severity === 'error') ctx.log.error(formatDiagnostic(d));
    else ctx.log.warn(formatDiagnostic(d));
  }
}
