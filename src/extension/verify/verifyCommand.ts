// "Cilium Custom: Verify Custom Program": build if stale, run the kernel verifier on the active target, put the
// verdict on the source line, keep the log for "Show Verifier Log", and show the result and its figures on the
// status item of the header's editor (verify/results.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuildResult } from '../../core/build/build';
import { verifyHeaderOrObject, type VerifyResult } from '../../core/verify/verifyHeader';
import { VerifyProblem } from '../../core/verify/verifyErrors';
import { locateLoaderSubject } from '../../core/verify/loaderLocation';
import type { VerifierStats } from '../../core/verifier/model';
import { logClangDiagnostics } from '../build/buildCommand';
import type { CiliumCustomContext } from '../context';
import { publishBuildDiagnostics } from '../diagnostics';
import { resolveHeader } from '../headerArgument';
import { readProgramFigures, stackBytes, summarizePrograms, type ProgramFigures } from './programFigures';
import { escapeMarkdown } from './results';
import { verifierDiagnostic } from './verifierDiagnostics';

export interface VerifyCommandResult {
  verdict: 'accepted' | 'rejected' | 'unknown';
  result?: VerifyResult;
  problem?: { kind: string; message: string; fix: string };
  logFile?: string;
  /** Figures of each program the verifier ran, the landing program first (tail-called stages after it). */
  programs?: ProgramFigures[];
}

const INSN_LIMIT = 1_000_000;
const STACK_LIMIT = 512;

export async function verifyCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<VerifyCommandResult | undefined> {
  const headerPath = await resolveHeader(arg, ctx.results.recentHeader);
  if (!headerPath) return undefined;
  const target = ctx.targets.active();
  const logFile = ctx.nextLogFile(headerPath);
  const startedVersion = ctx.results.versionOf(headerPath);
  const title = `Verifying ${path.basename(headerPath)} on ${target.name}`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_progress, token) => {
    const abort = new AbortController();
    const cancellation = token.onCancellationRequested(() => abort.abort());
    ctx.log.info(`verify ${headerPath} on ${target.name}`);
    try {
      const result = await verifyHeaderOrObject({
        input: headerPath,
        target,
        ...ctx.config.buildSettings(ctx.bundledSdkDir),
        logLevel: ctx.config.verifierLogLevel,
        logFile,
        signal: abort.signal,
      });
      ctx.lastVerifierLog = logFile;
      if (result.build) {
        publishBuildDiagnostics(ctx.buildDiagnostics, headerPath, result.build.diagnostics);
        logClangDiagnostics(ctx, result.build.diagnostics);
        ctx.results.recordBuild(headerPath, result.build);
      }
      const programs = await readProgramFigures(logFile).catch(() => [] as ProgramFigures[]);
      publishVerdict(ctx, headerPath, result, programs, logFile, startedVersion);
      return { verdict: result.log.verdict, result, logFile, programs };
    } catch (error) {
      if (!(error instanceof VerifyProblem)) throw error;
      const build = publishProblemBuild(ctx, headerPath, error);
      ctx.log.error(error.full);
      if (error.kind !== 'cancelled') {
        const loader = loaderDiagnostic(headerPath, error);
        if (loader) {
          // libbpf's own error, on the line it concerns: its own kind and fix, never the verifier's register advice.
          ctx.results.recordVerify(headerPath, {
            kind: 'verify-failed',
            summary: 'not loaded: libbpf refused the object (not the verifier)',
            details: [error.message, error.fix].filter(Boolean).map(escapeMarkdown),
            target: target.name,
            diagnostics: [{ uri: vscode.Uri.file(headerPath), diagnostic: loader }],
          });
        } else if (!build) {
          ctx.results.recordVerifyFailure(headerPath, `not verified: ${error.message.replace(/\.$/, '')}`, [error.message, error.fix].filter(Boolean).map(escapeMarkdown), target.name);
        }
        void showProblem(ctx, error);
      }
      return { verdict: 'unknown', problem: { kind: error.kind, message: error.message, fix: error.fix } };
    } finally {
      cancellation.dispose();
    }
  });
}

function publishVerdict(ctx: CiliumCustomContext, headerPath: string, result: VerifyResult, programs: ProgramFigures[], logFile: string, startedVersion: number | undefined): void {
  const { log, located } = result;
  const target = ctx.targets.activeName;
  const figures = describeFigures(log.stats, programs);
  if (log.verdict === 'accepted') {
    ctx.log.info(`accepted by the verifier in ${result.durationMs} ms${figures.summary ? `: ${figures.summary}` : ''}`);
    for (const line of figures.perProgram) ctx.log.info(`  ${line}`);
    ctx.results.recordVerify(headerPath, {
      kind: 'accepted',
      summary: `verified${figures.summary ? `: ${figures.summary}` : ''}`,
      details: ['Accepted by the kernel verifier.', ...figures.details],
      logFile,
      target,
      diagnostics: [],
      startedVersion,
    });
    return;
  }
  const entry = located ? verifierDiagnostic(log, located) : undefined;
  const where = located?.error ? `${path.basename(located.error.file)}:${located.error.line}` : 'unknown location';
  const message = log.error?.message ?? 'see the log';
  ctx.log.error(`${log.verdict} by the verifier at ${where}: ${log.error?.message ?? '(no error line)'}`);
  ctx.results.recordVerify(headerPath, {
    kind: 'rejected',
    summary: `${log.verdict === 'rejected' ? 'rejected' : 'not accepted'} at ${located?.error?.file === headerPath ? `line ${located.error.line}` : where}`,
    details: [`\`${message.replace(/`/g, "'")}\``],
    logFile,
    target,
    diagnostics: entry ? [entry] : [],
    startedVersion,
  });
  void vscode.window.showErrorMessage(`Verifier ${log.verdict} ${path.basename(headerPath)} at ${where}: ${message}`, 'Show Verifier Log').then((choice) => {
    if (choice) void vscode.commands.executeCommand('ciliumCustom.showVerifierLog', vscode.Uri.file(headerPath));
  });
}

/**
 * The figures of an accepted program: the entry (landing) program's, which is what the hook runs first, and, with
 * tail-called stages, how many programs there are and the largest of them. The parser's own statistics (one
 * program's) stand in when the log has no per-program figures.
 */
export function describeFigures(stats: VerifierStats | null, programs: readonly ProgramFigures[]): { summary: string; details: string[]; perProgram: string[] } {
  const summary = summarizePrograms(programs);
  const entry = summary?.entry ?? (stats?.insnsProcessed != null ? { name: null, insnsProcessed: stats.insnsProcessed, insnLimit: stats.insnLimit, stackDepth: stats.stackDepth } : undefined);
  if (!entry) return { summary: '', details: [], perProgram: [] };
  const limit = entry.insnLimit ?? INSN_LIMIT;
  const insns = (n: number) => n.toLocaleString('en-US');
  const share = (n: number, of: number) => `${((100 * n) / of).toFixed(2)}%`;
  let text = `${insns(entry.insnsProcessed)} insns (${share(entry.insnsProcessed, limit)} of limit)${entry.stackDepth && stackBytes(entry.stackDepth) ? `, stack ${entry.stackDepth}/${STACK_LIMIT}` : ''}`;
  const details = [
    `${summary && summary.count > 1 ? `Entry program${entry.name ? ` \`${entry.name}\`` : ''}` : 'Instructions processed'}: ${insns(entry.insnsProcessed)} of the ${insns(limit)} limit (${share(entry.insnsProcessed, limit)}); stack ${entry.stackDepth ?? '?'} of ${STACK_LIMIT} bytes.`,
  ];
  const perProgram: string[] = [];
  if (summary && summary.count > 1) {
    const { largest, count, maxStack } = summary;
    text += ` · ${count} programs, max ${insns(largest.insnsProcessed)} insns`;
    if (maxStack > stackBytes(entry.stackDepth)) text += `, stack ${maxStack}`;
    details.push(`${count} programs (the entry program and its tail-called stages); the largest, \`${largest.name ?? 'unnamed'}\`, processed ${insns(largest.insnsProcessed)} instructions.`, '');
    details.push('| program | insns | stack |', '|---|---:|---:|');
    programs.forEach((p, i) => {
      const name = p.name ?? `program ${i + 1}`;
      details.push(`| \`${name}\`${i === 0 ? ' (entry)' : ''} | ${insns(p.insnsProcessed)} | ${p.stackDepth ?? '?'} |`);
      perProgram.push(`${name}${i === 0 ? ' (entry)' : ''}: ${insns(p.insnsProcessed)} insns, stack ${p.stackDepth ?? '?'}`);
    });
  }
  return { summary: text, details, perProgram };
}

/** The build a verify problem carries (a header that does not build): its diagnostics, log lines and result. */
export function publishProblemBuild(ctx: CiliumCustomContext, headerPath: string, problem: VerifyProblem): BuildResult | undefined {
  const build = (problem as { build?: BuildResult }).build;
  if (build) {
    publishBuildDiagnostics(ctx.buildDiagnostics, headerPath, build.diagnostics);
    logClangDiagnostics(ctx, build.diagnostics);
    ctx.results.recordBuild(headerPath, build);
  }
  return build;
}

/** A loader failure that names a symbol of the header, as a diagnostic on that symbol's line (source `libbpf`). */
function loaderDiagnostic(headerPath: string, problem: VerifyProblem): vscode.Diagnostic | undefined {
  if (problem.kind !== 'loader-failed' || !problem.subject || !headerPath.endsWith('.h')) return undefined;
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === headerPath);
  let text: string;
  try {
    text = open?.getText() ?? fs.readFileSync(headerPath, 'utf8');
  } catch {
    return undefined;
  }
  const at = locateLoaderSubject(text, problem.subject);
  if (!at) return undefined;
  const position = new vscode.Position(at.line - 1, at.column - 1);
  const range = open?.getWordRangeAtPosition(position) ?? new vscode.Range(position, position.translate(0, problem.subject.symbol.length));
  const diagnostic = new vscode.Diagnostic(range, `${problem.message}${problem.fix ? `\nFix: ${problem.fix}` : ''}`, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'libbpf';
  diagnostic.code = 'loader-failed';
  return diagnostic;
}

async function showProblem(ctx: CiliumCustomContext, problem: VerifyProblem): Promise<void> {
  const choice = await vscode.window.showErrorMessage(`Cilium Custom: ${problem.message}`, { detail: problem.fix }, 'Show Output');
  if (choice) ctx.log.show();
}

/**
 * "Show Verifier Log": the given header's last log (a header URI or path, e.g. from the status item), else the
 * active header's, else the last one written.
 */
export async function showVerifierLogCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<vscode.TextEditor | undefined> {
  const header = headerOf(arg) ?? activeHeader();
  const file = (header && ctx.results.logFileOf(header)) ?? ctx.lastVerifierLog;
  if (!file || !fs.existsSync(file)) {
    void vscode.window.showInformationMessage('Cilium Custom: no verifier log yet. Run "Verify Custom Program" first.');
    return undefined;
  }
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const typed = document.languageId === 'bpf-verifier-log' ? document : await vscode.languages.setTextDocumentLanguage(document, 'bpf-verifier-log');
  return vscode.window.showTextDocument(typed, { preview: false });
}

function headerOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  if (typeof arg !== 'string' || arg === '') return undefined;
  if (/^file:/.test(arg)) return vscode.Uri.parse(arg).fsPath;
  return path.isAbsolute(arg) ? arg : undefined;
}

function activeHeader(): string | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  return uri?.scheme === 'file' && uri.fsPath.endsWith('.h') ? uri.fsPath : undefined;
}
