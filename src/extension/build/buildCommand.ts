// "Cilium Custom: Build Custom Program": builds the active header and publishes clang's diagnostics.
import * as vscode from 'vscode';
import { buildHeader, BuildResult } from '../../core/build/build';
import { formatDiagnostic } from '../../core/build/clangDiagnostics';
import type { CiliumCustomContext } from '../context';
import { publishBuildDiagnostics } from '../diagnostics';
import { resolveHeader } from '../headerArgument';

export async function buildCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<BuildResult | undefined> {
  const headerPath = await resolveHeader(arg);
  if (!headerPath) return undefined;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Building ${vscode.workspace.asRelativePath(headerPath)}`, cancellable: true },
    (_progress, token) => runBuild(ctx, headerPath, token),
  );
  if (result.ok) {
    const warnings = result.diagnostics.length;
    void vscode.window.setStatusBarMessage(`$(check) Built ${vscode.workspace.asRelativePath(result.objectPath)}${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}`, 5000);
  } else if (!result.cancelled) {
    void vscode.window.showErrorMessage(`Cilium Custom: ${result.failure ?? 'build failed'}`, 'Show Output').then((choice) => {
      if (choice) ctx.log.show();
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
      bundledSdkDir: ctx.bundledSdkDir,
      makeDirSetting: ctx.config.makeDirectory,
      make: ctx.config.makeCommand,
      extraVariables: ctx.config.extraMakeVariables,
      signal: abort.signal,
      onOutput: (chunk) => ctx.log.output(chunk),
    });
    if (result.argv) ctx.log.info(`$ ${result.argv.map((a) => JSON.stringify(a)).join(' ')}  (in ${result.makeDir?.dir}, ${result.makeDir?.source})`);
    for (const d of result.diagnostics) ctx.log.warn(formatDiagnostic(d));
    if (result.ok) ctx.log.info(`built ${result.objectPath} in ${result.durationMs} ms`);
    else ctx.log.error(result.failure ?? 'build failed');
    if (!result.cancelled) publishBuildDiagnostics(ctx.buildDiagnostics, headerPath, result.diagnostics);
    return result;
  } finally {
    cancellation?.dispose();
  }
}
