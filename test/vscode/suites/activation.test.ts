// Activation: the extension comes up in a folder holding a Cilium-style custom-program Makefile.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, closeAllEditors, getExtension, manifest, openFile, waitForActivation, workspacePath } from '../util';

describe('activation', () => {
  after(closeAllEditors);

  it('loads the extension under development from this repository', () => {
    const extension = getExtension();
    assert.equal(extension.id, EXTENSION_ID);
    assert.equal(manifest().name, 'cilium-custom-programs');
    assert.equal(vscode.workspace.isTrusted, true, 'the launcher opens a trusted workspace');
  });

  it('is active once a custom-program header next to a bpf/custom/Makefile is open', async () => {
    const editor = await openFile('bpf/custom/counter.h');
    assert.equal(editor.document.uri.fsPath, workspacePath('bpf', 'custom', 'counter.h'));
    // Built-in language detection maps .h to c or cpp; the extension handles both.
    assert.ok(['c', 'cpp'].includes(editor.document.languageId), `unexpected language ${editor.document.languageId}`);
    const extension = await waitForActivation();
    assert.equal(extension.isActive, true);
  });
});
