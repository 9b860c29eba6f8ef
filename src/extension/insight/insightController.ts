// "See what the verifier saw" in the editor, from a header's last verifier log (ciliumCustom.verify.detail):
//  - a heat map: each source line the verifier processed gets a background and an end-of-line count, coloured by
//    its share of all instructions processed;
//  - a CodeLens on custom_prog with the totals (processed of 1,000,000, peak states, stack of 512 bytes);
//  - hovers with the state the verifier printed after the line's instructions, in plain words;
//  - the Verifier Path view: one row per source line from the entry to the error, and under the failing line the
//    failing register and its chain of writes back to where its value came from.
// Everything for a header is cleared when its text changes, and replaced when it is verified again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readInsightFile } from '../../core/verifier/insight/fileReader';
import type { InsightReport, OriginStep, PathRun } from '../../core/verifier/insight/model';
import { describeValue } from '../../core/verifier/insight/plain';
import { parseRegisterState } from '../../core/verifier/registers';
import type { VerifierLog } from '../../core/verifier/model';
import type { CiliumCustomContext } from '../context';
import type { ResultStatus } from '../verify/results';

const INSN_LIMIT = 1_000_000;
const STACK_LIMIT = 512;
const VIEW_ID = 'ciliumCustom.verifierPath';
/** Path rows shown (the newest); older ones fold into one row. */
const MAX_ROWS = 300;

interface HeaderInsight {
  header: string;
  logFile: string;
  log: VerifierLog;
  report: InsightReport;
  /** Instructions processed in all (the share's denominator). */
  total: number;
}

/** What the editor shows for a header, as tests and the command read it. */
export interface InsightState {
  header: string;
  logFile: string;
  verdict: VerifierLog['verdict'];
  hottest: { line: number; processed: number } | null;
  heatLines: number;
  pathRows: number;
  lastPathLine: number | null;
  failingRegister: string | null;
  origin: OriginStep[] | null;
  codeLens: string | null;
}

/** Shares at or above each threshold get the matching colour (strongest first). */
const BUCKETS: { min: number; alpha: number }[] = [
  { min: 0.4, alpha: 0.5 },
  { min: 0.2, alpha: 0.36 },
  { min: 0.05, alpha: 0.24 },
  { min: 0.01, alpha: 0.14 },
  { min: 0, alpha: 0.07 },
];

export class InsightController implements vscode.Disposable, vscode.CodeLensProvider, vscode.HoverProvider, vscode.TreeDataProvider<PathNode> {
  private readonly byHeader = new Map<string, HeaderInsight>();
  private readonly loading = new Map<string, string>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly decorations = BUCKETS.map((b) =>
    vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: `rgba(255, 96, 0, ${b.alpha})`,
      overviewRulerColor: `rgba(255, 96, 0, ${Math.min(1, b.alpha * 2)})`,
      overviewRulerLane: vscode.OverviewRulerLane.Left,
      after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
    }),
  );
  private readonly lensChanged = new vscode.EventEmitter<void>();
  private readonly treeChanged = new vscode.EventEmitter<PathNode | undefined>();
  private readonly stateChanged = new vscode.EventEmitter<InsightState | null>();
  readonly onDidChangeCodeLenses = this.lensChanged.event;
  readonly onDidChangeTreeData = this.treeChanged.event;
  /** Fires when a header's insight is shown or cleared. */
  readonly onDidChangeState = this.stateChanged.event;
  private readonly tree: vscode.TreeView<PathNode>;
  /** The header the Verifier Path view shows, and its rows (built once per insight). */
  private treeHeader: string | undefined;
  private rows: PathNode[] | null = null;

  constructor(private readonly ctx: CiliumCustomContext) {
    this.tree = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    const selector: vscode.DocumentSelector = [{ scheme: 'file', pattern: '**/*.{h,c}' }];
    this.disposables.push(
      ...this.decorations,
      this.lensChanged,
      this.treeChanged,
      this.stateChanged,
      this.tree,
      vscode.languages.registerCodeLensProvider(selector, this),
      vscode.languages.registerHoverProvider(selector, this),
      ctx.results.onDidChangeStatus((status) => this.resultChanged(status)),
      this.tree.onDidChangeVisibility((event) => {
        if (event.visible) this.revealFailing();
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorateAll()),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.activeChanged(editor)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length && this.byHeader.has(event.document.uri.fsPath)) this.clear(event.document.uri.fsPath);
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('ciliumCustom.verify.detail') && !ctx.config.verifyDetail) for (const header of [...this.byHeader.keys()]) this.clear(header);
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** Shows what the verifier saw for `header` from `logFile` (default: the header's last verifier log). */
  async show(header: string, logFile = this.ctx.results.logFileOf(header)): Promise<InsightState | null> {
    if (!logFile || !fs.existsSync(logFile)) return null;
    this.loading.set(header, logFile);
    const read = await readInsightFile(logFile, { sources: [header, ...landingFiles(header)], abandoned: () => this.loading.get(header) !== logFile });
    if (!read) return this.state(header);
    this.loading.delete(header);
    const { log, insight } = read;
    if (!insight) {
      this.clear(header);
      return null;
    }
    const total = insight.lines.reduce((sum, l) => sum + l.processed, 0) + insight.unattributed;
    this.byHeader.set(header, { header, logFile, log, report: insight, total });
    this.treeHeader = header;
    this.refresh();
    this.revealFailing();
    const state = this.state(header);
    this.stateChanged.fire(state);
    return state;
  }

  clear(header: string): void {
    this.loading.delete(header);
    if (!this.byHeader.delete(header)) return;
    if (this.treeHeader === header) this.treeHeader = undefined;
    this.refresh();
    this.stateChanged.fire(null);
  }

  state(header: string): InsightState | null {
    const h = this.byHeader.get(header);
    if (!h) return null;
    const inHeader = h.report.lines.filter((l) => l.file === header);
    const rows = h.report.path;
    return {
      header,
      logFile: h.logFile,
      verdict: h.log.verdict,
      hottest: inHeader[0] ? { line: inHeader[0].line, processed: inHeader[0].processed } : null,
      heatLines: inHeader.length,
      pathRows: rows.length,
      lastPathLine: rows.length ? rows[rows.length - 1]!.line : null,
      failingRegister: h.report.failingRegister,
      origin: h.report.origin,
      codeLens: this.lensTitle(h),
    };
  }

  // --- result events ---

  private resultChanged(status: ResultStatus): void {
    if (!this.ctx.config.verifyDetail || !status.header) return;
    const header = status.header;
    const logFile = this.ctx.results.logFileOf(header);
    // A failed build or verify, or an edit since: what was shown is no longer about this header.
    if (status.stale || (status.kind !== 'accepted' && status.kind !== 'rejected') || !logFile) {
      if (status.kind !== 'built') this.clear(header);
      return;
    }
    if (this.byHeader.get(header)?.logFile === logFile || this.loading.get(header) === logFile) return;
    void this.show(header, logFile).catch((error: unknown) => this.ctx.log.error(`verifier insight: ${error instanceof Error ? error.message : String(error)}`));
  }

  private activeChanged(editor: vscode.TextEditor | undefined): void {
    const file = editor?.document.uri.fsPath;
    if (file && this.byHeader.has(file) && this.treeHeader !== file) {
      this.treeHeader = file;
      this.rows = null;
      this.treeChanged.fire(undefined);
    }
  }

  private refresh(): void {
    this.decorateAll();
    this.lensChanged.fire();
    this.rows = null;
    this.treeChanged.fire(undefined);
    const h = this.treeHeader ? this.byHeader.get(this.treeHeader) : undefined;
    this.tree.message = h ? undefined : 'Verify a header with ciliumCustom.verify.detail on to see the path the verifier took.';
    this.tree.description = h ? path.basename(h.header) : undefined;
  }

  // --- heat map ---

  private decorateAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.decorate(editor);
  }

  private decorate(editor: vscode.TextEditor): void {
    const file = editor.document.uri.fsPath;
    const perBucket: vscode.DecorationOptions[][] = BUCKETS.map(() => []);
    for (const h of this.byHeader.values()) {
      for (const l of h.report.lines) {
        if (l.file !== file || l.line < 1 || l.line > editor.document.lineCount) continue;
        const share = h.total ? l.processed / h.total : 0;
        const bucket = BUCKETS.findIndex((b) => share >= b.min);
        const range = editor.document.lineAt(l.line - 1).range;
        perBucket[bucket < 0 ? BUCKETS.length - 1 : bucket]!.push({
          range,
          renderOptions: { after: { contentText: `${l.processed.toLocaleString('en-US')} ${l.processed === 1 ? 'insn' : 'insns'} processed (${pct(share)})${l.distinct > 1 ? `, ${l.distinct} distinct` : ''}` } },
        });
      }
    }
    this.decorations.forEach((d, i) => editor.setDecorations(d, perBucket[i]!));
  }

  // --- CodeLens ---

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const h = this.byHeader.get(document.uri.fsPath);
    if (!h) return [];
    const title = this.lensTitle(h);
    if (!title) return [];
    for (let i = 0; i < document.lineCount; i++) {
      if (/\bcustom_prog\s*\(/.test(document.lineAt(i).text)) {
        return [new vscode.CodeLens(document.lineAt(i).range, { title, command: `${VIEW_ID}.focus`, tooltip: 'Show the Verifier Path view' })];
      }
    }
    return [];
  }

  private lensTitle(h: HeaderInsight): string | null {
    const s = h.log.stats;
    const processed = s?.insnsProcessed ?? h.report.insnsSeen;
    const limit = s?.insnLimit ?? INSN_LIMIT;
    const parts = [`Verifier: ${processed.toLocaleString('en-US')} of ${limit.toLocaleString('en-US')} instructions (${pct(processed / limit)})`];
    if (s?.peakStates != null) parts.push(`peak states ${s.peakStates.toLocaleString('en-US')}`);
    const stack = stackBytes(s?.stackDepth ?? null);
    if (stack !== null) parts.push(`stack ${stack} of ${STACK_LIMIT} bytes`);
    parts.push(h.log.verdict === 'rejected' ? 'rejected' : h.log.verdict);
    return parts.join(' · ');
  }

  // --- hover ---

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const file = document.uri.fsPath;
    const line = position.line + 1;
    for (const h of this.byHeader.values()) {
      const heat = h.report.lines.find((l) => l.file === file && l.line === line);
      if (!heat) continue;
      const md = new vscode.MarkdownString(undefined, true);
      md.appendMarkdown(`**What the verifier saw here:** ${heat.processed.toLocaleString('en-US')} instructions processed (${pct(h.total ? heat.processed / h.total : 0)} of all), ${heat.distinct} distinct.\n\n`);
      const lastRun = h.report.path.at(-1);
      if (h.log.error && lastRun?.file === file && lastRun.line === line) {
        md.appendMarkdown(`**The error:** \`${code(h.log.error.message)}\`\n\n`);
        const failing = h.report.failingRegister;
        const value = failing ? h.report.registers?.[failing] : undefined;
        if (failing && value) md.appendMarkdown(`${failing}: ${describeValue(value.text)} (\`${code(value.text)}\`).\n\n`);
        if (h.report.origin?.length) {
          md.appendMarkdown(`${failing ?? 'It'} came from:\n`);
          for (const o of h.report.origin) md.appendMarkdown(`- \`${code(o.text)}\`${o.line !== null ? ` (line ${o.line})` : ''}\n`);
          md.appendMarkdown('\n');
        }
      }
      const insns = h.report.insns.filter((i) => i.file === file && i.line === line).slice(0, 8);
      if (insns.length) {
        md.appendMarkdown('After each instruction (the last state the verifier printed):\n');
        for (const i of insns) {
          const changed = i.state ? [...parseRegisterState(i.state)].filter(([name]) => /^R\d+$/.test(name) && name !== 'R10').slice(0, 3) : [];
          const words = changed.map(([name, value]) => `${name}: ${describeValue(value)}`).join('; ');
          md.appendMarkdown(`- \`${i.insn}: ${code(i.text)}\` ×${i.processed}${words ? ` — ${words}` : ''}\n`);
        }
      }
      return new vscode.Hover(md, document.lineAt(position.line).range);
    }
    return undefined;
  }

  // --- Verifier Path view ---

  getTreeItem(node: PathNode): vscode.TreeItem {
    return node.item;
  }

  getParent(node: PathNode): PathNode | undefined {
    return node.parent;
  }

  /** Scrolls the Verifier Path view to the failing line (the last row), when the view is open. */
  private revealFailing(): void {
    const rows = this.getChildren();
    const last = rows[rows.length - 1];
    // Its last child (where the failing value came from) when it has any, so the chain shows too.
    const target = last?.children[last.children.length - 1] ?? last;
    if (target && this.tree.visible) void Promise.resolve(this.tree.reveal(target, { select: false, focus: false, expand: true })).catch(() => undefined);
  }

  getChildren(node?: PathNode): PathNode[] {
    const h = this.treeHeader ? this.byHeader.get(this.treeHeader) : undefined;
    if (!h) return [];
    if (node) return node.children;
    if (this.rows) return this.rows;
    const runs = h.report.path;
    const shown = runs.slice(-MAX_ROWS);
    const omitted = runs.length - shown.length + h.report.pathOmitted;
    const rows: PathNode[] = [];
    if (omitted > 0 || h.report.pathCut) rows.push(leaf(`… ${omitted > 0 ? `${omitted.toLocaleString('en-US')} earlier lines` : 'the path starts before the log window'}`, undefined));
    shown.forEach((run, i) => rows.push(this.row(h, run, i === shown.length - 1)));
    this.rows = rows;
    return rows;
  }

  private row(h: HeaderInsight, run: PathRun, last: boolean): PathNode {
    const text = sourceText(run.file, run.line);
    const failing = last && h.log.error !== null;
    const children: PathNode[] = [];
    if (failing) {
      const reg = h.report.failingRegister;
      const value = reg ? h.report.registers?.[reg] : undefined;
      if (reg && value) children.push(leaf(`${reg}: ${describeValue(value.text)}`, undefined, value.text));
      for (const o of h.report.origin ?? []) {
        const node = leaf(`${o.insn}: ${o.text}`, o.file && o.line ? { file: o.file, line: o.line } : undefined, o.line !== null ? `${path.basename(o.file ?? '')}:${o.line}` : undefined);
        node.item.iconPath = new vscode.ThemeIcon('arrow-up');
        children.push(node);
      }
    }
    const item = new vscode.TreeItem(`${path.basename(run.file)}:${run.line}`, children.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.description = `${text ?? ''}  [${insnRange(run.insns)}]`;
    item.tooltip = `${run.file}:${run.line}\ninstructions ${run.insns.join(', ')}${failing ? `\n${h.log.error!.message}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(failing ? 'error' : 'debug-stackframe-dot');
    item.command = openCommand(run.file, run.line);
    const node: PathNode = { item, children };
    for (const child of children) child.parent = node;
    return node;
  }
}

interface PathNode {
  item: vscode.TreeItem;
  children: PathNode[];
  parent?: PathNode;
}

function leaf(label: string, at: { file: string; line: number } | undefined, description?: string): PathNode {
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  if (description) item.description = description;
  if (at) item.command = openCommand(at.file, at.line);
  return { item, children: [] };
}

function openCommand(file: string, line: number): vscode.Command | undefined {
  if (!path.isAbsolute(file)) return undefined;
  const position = new vscode.Position(Math.max(0, line - 1), 0);
  return { title: 'Open', command: 'vscode.open', arguments: [vscode.Uri.file(file), { selection: new vscode.Range(position, position) }] };
}

function sourceText(file: string, line: number): string | null {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
  if (doc && line <= doc.lineCount) return doc.lineAt(line - 1).text.trim();
  try {
    return fs.readFileSync(file, 'utf8').split('\n')[line - 1]?.trim() ?? null;
  } catch {
    return null;
  }
}

function insnRange(insns: number[]): string {
  if (insns.length === 0) return '';
  const first = insns[0]!;
  const last = insns[insns.length - 1]!;
  return insns.length === 1 ? `${first}` : `${first}–${last}`;
}

function pct(share: number): string {
  const p = share * 100;
  return `${p >= 10 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toFixed(2)}%`;
}

function code(text: string): string {
  return text.replace(/`/g, "'");
}

function stackBytes(printed: string | null): number | null {
  if (printed === null || !/^\d+(\+\d+)*$/.test(printed)) return null;
  return printed.split('+').reduce((sum, part) => sum + Number(part), 0);
}

/** The landing program next to a header's Makefile directory is not known here; the header's own folder may have it. */
function landingFiles(header: string): string[] {
  const candidate = path.join(path.dirname(header), 'bpf_custom.c');
  return fs.existsSync(candidate) ? [candidate] : [];
}
