// Verifying from the editor against the real kernel: an accepted example, a rejected fixture whose verifier error
// lands on the header line its comment names, the verify task, and the saved log.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAllEditors, openFile, waitForDiagnostics, waitForTaskEnd, workspacePath, workspaceUri } from '../util';

interface VerifyCommandResultShape {
  verdict: string;
  problem?: { kind: string; message: string };
  logFile?: string;
}

function expectedLine(document: vscode.TextDocument): number {
  const match = /^\/\/ expect-verifier-error: line (\d+)/m.exec(document.getText());
  assert.ok(match, 'the fixture names its expected line');
  return Number(match[1]) - 1;
}

describe('verify', function () {
  this.timeout(120_000);
  after(closeAllEditors);

  it('accepts a bundled example and reports no verifier diagnostics', async () => {
    await openFile('programs/bytecount.h');
    const result = (await vscode.commands.executeCommand('ciliumCustom.verify')) as VerifyCommandResultShape;
    assert.equal(result.problem, undefined, JSON.stringify(result.problem));
    assert.equal(result.verdict, 'accepted');
    assert.deepEqual(vscode.languages.getDiagnostics(workspaceUri('programs', 'bytecount.h')).filter((d) => d.source === 'bpf-verifier'), []);
  });

  for (const fixture of ['null_deref.h', 'oob_packet.h', 'unbounded_loop.h']) {
    it(`puts the verifier's error for faults/${fixture} on the line it names, with a fix`, async () => {
      const editor = await openFile(`faults/${fixture}`);
      const line = expectedLine(editor.document);
      const result = (await vscode.commands.executeCommand('ciliumCustom.verify', editor.document.uri)) as VerifyCommandResultShape;
      assert.equal(result.verdict, 'rejected', JSON.stringify(result.problem));
      const diagnostics = await waitForDiagnostics(editor.document.uri, { source: 'bpf-verifier' });
      assert.equal(diagnostics.length, 1);
      assert.equal(diagnostics[0].range.start.line, line, diagnostics[0].message);
      assert.match(diagnostics[0].message, /Fix: /);
      assert.ok((diagnostics[0].relatedInformation ?? []).length > 0, 'the path to the error is attached');
    });
  }

  it('opens the last log with the bpf-verifier-log language', async () => {
    const editor = (await vscode.commands.executeCommand('ciliumCustom.showVerifierLog')) as vscode.TextEditor;
    assert.ok(editor, 'a log editor opened');
    assert.equal(editor.document.languageId, 'bpf-verifier-log');
    assert.match(editor.document.getText(), /processed \d+ insns/);
  });

  it('explains an open log', async () => {
    const log = (await vscode.commands.executeCommand('ciliumCustom.explainVerifierLog')) as { verdict: string; error: { message: string } };
    assert.equal(log.verdict, 'rejected');
    assert.ok(log.error.message.length > 0);
  });

  it('runs the verify task of a rejected header and fails it with the verifier matcher', async () => {
    const uri = workspaceUri('faults', 'null_deref.h');
    const document = await vscode.workspace.openTextDocument(uri);
    const line = expectedLine(document);
    const tasks = await vscode.tasks.fetchTasks({ type: 'cilium-custom' });
    const task = tasks.find((t) => t.definition.action === 'verify' && t.definition.header === workspacePath('faults', 'null_deref.h'));
    assert.ok(task, 'a verify task for the header');
    const before = vscode.languages.getDiagnostics(uri).length;
    const ended = waitForTaskEnd((e) => e.execution.task.name === task.name, { timeoutMs: 90_000 });
    const matched = waitForDiagnostics(uri, { source: null, predicate: (list) => list.length > before, timeoutMs: 90_000 });
    await vscode.tasks.executeTask(task);
    assert.equal((await ended).exitCode, 1);
    const diagnostics = await matched;
    assert.ok(diagnostics.some((d) => d.range.start.line === line && /map_value_or_null/.test(d.message)), JSON.stringify(diagnostics.map((d) => [d.range.start.line, d.message])));
  });
});
