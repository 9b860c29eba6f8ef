// The language server in a real VS Code: the faulty tail-call example gets the server's diagnostics (source
// cilium-custom) on the marked lines, a quick fix is offered, and hovering bpf_tail_call shows the documentation
// from this machine's linux/bpf.h.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, lineOf, openFile, waitForActivation, waitForDiagnostics, workspacePath } from '../util';

const SOURCE = 'cilium-custom';
const UAPI = '/usr/include/linux/bpf.h';

describe('language server', () => {
  const dir = workspacePath('programs-ls');

  before(async () => {
    await waitForActivation();
    fs.mkdirSync(dir, { recursive: true });
    const fixtures = path.join(getExtension().extensionPath, 'test', 'fixtures', 'server');
    fs.copyFileSync(path.join(fixtures, 'faulty_tail_call.h'), path.join(dir, 'faulty_tail_call.h'));
    fs.writeFileSync(
      path.join(dir, 'hover.h'),
      '#include <bpf/api.h>\n\nstatic __always_inline\nvoid custom_prog(const struct __ctx_buff *ctx, __u32 identity)\n{\n\tbpf_tail_call((void *)ctx, &progs, 0);\n}\n',
    );
  });
  after(async () => {
    await closeAllEditors();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the diagnostics of the faulty tail-call example on their lines', async () => {
    const editor = await openFile('programs-ls/faulty_tail_call.h');
    const doc = editor.document;
    const expected = ['MISTAKE-PADDING', 'MISTAKE-PROG-ARRAY-INIT', 'MISTAKE-NOT-RESET', 'MISTAKE-NULL-CHECK', 'MISTAKE-PROG-ARRAY-CALL'].map((m) => lineOf(doc, m));
    const diagnostics = await waitForDiagnostics(doc.uri, { source: SOURCE, predicate: (d) => d.length >= expected.length, timeoutMs: 30_000 });
    assert.deepEqual(diagnostics.map((d) => d.range.start.line).sort((a, b) => a - b), expected);
    const nullCheck = diagnostics.find((d) => d.range.start.line === lineOf(doc, 'MISTAKE-NULL-CHECK'))!;
    assert.match(nullCheck.message, /tests `bytes`, not `fc`/);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, nullCheck.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.title.includes("Check 'fc' too in the NULL check"));
    assert.ok(fix?.edit, JSON.stringify(actions.map((a) => a.title)));
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(doc.getText(), /&zero\);\n\n\tif \(!fc \|\| !bytes\)\n\t\treturn faulty_verdict\(ctx\);/);
    await waitForDiagnostics(doc.uri, { source: SOURCE, predicate: (d) => d.length === expected.length - 1 && !d.some((x) => x.code === 'map-lookup-null') });
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('hovering bpf_tail_call shows its documentation from linux/bpf.h', async function () {
    if (!fs.existsSync(UAPI)) this.skip();
    const firstLine = /^ \* \t\t(This special helper is used to trigger.*)$/m.exec(fs.readFileSync(UAPI, 'utf8'))?.[1];
    assert.ok(firstLine, 'the header documents bpf_tail_call');
    const editor = await openFile('programs-ls/hover.h');
    const position = new vscode.Position(5, editor.document.lineAt(5).text.indexOf('bpf_tail_call') + 3);
    // The server may still be starting: ask again until it answers (hover has no event to wait on).
    let text = '';
    for (const deadline = Date.now() + 30_000; !text.includes(firstLine) && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, position);
      text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    }
    assert.ok(text.includes(firstLine), `hover: ${text}`);
    assert.match(text, /long bpf_tail_call\(void \*ctx, struct bpf_map \*prog_array_map, u32 index\)/);
  });
});
