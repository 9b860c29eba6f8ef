// The language server's quick fixes through the editor, as a user applies them (the light bulb runs the same
// vscode.executeCodeActionProvider + applyEdit): a stage the prog array names but the file only declares gets a
// stub definition, a stage's constant return becomes the datapath's verdict, implicit padding becomes explicit
// fields, and a NULL check of the wrong pointer is rewritten rather than doubled. Each leaves its diagnostic gone.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, lineOf, openFile, requestScreenshot, showProblems, waitForActivation, waitForDiagnostics, workspacePath } from '../util';

const SOURCE = 'cilium-custom';

/** The quick fix titled like `title` for the diagnostic `code` on `line`, applied through the workspace. */
async function applyQuickFix(doc: vscode.TextDocument, code: string, line: number, title: RegExp): Promise<string> {
  const diagnostics = await waitForDiagnostics(doc.uri, { source: SOURCE, predicate: (d) => d.some((x) => x.code === code && x.range.start.line === line), timeoutMs: 30_000 });
  const diagnostic = diagnostics.find((x) => x.code === code && x.range.start.line === line)!;
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, diagnostic.range, vscode.CodeActionKind.QuickFix.value);
  const action = actions.find((a) => title.test(a.title));
  assert.ok(action?.edit, `no quick fix ${title} for ${code} on line ${line + 1}: ${JSON.stringify(actions.map((a) => a.title))}`);
  assert.equal(action.isPreferred, true);
  assert.ok(await vscode.workspace.applyEdit(action.edit), 'the edit applies');
  return action.title;
}

describe('quick fixes in the editor', () => {
  const dir = workspacePath('programs-qf');

  before(async () => {
    await waitForActivation();
    fs.mkdirSync(dir, { recursive: true });
    const fixtures = path.join(getExtension().extensionPath, 'test', 'fixtures', 'server');
    for (const name of ['faulty_stages.h', 'faulty_tail_call.h']) fs.copyFileSync(path.join(fixtures, name), path.join(dir, name));
  });
  after(async () => {
    await closeAllEditors();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('defines a stage the prog array names but the file only declares, and returns the verdict from a stage', async () => {
    const editor = await openFile('programs-qf/faulty_stages.h');
    const doc = editor.document;
    const undefinedLine = lineOf(doc, 'MISTAKE-STAGE-UNDEFINED');
    const returnLine = lineOf(doc, 'MISTAKE-STAGE-RETURN');
    const diagnostics = await waitForDiagnostics(doc.uri, { source: SOURCE, predicate: (d) => d.length >= 2, timeoutMs: 30_000 });
    assert.deepEqual(diagnostics.map((d) => [d.range.start.line, d.code, d.severity]).sort(), [
      [undefinedLine, 'stage-undefined', vscode.DiagnosticSeverity.Error],
      [returnLine, 'stage-return', vscode.DiagnosticSeverity.Warning],
    ].sort());
    assert.match(diagnostics.find((d) => d.code === 'stage-undefined')!.message, /failed to find BTF for extern 'stages_two'/);
    // For the picture: the reference under the cursor, the Problems panel, and the quick-fix menu open on it.
    const at = diagnostics.find((d) => d.code === 'stage-undefined')!.range.start;
    await showProblems();
    await vscode.window.showTextDocument(doc, { preview: false });
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenter);
    await vscode.commands.executeCommand('editor.action.quickFix');
    await requestScreenshot('quick-fix-stage-undefined');
    await vscode.commands.executeCommand('hideCodeActionWidget');

    assert.match(await applyQuickFix(doc, 'stage-undefined', undefinedLine, /^Define stage 'stages_two'/), /a stub returning the datapath's verdict/);
    assert.ok(doc.getText().endsWith('\n__section("faulty_stages/stages_two")\nint stages_two(struct __ctx_buff *ctx)\n{\n\t/* A tail-called stage: what it returns goes to the datapath, so hand back its verdict. */\n\treturn ctx_load_meta(ctx, CB_CUSTOM_CALLS) >> 24;\n}\n'), doc.getText());
    await waitForDiagnostics(doc.uri, { source: SOURCE, predicate: (d) => !d.some((x) => x.code === 'stage-undefined') });

    await applyQuickFix(doc, 'stage-return', returnLine, /^Return the datapath's verdict/);
    assert.equal(doc.lineAt(returnLine).text, '\treturn ctx_load_meta(ctx, CB_CUSTOM_CALLS) >> 24;\t/* MISTAKE-STAGE-RETURN */');
    await waitForDiagnostics(doc.uri, { source: SOURCE, predicate: (d) => d.length === 0 });
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('makes padding explicit, and rewrites the NULL check of the wrong pointer instead of adding one', async () => {
    const editor = await openFile('programs-qf/faulty_tail_call.h');
    const doc = editor.document;
    const lines = doc.lineCount;
    await applyQuickFix(doc, 'map-value-padding', lineOf(doc, 'MISTAKE-PADDING'), /^Make the padding explicit: __u32 pad1; before 'len'$/);
    assert.match(doc.getText(), /struct faulty_ctx \{\n\t__u32 identity;\n\t__u32 pad1;\n\t__u64 len;/);
    await waitForDiagnostics(doc.uri, { source: SOURCE, predicate: (d) => d.length > 0 && !d.some((x) => x.code === 'map-value-padding') });

    const check = /\n\tif \(!bytes\)\n/.exec(doc.getText());
    assert.ok(check, 'stage 1 checks bytes');
    await applyQuickFix(doc, 'map-lookup-null', lineOf(doc, 'MISTAKE-NULL-CHECK'), /^Check 'fc' too in the NULL check on line \d+$/);
    assert.match(doc.getText(), /\n\tif \(!fc \|\| !bytes\)\n\t\treturn faulty_verdict\(ctx\);\n\n\t\*bytes \+= fc->len;/);
    assert.equal(doc.lineCount, lines + 1, 'one line: the pad field; the check was rewritten in place');
    await waitForDiagnostics(doc.uri, { source: SOURCE, predicate: (d) => !d.some((x) => x.code === 'map-lookup-null') });
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });
});
