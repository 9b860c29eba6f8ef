// "See what the verifier saw" in the editor: with ciliumCustom.verify.detail on, verifying faults/hot_loop_null.h
// (a bounded loop, then a map-lookup pointer moved through the stack and dereferenced unchecked) against the real
// kernel shows a heat map whose hottest line is the loop body, a CodeLens on custom_prog with the totals, hovers in
// plain words, and the Verifier Path view ending on the failing line with the chain back to the lookup. An edit
// clears it all. Pictures: test-results/vscode-insight.png, vscode-insight-hover.png.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAllEditors, openFile, requestScreenshot, waitForActivation } from '../util';

interface InsightStateShape {
  header: string;
  verdict: string;
  hottest: { line: number; processed: number } | null;
  heatLines: number;
  pathRows: number;
  lastPathLine: number | null;
  failingRegister: string | null;
  origin: { insn: number; line: number | null; text: string }[] | null;
  codeLens: string | null;
}

function expected(document: vscode.TextDocument, kind: string): number {
  const match = new RegExp(`^// expect-${kind}: line (\\d+)`, 'm').exec(document.getText());
  assert.ok(match, `the fixture names its ${kind} line`);
  return Number(match[1]);
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, description: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function ourLenses(uri: vscode.Uri): Promise<string[]> {
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
  return lenses.map((l) => l.command?.title ?? '').filter((t) => t.startsWith('Verifier: '));
}

describe('what the verifier saw (verify.detail)', function () {
  this.timeout(180_000);
  const config = () => vscode.workspace.getConfiguration('ciliumCustom');

  before(async () => {
    await waitForActivation();
    await config().update('verify.detail', true, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await config().update('verify.detail', undefined, vscode.ConfigurationTarget.Global);
    await closeAllEditors();
  });

  it('verifies a header with a hot loop and a NULL dereference: heat, CodeLens, hover, path and origin', async () => {
    const editor = await openFile('faults/hot_loop_null.h');
    const uri = editor.document.uri;
    const errorLine = expected(editor.document, 'verifier-error');
    const hotLine = expected(editor.document, 'hot-line');

    const result = (await vscode.commands.executeCommand('ciliumCustom.verify', uri)) as { verdict: string; problem?: unknown };
    assert.equal(result.verdict, 'rejected', JSON.stringify(result.problem));
    // The verify result shows the insight by itself; the command returns what is shown.
    await waitFor(async () => (await ourLenses(uri)).length === 1, 30_000, 'the verifier CodeLens on custom_prog');
    const state = (await vscode.commands.executeCommand('ciliumCustom.showVerifierInsight', uri)) as InsightStateShape;
    assert.ok(state, 'insight shown');
    assert.equal(state.verdict, 'rejected');
    assert.equal(state.hottest?.line, hotLine, 'the loop body is the hottest line');
    assert.ok(state.hottest!.processed >= 48 * 5);
    assert.ok(state.heatLines >= 5);
    assert.equal(state.lastPathLine, errorLine);
    assert.equal(state.failingRegister, 'R1');
    assert.match(state.origin?.at(-1)?.text ?? '', /call bpf_map_lookup_elem/);
    assert.match(state.codeLens ?? '', /^Verifier: \d+ of 1,000,000 instructions .* · peak states \d+ · stack 16 of 512 bytes · rejected$/);

    const lenses = await ourLenses(uri);
    assert.equal(lenses[0], state.codeLens);

    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(errorLine - 1, 4))) ?? [];
    const hoverText = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
    assert.match(hoverText, /What the verifier saw here/);
    assert.match(hoverText, /R1: may be NULL: check it before use/);
    assert.match(hoverText, /bpf_map_lookup_elem/);
    const hotHovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(hotLine - 1, 4))) ?? [];
    assert.match(hotHovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n'), /a number between 0 and/);

    // The picture: the heat map, the CodeLens and the Verifier Path view.
    await vscode.window.showTextDocument(editor.document, { preview: false });
    await vscode.commands.executeCommand('ciliumCustom.verifierPath.focus');
    await vscode.commands.executeCommand('ciliumCustom.showVerifierInsight', uri);
    await vscode.window.showTextDocument(editor.document, { preview: false, selection: new vscode.Range(hotLine - 1, 0, hotLine - 1, 0) });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await requestScreenshot('insight');
    // And a hover on the lookup's line: what R0 is after it, in plain words.
    const lookupLine = state.origin!.at(-1)!.line!;
    const active = vscode.window.activeTextEditor!;
    active.selection = new vscode.Selection(lookupLine - 1, 6, lookupLine - 1, 6);
    await vscode.commands.executeCommand('editor.action.showHover');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await requestScreenshot('insight-hover');
  });

  it('clears when the header changes', async () => {
    const editor = await openFile('faults/hot_loop_null.h');
    const uri = editor.document.uri;
    assert.equal((await ourLenses(uri)).length, 1, 'shown before the edit');
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), '// edited\n'));
    await waitFor(async () => (await ourLenses(uri)).length === 0, 10_000, 'the CodeLens gone after an edit');
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(20, 2))) ?? [];
    assert.ok(!hovers.some((h) => h.contents.some((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '').includes('What the verifier saw'))));
    await vscode.commands.executeCommand('undo');
    await editor.document.save();
  });
});
