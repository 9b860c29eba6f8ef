// "Cilium Custom: Verify Custom Program": build if stale, run the kernel verifier on the active target, put the
// verdict on the source line, keep the log for "Show Verifier Log", and show the figures in the status bar.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatDiagnostic } from '../../core/build/clangDiagnostics';
import type { BuildResult } from '../../core/build/build';
import { verifyHeaderOrObject, type VerifyResult } from '../../core/verify/verifyHeader';
import { VerifyProblem } from '../../core/verify/verifyErrors';
import type { CiliumCustomContext } from '../context';
import { publishBuildDiagnostics } from '../diagnostics';
import { resolveHeader } from '../headerArgument';
import { verifierDiagnostic } from './verifierDiagnostics';

export interface VerifyCommandResult {
  verdict: 'accepted' | 'rejected' | 'unknown';
  result?: VerifyResult;
  problem?: { kind: string; message: string; fix: string };
  logFile?: string;
}

export async function verifyCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<VerifyCommandResult | undefined> {
  const headerPath = await resolveHeader(arg);
  if (!headerPath) return undefined;
  const target = ctx.targets.active();
  const logFile = ctx.nextLogFile(headerPath);
  const title = `Verifying ${path.basename(headerPath)} on ${target.name}`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_progress, token) => {
    const abort = new AbortController();
    const cancellation = token.onCancellationRequested(() => abort.abort());
    ctx.log.info(`verify ${headerPath} on ${target.name}`);
    try {
      const result = await verifyHeaderOrObject({
        input: headerPath,
        target,
        bundledSdkDir: ctx.bundledSdkDir,
        makeDirSetting: ctx.config.makeDirectory,
        make: ctx.config.makeCommand,
        extraVariables: ctx.config.extraMakeVariables,
        logLevel: ctx.config.verifierLogLevel,
        logFile,
        signal: abort.signal,
        timeoutMs: ctx.config.verifyTimeoutMs,
      });
      ctx.lastVerifierLog = logFile;
      if (result.build) publishBuildDiagnostics(ctx.buildDiagnostics, headerPath, result.build.diagnostics);
      publishVerdict(ctx, headerPath, result);
      return { verdict: result.log.verdict, result, logFile };
    } catch (error) {
      if (!(error instanceof VerifyProblem)) throw error;
      const build = (error as { build?: BuildResult }).build;
      if (build) {
        publishBuildDiagnostics(ctx.buildDiagnostics, headerPath, build.diagnostics);
        for (const d of build.diagnostics) ctx.log.warn(formatDiagnostic(d));
      }
      ctx.log.error(error.full);
      if (error.kind !== 'cancelled') void showProblem(ctx, error);
      return { verdict: 'unknown', problem: { kind: error.kind, message: error.message, fix: error.fix } };
    } finally {
      cancellation.dispose();
    }
  });
}

function publishVerdict(ctx: CiliumCustomContext, headerPath: string, result: VerifyResult): void {
  const { log, located } = result;
  // Every file the last run spoke about is reset, so a fixed error disappears.
  ctx.verifierDiagnostics.set(vscode.Uri.file(headerPath), []);
  const stats = log.stats;
  const figures = stats?.insnsProcessed != null
    ? `${stats.insnsProcessed.toLocaleString('en-US')} insns (${((100 * stats.insnsProcessed) / (stats.insnLimit ?? 1_000_000)).toFixed(2)}% of limit)${stats.stackDepth ? `, stack ${stats.stackDepth}/512` : ''}`
    : '';
  if (log.verdict === 'accepted') {
    ctx.log.info(`accepted by the verifier in ${result.durationMs} ms${figures ? `: ${figures}` : ''}`);
    ctx.showVerdict(`$(pass) verified${figures ? `: ${figures}` : ''}`, `Accepted by the kernel verifier on ${ctx.targets.activeName}`);
    return;
  }
  const entry = located ? verifierDiagnostic(log, located) : undefined;
  if (entry) ctx.verifierDiagnostics.set(entry.uri, [...(ctx.verifierDiagnostics.get(entry.uri) ?? []), entry.diagnostic]);
  const where = located?.error ? `${path.basename(located.error.file)}:${located.error.line}` : 'unknown location';
  ctx.log.error(`${log.verdict} by the verifier at ${where}: ${log.error?.message ?? '(no error line)'}`);
  ctx.showVerdict(`$(error) verifier: ${log.verdict}`, log.error?.message ?? 'see the log');
  void vscode.window
    .showErrorMessage(`Verifier ${log.verdict} ${path.basename(headerPath)} at ${where}: ${log.error?.message ?? 'see the log'}`, 'Show Verifier Log')
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('ciliumCustom.showVerifierLog');
    });
}

async function showProblem(ctx: CiliumCustomContext, problem: VerifyProblem): Promise<void> {
  const choice = await vscode.window.showErrorMessage(`Cilium Custom: ${problem.message}`, { detail: problem.fix }, 'Show Output');
  if (choice) ctx.log.show();
}

export async function showVerifierLogCommand(ctx: CiliumCustomContext): Promise<vscode.TextEditor | undefined> {
  const file = ctx.lastVerifierLog;
  if (!file || !fs.existsSync(file)) {
    void vscode.window.showInformationMessage('Cilium Custom: no verifier log yet. Run "Verify Custom Program" first.');
    return undefined;
  }
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const typed = document.languageId === 'bpf-verifier-log' ? document : await vscode.languages.setTextDocumentLanguage(document, 'bpf-verifier-log');
  return vscode.window.showTextDocument(typed, { preview: false });
}
