// Building from the editor: the command on a bundled example, clang's diagnostics on a broken header, and the
// cilium-custom task provider.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { closeAllEditors, lineOf, openFile, waitForDiagnostics, waitForTaskEnd, workspacePath, workspaceUri } from '../util';

interface BuildResultShape {
  ok: boolean;
  objectPath: string;
  failure?: string;
  makeDir?: { source: string };
  diagnostics: unknown[];
}

describe('build', () => {
  after(closeAllEditors);

  it('builds the active bundled example through the bundled SDK and writes the object', async () => {
    const object = workspacePath('programs', 'bytecount.o');
    fs.rmSync(object, { force: true });
    await openFile('programs/bytecount.h');
    const result = (await vscode.commands.executeCommand('ciliumCustom.build')) as BuildResultShape;
    assert.ok(result, 'the command returns its result');
    assert.equal(result.failure, undefined);
    assert.equal(result.ok, true);
    assert.equal(result.objectPath, object);
    assert.equal(result.makeDir?.source, 'bundled-sdk');
    assert.ok(fs.existsSync(object), 'the object file exists');
  });

  it('puts the compiler error of a broken header on its line', async () => {
    const editor = await openFile('bpf/custom/broken.h');
    const expectedLine = lineOf(editor.document, '/* EXPECTED-ERROR */');
    const result = (await vscode.commands.executeCommand('ciliumCustom.build', editor.document.uri)) as BuildResultShape;
    assert.equal(result.ok, false);
    assert.equal(result.makeDir?.source, 'header-folder');
    const diagnostics = await waitForDiagnostics(editor.document.uri);
    const errors = diagnostics.filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
    assert.equal(errors.length, 1, JSON.stringify(diagnostics.map((d) => d.message)));
    assert.equal(errors[0].range.start.line, expectedLine);
    assert.match(errors[0].message, /undeclared/);
  });

  it('clears the diagnostics once the header builds', async () => {
    const uri = workspaceUri('bpf', 'custom', 'counter.h');
    await vscode.commands.executeCommand('ciliumCustom.build', uri);
    assert.deepEqual(
      vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'clang' && d.severity === vscode.DiagnosticSeverity.Error),
      [],
    );
  });

  it('provides one cilium-custom task per custom-program header, and running one succeeds', async () => {
    const tasks = (await vscode.tasks.fetchTasks({ type: 'cilium-custom' })).filter((t) => t.definition.action === 'build');
    const headers = tasks.map((t) => headerOf(t)).sort();
    for (const expected of ['bpf/custom/broken.h', 'bpf/custom/counter.h', 'programs/bytecount.h', 'programs/tail_context.h']) {
      assert.ok(headers.includes(workspacePath(...expected.split('/'))), `no task for ${expected}: ${headers.join(', ')}`);
    }
    assert.equal(new Set(headers).size, headers.length, 'one task per header');
    const task = tasks.find((t) => headerOf(t) === workspacePath('programs', 'tail_context.h'));
    assert.ok(task);
    assert.ok(task.execution instanceof vscode.ProcessExecution, 'a ProcessExecution, never a shell string');
    const object = workspacePath('programs', 'tail_context.o');
    fs.rmSync(object, { force: true });
    const ended = waitForTaskEnd((e) => e.execution.task.name === task.name);
    await vscode.tasks.executeTask(task);
    assert.equal((await ended).exitCode, 0);
    assert.ok(fs.existsSync(object));
  });

  it("the task's problem matcher puts clang's error on the broken header's line", async () => {
    const uri = workspaceUri('bpf', 'custom', 'broken.h');
    // The command's diagnostics stay in their own collection; the matcher's come on top of them.
    const before = vscode.languages.getDiagnostics(uri).length;
    const tasks = await vscode.tasks.fetchTasks({ type: 'cilium-custom' });
    const task = tasks.find((t) => headerOf(t) === uri.fsPath && t.definition.action === 'build');
    assert.ok(task);
    const document = await vscode.workspace.openTextDocument(uri);
    const expectedLine = lineOf(document, '/* EXPECTED-ERROR */');
    const ended = waitForTaskEnd((e) => e.execution.task.name === task.name);
    const matched = waitForDiagnostics(uri, {
      source: null,
      predicate: (list) => list.length > before,
    });
    await vscode.tasks.executeTask(task);
    assert.notEqual((await ended).exitCode, 0);
    const diagnostics = await matched;
    const onLine = diagnostics.filter((d) => d.range.start.line === expectedLine && /undeclared/.test(d.message));
    assert.ok(onLine.length > before, JSON.stringify(diagnostics.map((d) => [d.range.start.line, d.message])));
  });
});

function headerOf(task: vscode.Task): string {
  return String(task.definition.header);
}
