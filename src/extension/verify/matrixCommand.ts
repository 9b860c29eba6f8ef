// "Cilium Custom: Verify on Kernel Matrix": the header verified on several kernels at once (core/kernels/matrix.ts,
// the same job as `cilium-custom verify --kernel ...`). The kernels come from the argument, else the
// ciliumCustom.verify.kernels setting, else a quick pick of the cached kernels and the host. The verdicts land as one
// diagnostic per rejected line, naming the kernels that reject and those that accept; the status item says how many
// accepted (through results.ts, so the result goes stale on an edit like a verify's); the "Kernel Matrix" view has
// one row per kernel: verdict, instructions processed, stack depth.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { hostKernelVersion, KernelCache, KernelNotAvailable, kernelTargets, resolveKernelRefs, verifyMatrix, type MatrixKernel } from '../../core/kernels';
import type { Target } from '../../core/target/target';
import { VerifyProblem } from '../../core/verify/verifyErrors';
import type { CiliumCustomContext } from '../context';
import { resolveHeader } from '../headerArgument';
import { escapeMarkdown } from './results';
import { VERIFIER_SOURCE } from './verifierDiagnostics';
import { publishProblemBuild } from './verifyCommand';

export const MATRIX_VIEW_ID = 'ciliumCustom.kernelMatrix';

/** One kernel's row of the matrix. */
export interface MatrixRow {
  /** The version, e.g. "6.1.176" (the host's: its upstream version). */
  kernel: string;
  target: string;
  verdict: 'accepted' | 'rejected' | 'unknown' | 'failed';
  error?: string;
  file?: string;
  /** 1-based. */
  line?: number;
  insnsProcessed: number | null;
  stackDepth: string | null;
}

export interface MatrixCommandResult {
  header: string;
  rows: MatrixRow[];
  problem?: { kind: string; message: string; fix: string };
}

class MatrixTree implements vscode.TreeDataProvider<MatrixRow> {
  private rows: MatrixRow[] = [];
  header: string | undefined;
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  view?: vscode.TreeView<MatrixRow>;

  show(header: string, rows: MatrixRow[]): void {
    this.header = header;
    this.rows = rows;
    if (this.view) this.view.message = `${path.basename(header)}: ${rows.filter((r) => r.verdict === 'accepted').length}/${rows.length} accepted`;
    this.changed.fire(undefined);
  }

  getChildren(element?: MatrixRow): MatrixRow[] {
    return element ? [] : this.rows;
  }

  getTreeItem(row: MatrixRow): vscode.TreeItem {
    const item = new vscode.TreeItem(row.kernel, vscode.TreeItemCollapsibleState.None);
    const figures = [row.insnsProcessed != null ? `${row.insnsProcessed.toLocaleString('en-US')} insns` : undefined, row.stackDepth ? `stack ${row.stackDepth}` : undefined].filter(Boolean);
    const where = row.line !== undefined && row.file ? ` at ${path.basename(row.file)}:${row.line}` : '';
    // Short enough for a narrow side bar: the verdict, the line, the figures (the file is in the tooltip).
    item.description = [row.verdict + (row.line !== undefined ? ` at line ${row.line}` : ''), ...figures].join(' · ');
    item.iconPath = new vscode.ThemeIcon(row.verdict === 'accepted' ? 'pass' : row.verdict === 'rejected' ? 'error' : 'warning');
    item.tooltip = new vscode.MarkdownString(
      [`**${escapeMarkdown(row.kernel)}** (${escapeMarkdown(row.target)}): ${row.verdict}${where}`, row.error ? `\`${row.error.replace(/`/g, "'")}\`` : '', figures.join(', ')].filter(Boolean).join('\n\n'),
    );
    if (row.file && row.line !== undefined) {
      item.command = { title: 'Go to Line', command: 'vscode.open', arguments: [vscode.Uri.file(row.file), { selection: new vscode.Range(row.line - 1, 0, row.line - 1, 0) }] };
    }
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

let tree: MatrixTree | undefined;

export function registerKernelMatrix(ctx: CiliumCustomContext): void {
  tree = new MatrixTree();
  ctx.own(tree);
  tree.view = ctx.own(vscode.window.createTreeView(MATRIX_VIEW_ID, { treeDataProvider: tree }));
}

/** The command: `(header?, kernels?)`, kernels as in `verify --kernel` (cache names or versions, "host"). */
export async function verifyMatrixCommand(ctx: CiliumCustomContext, arg?: unknown, kernelsArg?: unknown): Promise<MatrixCommandResult | undefined> {
  const headerPath = await resolveHeader(arg, ctx.results.recentHeader);
  if (!headerPath) return undefined;
  const cache = new KernelCache();
  const refs = isStringArray(kernelsArg) && kernelsArg.length ? kernelsArg : ctx.config.verifyKernels.length ? ctx.config.verifyKernels : await pickKernels(cache);
  if (!refs?.length) return undefined;
  let resolved;
  try {
    resolved = await resolveKernelRefs(cache, refs);
  } catch (error) {
    if (!(error instanceof KernelNotAvailable)) throw error;
    void vscode.window.showErrorMessage(`Cilium Custom: ${error.message}`);
    return { header: headerPath, rows: [], problem: { kind: 'kernel-missing', message: error.message, fix: 'npx cilium-custom kernels fetch all' } };
  }
  const startedVersion = ctx.results.versionOf(headerPath);
  const names = [...resolved.kernels.map((k) => k.name), ...(resolved.host ? ['host'] : [])];
  const title = `Verifying ${path.basename(headerPath)} on ${names.join(', ')}`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const cancellation = token.onCancellationRequested(() => abort.abort());
    const vms = kernelTargets(resolved.kernels, { pool: ctx.vmPool, onBoot: (t, ms) => progress.report({ message: `${t.label} booted in ${(ms / 1000).toFixed(1)} s` }) });
    const kernels: MatrixKernel[] = vms.map((t) => ({ kernel: t.kernelVersion, target: t }));
    const host: Target | undefined = resolved.host ? ctx.targets.active() : undefined;
    ctx.log.info(`verify ${headerPath} on the kernel matrix: ${names.join(', ')}`);
    try {
      if (host) kernels.push({ kernel: await hostKernelVersion(host, abort.signal), target: host });
      const entries = await verifyMatrix([headerPath], kernels, { ...ctx.config.buildSettings(ctx.bundledSdkDir), logLevel: 'verbose', signal: abort.signal });
      const rows: MatrixRow[] = entries.map((entry) => {
        const r = entry.results[0];
        const base = { kernel: entry.kernel, target: entry.target.name };
        if (r.problem) return { ...base, verdict: 'failed', error: r.problem.message, insnsProcessed: null, stackDepth: null };
        const { log, located } = r.result!;
        const at = log.verdict === 'accepted' ? undefined : located?.error;
        return {
          ...base,
          verdict: log.verdict,
          ...(log.error ? { error: log.error.message } : {}),
          ...(at ? { file: at.file, line: at.line } : {}),
          insnsProcessed: log.stats?.insnsProcessed ?? null,
          stackDepth: log.stats?.stackDepth ?? null,
        };
      });
      for (const row of rows) ctx.log.info(`  ${row.kernel}: ${row.verdict}${row.line !== undefined ? ` at ${path.basename(row.file!)}:${row.line}` : ''}${row.error ? `: ${row.error}` : ''}`);
      publishMatrix(ctx, headerPath, rows, startedVersion, refs);
      return { header: headerPath, rows };
    } catch (error) {
      if (!(error instanceof VerifyProblem)) throw error;
      publishProblemBuild(ctx, headerPath, error);
      ctx.log.error(error.full);
      if (error.kind !== 'cancelled') void vscode.window.showErrorMessage(`Cilium Custom: ${error.message}`, { detail: error.fix });
      return { header: headerPath, rows: [], problem: { kind: error.kind, message: error.message, fix: error.fix } };
    } finally {
      cancellation.dispose();
      await Promise.all(vms.map((t) => t.dispose()));
    }
  });
}

function publishMatrix(ctx: CiliumCustomContext, headerPath: string, rows: MatrixRow[], startedVersion: number | undefined, kernelRefs: string[]): void {
  const accepted = rows.filter((r) => r.verdict === 'accepted');
  const acceptedOn = accepted.length ? `; accepted on ${accepted.map((r) => r.kernel).join(', ')}` : '';
  // One diagnostic per distinct line the kernels reject.
  const byLine = new Map<string, MatrixRow[]>();
  for (const row of rows) {
    if (row.verdict !== 'rejected' || !row.file || row.line === undefined) continue;
    const key = `${row.file}:${row.line}`;
    byLine.set(key, [...(byLine.get(key) ?? []), row]);
  }
  const diagnostics = [...byLine.values()].map((group) => {
    const { file, line, error } = group[0];
    const message = `rejected on ${group.map((r) => r.kernel).join(', ')}${acceptedOn}: ${error ?? 'see the log'}`;
    const diagnostic = new vscode.Diagnostic(new vscode.Range(line! - 1, 0, line! - 1, Number.MAX_SAFE_INTEGER), message, vscode.DiagnosticSeverity.Error);
    diagnostic.source = VERIFIER_SOURCE;
    diagnostic.code = 'kernel-matrix';
    return { uri: vscode.Uri.file(file!), diagnostic };
  });
  const details = ['| kernel | verdict | insns | stack |', '|---|---|---:|---:|'];
  for (const r of rows) {
    const where = r.line !== undefined ? ` (${escapeMarkdown(path.basename(r.file!))}:${r.line})` : '';
    details.push(`| ${escapeMarkdown(r.kernel)} | ${r.verdict}${where} | ${r.insnsProcessed?.toLocaleString('en-US') ?? ''} | ${r.stackDepth ?? ''} |`);
  }
  const failed = rows.filter((r) => r.verdict === 'failed');
  for (const r of failed) details.push('', `${escapeMarkdown(r.kernel)}: ${escapeMarkdown(r.error ?? 'failed')}`);
  ctx.results.recordVerify(headerPath, {
    kind: accepted.length === rows.length ? 'accepted' : rows.some((r) => r.verdict === 'rejected' || r.verdict === 'unknown') ? 'rejected' : 'verify-failed',
    summary: `matrix: ${accepted.length}/${rows.length} accepted`,
    details,
    target: `the kernel matrix (${rows.map((r) => r.kernel).join(', ')})`,
    diagnostics,
    startedVersion,
    // "Verify again" on a stale result asks the same kernels, not the host alone.
    again: { command: 'ciliumCustom.verifyMatrix', extraArguments: [kernelRefs] },
  });
  tree?.show(headerPath, rows);
  if (accepted.length < rows.length) {
    void vscode.window.showWarningMessage(`Cilium Custom: ${path.basename(headerPath)} accepted on ${accepted.length} of ${rows.length} kernels.`, 'Show Kernel Matrix').then((choice) => {
      if (choice) void vscode.commands.executeCommand(`${MATRIX_VIEW_ID}.focus`);
    });
  }
}

/** A multi-select pick of the cached kernels and the host; undefined when dismissed or nothing is cached. */
async function pickKernels(cache: KernelCache): Promise<string[] | undefined> {
  const cached = cache.list();
  if (!cached.length) {
    void vscode.window.showWarningMessage(
      `Cilium Custom: no kernels in ${cache.root}. Fetch Debian's 5.10, 6.1 and 6.12 with \`npx cilium-custom kernels fetch all\`, or set ciliumCustom.verify.kernels to ["host"].`,
    );
    return undefined;
  }
  const items = [
    ...cached.map((k) => ({ label: k.name, description: k.version, picked: true })),
    { label: 'host', description: 'the active target (this machine or the SSH target)', picked: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'Cilium Custom: verify on which kernels?', placeHolder: 'Set ciliumCustom.verify.kernels to skip this' });
  return picked?.map((p) => p.label);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
