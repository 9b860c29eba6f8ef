// A workspace that is a folder of custom-program headers and nothing else (test/fixtures/vscode-headers-only: no
// Makefile, no bpf_custom.c, no files.associations), as a user's own repository of custom programs or a folder built
// with the bundled SDK. VS Code opens its headers as C++. Opening one must start the extension and its language
// server by itself: no view clicked, no command run (issue 12 item 1). run.mjs opens this workspace in a window of
// its own (session "headers-only"), in both tiers: against the repository, and with --vsix against the installed
// package.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runConfig } from '../index';
import { closeAllEditors, getExtension, lineOf, openFile, requestScreenshot, showProblems, waitForActivation, waitForDiagnostics, workspacePath, workspaceRoot } from '../util';

const LINT_SOURCE = 'cilium-custom';
const HEADER = 'unchecked_counter.h';

interface BuildResultShape {
  ok: boolean;
  objectPath: string;
  failure?: string;
  makeDir?: { source: string };
}

describe('headers-only workspace (no Makefile, no bpf_custom.c)', function () {
  this.timeout(90_000);
  after(closeAllEditors);

  it('holds only headers, and nothing has activated the extension yet', () => {
    const files = fs.readdirSync(workspaceRoot(), { recursive: true, encoding: 'utf8' }).filter((f) => !f.startsWith('.vscode'));
    assert.ok(files.length >= 2, JSON.stringify(files));
    assert.deepEqual(files.filter((f) => !f.endsWith('.h')), [], 'only headers in the workspace');
    assert.equal(vscode.workspace.getConfiguration('files').get<Record<string, string>>('associations', {})['*.h'], undefined, 'no files.associations for .h');
    const extension = getExtension();
    const installedUnder = runConfig().installedExtensionsDir;
    if (installedUnder) assert.ok(extension.extensionPath.startsWith(installedUnder + path.sep), `${extension.extensionPath} is not the installed copy`);
    assert.equal(extension.isActive, false, 'the extension is active before any header was opened: the test below would prove nothing');
  });

  it('opening a header (as C++) activates the extension and shows its lint on the marked line', async () => {
    const editor = await openFile(HEADER);
    const document = editor.document;
    assert.equal(document.languageId, 'cpp', 'VS Code opens .h as C++ by default');
    await waitForActivation();
    const expected = lineOf(document, 'EXPECTED-LINT');
    const diagnostics = await waitForDiagnostics(document.uri, {
      source: LINT_SOURCE,
      predicate: (found) => found.some((d) => d.range.start.line === expected),
      timeoutMs: 45_000,
    });
    const lint = diagnostics.find((d) => d.range.start.line === expected)!;
    assert.equal(lint.code, 'map-lookup-null');
    assert.match(lint.message, /`bytes`.*may be NULL/);
    await showProblems();
    await requestScreenshot('headers-only-lint');
  });

  it('builds a header of the folder through the bundled SDK', async () => {
    const object = workspacePath('checked_counter.o');
    fs.rmSync(object, { force: true });
    const result = (await vscode.commands.executeCommand('ciliumCustom.build', vscode.Uri.file(workspacePath('checked_counter.h')))) as BuildResultShape;
    assert.equal(result.failure, undefined);
    assert.equal(result.ok, true);
    assert.equal(result.makeDir?.source, 'bundled-sdk');
    assert.ok(fs.existsSync(object), 'the object file exists');
    fs.rmSync(object, { force: true });
  });
});
