// The `bpf-verifier-log` language: file associations, `@ file:line` links that open the source at that line, and
// folding. The logs come from the corpus (<repo>/test/fixtures/verifier-corpus, or $VERIFIER_LOG_CORPUS) and are
// written into the throwaway workspace at test time, next to (or away from) their C sources.
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, waitForActivation, waitForEvent, workspacePath } from '../util';

const LANGUAGE_ID = 'bpf-verifier-log';
const SUITE_DIR = 'verifier-log-suite';

function corpusDir(): string {
  const dir = process.env.VERIFIER_LOG_CORPUS ?? path.join(getExtension().extensionPath, 'test', 'fixtures', 'verifier-corpus');
  assert.ok(existsSync(dir), `verifier-log corpus not found at ${dir}`);
  return dir;
}

/** The corpus case whose name starts with `prefix`: its log and C source paths and base name. */
function corpusCase(prefix: string): { base: string; log: string; source: string } {
  const dir = corpusDir();
  const log = readdirSync(dir).find((name) => name.startsWith(prefix) && name.endsWith('.log'));
  assert.ok(log, `no ${prefix}*.log in ${dir}`);
  const base = log.replace(/\.log$/, '');
  return { base, log: path.join(dir, log), source: path.join(dir, `${base}.c`) };
}

/** Copies `from` to the workspace-relative `to` and returns its absolute path. */
function place(from: string, ...to: string[]): string {
  const target = workspacePath(SUITE_DIR, ...to);
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(from, target);
  return target;
}

async function links(uri: vscode.Uri): Promise<vscode.DocumentLink[]> {
  // The second argument makes VS Code resolve (lazily created) link targets, as a hover or click would.
  return (await vscode.commands.executeCommand<vscode.DocumentLink[]>('vscode.executeLinkProvider', uri, 1000)) ?? [];
}

describe('verifier log language', () => {
  const case01 = corpusCase('01-');
  const case16 = corpusCase('16-');
  let log01: string;
  let source01: string;
  let log16: string;
  let source16: string;

  before(async () => {
    await waitForActivation();
    // Same folder: the log's own directory is searched first.
    log01 = place(case01.log, 'same-dir', `${case01.base}.bpflog`);
    source01 = place(case01.source, 'same-dir', `${case01.base}.c`);
    // Different folders: found by a workspace search.
    log16 = place(case16.log, 'logs', `${case16.base}.bpflog`);
    source16 = place(case16.source, 'src', 'nested', `${case16.base}.c`);
  });

  after(async () => {
    await closeAllEditors();
    rmSync(workspacePath(SUITE_DIR), { recursive: true, force: true });
  });

  it('opens *.bpflog, *.verifier.log, *-verifier.log and extensionless logs by their first line', async () => {
    const names = {
      bpflog: log01,
      dotted: place(case01.log, 'names', 'prog.verifier.log'),
      dashed: place(case01.log, 'names', 'prog-verifier.log'),
      firstLine: workspacePath(SUITE_DIR, 'names', 'load-output'),
    };
    writeFileSync(names.firstLine, "libbpf: prog 'x': -- BEGIN PROG LOAD LOG --\n0: R1=ctx() R10=fp0\n");
    for (const [what, file] of Object.entries(names)) {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      assert.equal(document.languageId, LANGUAGE_ID, `${what}: ${file}`);
    }
  });

  it('links each `@ file:line` to the C source next to the log, and opening the link selects that line', async () => {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(log01));
    assert.equal(document.languageId, LANGUAGE_ID);
    const found = await links(document.uri);
    const ref = `${case01.base}.c`;
    assert.deepEqual(
      found.map((link) => [link.range.start.line, document.getText(link.range)]),
      [
        [37, `${ref}:14`],
        [43, `${ref}:15`],
        [46, `${ref}:16`],
      ],
      'one link per line-info comment with a line (not for `;  @ file:0`)',
    );
    const link = found[2]!;
    assert.ok(link.target, 'the link was not resolved to a target');
    assert.equal(link.target.scheme, 'file');
    assert.equal(link.target.fsPath, source01);
    assert.equal(link.target.fragment, 'L16');

    // What a click does: the opener turns the #L16 fragment into a selection on line 16.
    await vscode.commands.executeCommand('vscode.open', link.target);
    const editor = await waitForEvent(vscode.window.onDidChangeTextEditorSelection, {
      map: (event) => event.textEditor,
      predicate: (event) => event.textEditor.document.uri.fsPath === source01 && event.selections[0]?.start.line === 15,
      check: () => {
        const active = vscode.window.activeTextEditor;
        return active?.document.uri.fsPath === source01 && active.selection.start.line === 15 ? active : undefined;
      },
      description: `${source01} open with line 16 selected`,
    });
    assert.match(editor.document.lineAt(15).text, /\*val \+= 1;/);
  });

  it('finds a source that is not next to the log by searching the workspace', async () => {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(log16));
    const found = await links(document.uri);
    assert.ok(found.length >= 5, `only ${found.length} links`);
    for (const link of found) {
      assert.equal(link.target?.fsPath, source16, document.getText(link.range));
      assert.match(link.target.fragment, /^L[1-9]\d*$/);
    }
    const last = found[found.length - 1]!;
    assert.equal(document.getText(last.range), `${case16.base}.c:16`);
    assert.equal(last.target?.fragment, 'L16');
  });

  it('folds source blocks, the live-registers table, libbpf runs and the load log', async () => {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(log01));
    const ranges =
      (await vscode.commands.executeCommand<vscode.FoldingRange[]>('vscode.executeFoldingRangeProvider', document.uri)) ?? [];
    const has = (start: number, end: number, kind?: vscode.FoldingRangeKind) =>
      ranges.some((r) => r.start === start && r.end === end && r.kind === kind);
    const shown = JSON.stringify(ranges.map((r) => [r.start, r.end, r.kind]));
    assert.ok(has(0, 21, vscode.FoldingRangeKind.Comment), `libbpf debug run missing: ${shown}`);
    assert.ok(has(22, 51, vscode.FoldingRangeKind.Region), `load log missing: ${shown}`);
    assert.ok(has(24, 35, vscode.FoldingRangeKind.Region), `live regs table missing: ${shown}`);
    assert.ok(has(37, 40), `source block of line 14 missing: ${shown}`);
    assert.ok(has(46, 47), `source block of line 16 missing: ${shown}`);
  });
});
