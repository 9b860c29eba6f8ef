// The last build and verify result of each header, kept per file: the status item shows the active editor's, the
// kernel verifier's diagnostics are published from here, and an edit marks what it invalidates as stale.
//
// Stale, not cleared: the first edit after a verify is usually the fix of the very line the verifier complained
// about, and the diagnostic's explanation and "Fix:" are what the user reads while typing it. So an edit to the
// header (or to a file the verify put a diagnostic on) keeps the header's verifier diagnostics but turns them into
// Information, prefixed "(stale: edited since the verify)", following the lines they were on; the status item says
// "stale" too. The next verify of the header replaces every diagnostic its last verify published, in whichever
// file (the landing program's included), and a failed build clears the header's verify result.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuildResult } from '../../core/build/build';
import type { CiliumCustomContext } from '../context';

export const STALE_VERIFY_PREFIX = '(stale: edited since the verify) ';

export type ResultKind = 'built' | 'build-failed' | 'accepted' | 'rejected' | 'verify-failed';

/** What one verify found, as the command hands it over. */
export interface VerifyOutcome {
  kind: 'accepted' | 'rejected' | 'verify-failed';
  /** The status item's text after the icon and the header's name, e.g. "verified: 33 insns (0.00% of limit), stack 8/512". */
  summary: string;
  /** Markdown lines for the tooltip (figures per program, the error). */
  details: string[];
  logFile?: string;
  target: string;
  /** The verifier's diagnostics, in the header or the files it includes (the landing program). */
  diagnostics: { uri: vscode.Uri; diagnostic: vscode.Diagnostic }[];
  /** The header's document version when the verify started: an edit during the run makes the result stale at once. */
  startedVersion?: number;
  /** What "Verify again" runs, after the header's URI (default: ciliumCustom.verify; the matrix: itself, same kernels). */
  again?: { command: string; extraArguments: unknown[] };
}

interface BuildRecord {
  ok: boolean;
  at: number;
  objectPath: string;
  errors: number;
  warnings: number;
  failure?: string;
}

interface VerifyRecord {
  kind: VerifyOutcome['kind'];
  at: number;
  summary: string;
  details: string[];
  logFile?: string;
  target: string;
  again?: VerifyOutcome['again'];
}

interface FileRecord {
  header: string;
  build?: BuildRecord;
  verify?: VerifyRecord;
  /** Edited since the last build, and since the last verify (a build does not make a verify true again). */
  buildStale: boolean;
  verifyStale: boolean;
  /** The verifier diagnostics this header's last verify published, by URI, as published (never the stale copies). */
  diagnostics: Map<string, { uri: vscode.Uri; list: vscode.Diagnostic[] }>;
}

/** What the status item shows now (for tests and anyone reading the API). */
export interface ResultStatus {
  visible: boolean;
  header?: string;
  kind?: ResultKind;
  stale?: boolean;
  text: string;
  tooltip: string;
}

export class Results implements vscode.Disposable {
  private readonly records = new Map<string, FileRecord>();
  private readonly item: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<ResultStatus>();
  private readonly built = new vscode.EventEmitter<{ header: string; ok: boolean }>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The header the status item showed last (kept while no text editor is active, e.g. in the walkthrough). */
  private shown: string | undefined;
  private lastActiveHeader: string | undefined;
  private current: ResultStatus = { visible: false, text: '', tooltip: '' };

  /** Fires whenever the status item changes. */
  readonly onDidChangeStatus = this.changed.event;
  /** Fires after every finished (not cancelled) build of a header, from the command or a verify. */
  readonly onDidBuild = this.built.event;

  constructor(private readonly ctx: CiliumCustomContext) {
    this.item = vscode.window.createStatusBarItem('ciliumCustom.result', vscode.StatusBarAlignment.Left, 9);
    this.item.name = 'Cilium Custom Build and Verify Result';
    this.noteActive(vscode.window.activeTextEditor);
    this.disposables.push(
      this.item,
      this.changed,
      this.built,
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        this.noteActive(editor);
        this.render();
      }),
      vscode.workspace.onDidChangeTextDocument((event) => this.edited(event)),
    );
  }

  /** The header most recently active in an editor, or built or verified: what a command run from no editor acts on. */
  get recentHeader(): string | undefined {
    return this.lastActiveHeader;
  }

  get status(): ResultStatus {
    return { ...this.current };
  }

  /** The header's document version now, if it is open (pass it back in VerifyOutcome.startedVersion). */
  versionOf(header: string): number | undefined {
    return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === header)?.version;
  }

  /** The header's last verifier log, if its last verify wrote one. */
  logFileOf(header: string): string | undefined {
    return this.records.get(header)?.verify?.logFile;
  }

  recordBuild(header: string, result: BuildResult): void {
    if (result.cancelled) return;
    const record = this.record(header);
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    record.build = {
      ok: result.ok,
      at: Date.now(),
      objectPath: result.objectPath,
      errors,
      warnings: result.diagnostics.length - errors,
      ...(result.failure ? { failure: result.failure } : {}),
    };
    // A build of the text on disk: what the editor shows, once saved (commands save first).
    record.buildStale = false;
    if (!result.ok) {
      // The verify's figures were for a program that no longer builds.
      record.verify = undefined;
      this.staleDiagnostics(record);
    }
    this.touch(header);
    this.built.fire({ header, ok: result.ok });
  }

  recordVerify(header: string, outcome: VerifyOutcome): void {
    const record = this.record(header);
    const before = [...record.diagnostics.values()].map((e) => e.uri);
    record.diagnostics = new Map();
    for (const { uri, diagnostic } of outcome.diagnostics) {
      const entry = record.diagnostics.get(uri.toString()) ?? { uri, list: [] };
      entry.list.push(diagnostic);
      record.diagnostics.set(uri.toString(), entry);
    }
    record.verify = {
      kind: outcome.kind,
      at: Date.now(),
      summary: outcome.summary,
      details: outcome.details,
      target: outcome.target,
      ...(outcome.logFile ? { logFile: outcome.logFile } : {}),
      ...(outcome.again ? { again: outcome.again } : {}),
    };
    const now = this.versionOf(header);
    const editedMeanwhile = outcome.startedVersion !== undefined && now !== undefined && now !== outcome.startedVersion;
    record.buildStale = editedMeanwhile;
    record.verifyStale = editedMeanwhile;
    // Every file this header's previous verify spoke about is redrawn, so nothing piles up in included files.
    this.renderDiagnostics([...before, ...outcome.diagnostics.map((d) => d.uri), vscode.Uri.file(header)]);
    this.touch(header);
  }

  /** A verify that could not run (no bpftool, no connection...): says so, and leaves the diagnostics alone. */
  recordVerifyFailure(header: string, summary: string, details: string[], target: string): void {
    const record = this.record(header);
    record.verify = { kind: 'verify-failed', at: Date.now(), summary, details, target };
    this.touch(header);
  }

  /** Marks what an edit invalidates: the results of the edited header, and of every header with a diagnostic here. */
  private edited(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0 || event.document.uri.scheme !== 'file') return;
    const key = event.document.uri.toString();
    const file = event.document.uri.fsPath;
    let changed = false;
    let moved = false;
    for (const record of this.records.values()) {
      const entry = record.diagnostics.get(key);
      if (entry && followEdit(entry.list, event.contentChanges)) moved = true;
      if (record.header !== file && !entry) continue;
      if (record.verifyStale && (record.buildStale || record.header !== file)) continue;
      if (record.header === file) record.buildStale = true;
      if (!record.verifyStale) {
        record.verifyStale = true;
        this.staleDiagnostics(record);
      }
      changed = true;
    }
    // Published diagnostics stay where they were put: redraw the file when lines moved under them.
    if (moved) this.renderDiagnostics([event.document.uri]);
    if (changed) this.render();
  }

  private staleDiagnostics(record: FileRecord): void {
    this.renderDiagnostics([...record.diagnostics.values()].map((e) => e.uri));
  }

  /** Publishes, for each URI, what every header's last verify says about it (stale ones as stale copies). */
  private renderDiagnostics(uris: vscode.Uri[]): void {
    const seen = new Set<string>();
    for (const uri of uris) {
      const key = uri.toString();
      if (seen.has(key)) continue;
      seen.add(key);
      const list: vscode.Diagnostic[] = [];
      for (const record of this.records.values()) {
        const stale = record.verifyStale || record.verify === undefined;
        for (const diagnostic of record.diagnostics.get(key)?.list ?? []) list.push(stale ? staleCopy(diagnostic) : diagnostic);
      }
      if (list.length) this.ctx.verifierDiagnostics.set(uri, list);
      else this.ctx.verifierDiagnostics.delete(uri);
    }
  }

  private record(header: string): FileRecord {
    let record = this.records.get(header);
    if (!record) {
      record = { header, buildStale: false, verifyStale: false, diagnostics: new Map() };
      this.records.set(header, record);
    }
    return record;
  }

  /** A result for `header` just came in: show it if its editor is active, or when no text editor is. */
  private touch(header: string): void {
    this.ctx.enterScope('a build or verify result');
    this.lastActiveHeader = header;
    if (!vscode.window.activeTextEditor) this.shown = header;
    this.render();
  }

  private noteActive(editor: vscode.TextEditor | undefined): void {
    if (!editor) return;
    const uri = editor.document.uri;
    if (uri.scheme === 'file' && uri.fsPath.endsWith('.h')) this.lastActiveHeader = uri.fsPath;
  }

  /** The header whose result belongs on the status item now. */
  private headerToShow(): string | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return this.shown;
    const uri = editor.document.uri;
    if (uri.scheme !== 'file') return undefined;
    if (this.records.has(uri.fsPath)) return uri.fsPath;
    // The verifier log of a header shows that header's result.
    for (const record of this.records.values()) if (record.verify?.logFile === uri.fsPath) return record.header;
    return undefined;
  }

  private render(): void {
    const header = this.headerToShow();
    const record = header ? this.records.get(header) : undefined;
    if (!record || (!record.build && !record.verify)) {
      this.item.hide();
      this.update({ visible: false, text: '', tooltip: '' });
      return;
    }
    this.shown = record.header;
    const view = describe(record);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.backgroundColor = view.error && !view.stale ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
    this.update({ visible: true, header: record.header, kind: view.kind, stale: view.stale, text: view.text, tooltip: view.tooltip.value });
  }

  private update(status: ResultStatus): void {
    this.current = status;
    this.changed.fire({ ...status });
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}

function describe(record: FileRecord): { kind: ResultKind; stale: boolean; text: string; tooltip: vscode.MarkdownString; command: vscode.Command; error: boolean } {
  const name = path.basename(record.header);
  const headerUri = vscode.Uri.file(record.header);
  const build = record.build;
  const verify = record.verify;
  // The newer of the two speaks; a verify that built first is newer than that build.
  const useVerify = verify !== undefined && (build === undefined || verify.at >= build.at);
  const lines: string[] = [];
  let kind: ResultKind;
  let icon: string;
  let summary: string;
  let command: vscode.Command;
  const link = (title: string, id: string, args?: unknown[]) =>
    `[${title}](command:${id}${args ? `?${encodeURIComponent(JSON.stringify(args))}` : ''})`;
  const problems = link('Problems', 'workbench.actions.view.problems');
  const output = link('Output', 'ciliumCustom.showLog');
  if (useVerify && verify) {
    kind = verify.kind;
    icon = kind === 'accepted' ? '$(pass)' : kind === 'rejected' ? '$(error)' : '$(warning)';
    summary = verify.summary;
    lines.push(`**${name}**: ${verify.summary} (on ${verify.target}, ${time(verify.at)})`, '', ...verify.details);
    const links = [verify.logFile ? link('Verifier log', 'ciliumCustom.showVerifierLog', [headerUri.toString()]) : undefined, problems, output].filter(Boolean);
    lines.push('', links.join(' · '));
    command = verify.logFile
      ? { title: 'Show Verifier Log', command: 'ciliumCustom.showVerifierLog', arguments: [headerUri] }
      : { title: 'Show Output', command: 'ciliumCustom.showLog' };
  } else if (build) {
    kind = build.ok ? 'built' : 'build-failed';
    icon = build.ok ? '$(check)' : '$(error)';
    const counts = [plural(build.errors, 'error'), plural(build.warnings, 'warning')].filter(Boolean).join(', ');
    summary = build.ok ? `built${counts ? ` (${counts})` : ''}` : `build failed${counts ? ` (${counts})` : ''}`;
    lines.push(`**${name}**: ${summary} (${time(build.at)})`);
    if (build.ok) lines.push('', `\`${build.objectPath}\``);
    else if (build.failure) lines.push('', escapeMarkdown(build.failure));
    lines.push('', [problems, output].join(' · '));
    command = build.ok && build.warnings === 0
      ? { title: 'Show Output', command: 'ciliumCustom.showLog' }
      : { title: 'Show Problems', command: 'workbench.actions.view.problems' };
  } else {
    throw new Error('a result with neither a build nor a verify');
  }
  const stale = useVerify ? record.verifyStale : record.buildStale;
  if (stale) {
    const what = useVerify ? 'verify' : 'build';
    const again = useVerify ? (verify?.again ?? { command: 'ciliumCustom.verify', extraArguments: [] }) : { command: 'ciliumCustom.build', extraArguments: [] };
    lines.unshift(`*Stale: edited since the ${what}.* ${link(useVerify ? 'Verify again' : 'Build again', again.command, [headerUri.toString(), ...again.extraArguments])}`, '');
  }
  const tooltip = new vscode.MarkdownString(lines.join('\n\n'), true);
  tooltip.isTrusted = { enabledCommands: ['ciliumCustom.verify', 'ciliumCustom.verifyMatrix', 'ciliumCustom.build', 'ciliumCustom.showVerifierLog', 'ciliumCustom.showLog', 'workbench.actions.view.problems'] };
  // The tooltip has the whole story; the status bar gets one short line.
  const short = summary.length > 90 ? `${summary.slice(0, 89)}…` : summary;
  const text = `${stale ? '$(history)' : icon} ${name} ${stale ? '(stale) ' : ''}${short}`;
  return { kind, stale, text, tooltip, command, error: kind === 'rejected' || kind === 'build-failed' };
}

/** The diagnostic as it reads once its file changed: still there, but no longer claiming an error. */
function staleCopy(diagnostic: vscode.Diagnostic): vscode.Diagnostic {
  const copy = new vscode.Diagnostic(diagnostic.range, `${STALE_VERIFY_PREFIX}${diagnostic.message}`, vscode.DiagnosticSeverity.Information);
  copy.source = diagnostic.source;
  copy.code = diagnostic.code;
  if (diagnostic.relatedInformation) copy.relatedInformation = diagnostic.relatedInformation;
  if (diagnostic.tags) copy.tags = diagnostic.tags;
  return copy;
}

/**
 * Moves whole-line diagnostics with the text an edit moved: a line below the edit moves by the lines it added or
 * removed; a line inside a removed region goes to where the region started.
 */
export function followEdit(list: vscode.Diagnostic[], changes: readonly vscode.TextDocumentContentChangeEvent[]): boolean {
  let moved = false;
  for (const change of changes) {
    const added = (change.text.match(/\n/g)?.length ?? 0) - (change.range.end.line - change.range.start.line);
    for (const diagnostic of list) {
      const start = new vscode.Position(diagnostic.range.start.line, 0);
      let line = diagnostic.range.start.line;
      if (change.range.end.isBeforeOrEqual(start)) line += added;
      else if (change.range.start.isBefore(start)) line = change.range.start.line;
      else continue;
      if (line === diagnostic.range.start.line) continue;
      const span = diagnostic.range.end.line - diagnostic.range.start.line;
      diagnostic.range = new vscode.Range(Math.max(0, line), diagnostic.range.start.character, Math.max(0, line + span), diagnostic.range.end.character);
      moved = true;
    }
  }
  return moved;
}

function plural(n: number, word: string): string {
  return n === 0 ? '' : `${n} ${word}${n === 1 ? '' : 's'}`;
}

function time(at: number): string {
  return new Date(at).toLocaleTimeString();
}

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>]/g, (c) => `\\${c}`);
}
