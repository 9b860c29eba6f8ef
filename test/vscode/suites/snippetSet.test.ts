// The tail-call snippets used as a user uses them: typed one after another into a new header, in the README's order,
// each expanded by VS Code's own snippet engine with its defaults. The result must lint clean and pass the kernel
// verifier through the Verify command.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, openFile, waitForActivation, waitForDiagnostics, workspacePath, requireOrSkip } from '../util';

const DIR = 'snippet-set';
/** The pieces of a tail-call program, in the README's order (the system test checks the README says so). */
const PIECES = ['ctailctx', 'cprogarray', 'cstage0', 'cstage1'];

interface Snippet {
  prefix: string;
  body: string | string[];
}

describe('the tail-call snippets, expanded together in the editor', function () {
  this.timeout(120_000);

  before(async function () {
    requireOrSkip(this, process.getuid?.() === 0, 'verifying needs root');
    await waitForActivation();
    fs.mkdirSync(workspacePath(DIR), { recursive: true });
  });

  after(async () => {
    await closeAllEditors();
    fs.rmSync(workspacePath(DIR), { recursive: true, force: true });
  });

  it('make one header that lints clean and the kernel verifier accepts', async () => {
    const file = path.join(getExtension().extensionPath, 'snippets', 'custom-programs.code-snippets');
    const snippets = Object.values(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Snippet>);
    const header = workspacePath(DIR, 'my_tail.h');
    fs.writeFileSync(header, '');
    const editor = await openFile(header);
    assert.equal(editor.document.languageId, 'cpp', 'a header opens as C++, as VS Code does by default');
    for (const prefix of PIECES) {
      const snippet = snippets.find((s) => s.prefix === prefix);
      assert.ok(snippet, `snippet ${prefix}`);
      const body = Array.isArray(snippet.body) ? snippet.body.join('\n') : snippet.body;
      const end = editor.document.lineAt(editor.document.lineCount - 1).range.end;
      assert.ok(await editor.insertSnippet(new vscode.SnippetString(`${body}\n`), end), `${prefix} inserted`);
      // Accept the defaults and leave the snippet, as Escape does.
      await vscode.commands.executeCommand('leaveSnippet');
    }
    assert.ok(await editor.document.save());
    const text = editor.document.getText();
    assert.ok(text.includes('custom_prog') && text.includes('tail_stage1'), text);

    const result = (await vscode.commands.executeCommand('ciliumCustom.verify', vscode.Uri.file(header))) as { verdict: string; problem?: { message: string } };
    assert.equal(result.verdict, 'accepted', `${JSON.stringify(result.problem)}\n${text}`);
    // The language server looked at it too: nothing to say about the assembled program.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const lints = await waitForDiagnostics(vscode.Uri.file(header), { source: 'cilium-custom', predicate: () => true });
    assert.deepEqual(lints.map((d) => d.message), []);
  });
});
