// Packet test cases in the Testing view, against the real kernel: the workspace's *.test.json files appear under
// their headers with a run button on each case's line; "Run All Tests" runs them through the Testing API and every
// bundled example passes; a wrong expectation fails with an expected/actual diff on its line; a bench run puts
// ns/packet on custom_prog() as a CodeLens; run on save runs a saved test file. Picture:
// test-results/vscode-test-cases.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, openFile, requestScreenshot, requireOrSkip, waitForActivation, waitForCondition, waitForEvent, workspacePath, workspaceUri } from '../util';

// Test-only view of the extension's exported API (src/extension/testing/register.ts ProgTestsApi).
interface Outcome {
  id: string;
  state: string;
  messages: { message: string; expected?: string; actual?: string }[];
  nsPerPacket?: number;
}
interface RunRecord {
  bench: boolean;
  outcomes: Outcome[];
}
interface ProgTests {
  controller: vscode.TestController;
  discover(): Promise<void>;
  onDidStartRun: vscode.Event<void>;
  onDidFinishRun: vscode.Event<RunRecord>;
}

const WRONG = 'programs/bytecount-wrong.test.json';

describe('test cases in the Testing view', function () {
  this.timeout(180_000);
  let tests: ProgTests;

  before(async function () {
    requireOrSkip(this, process.getuid?.() === 0 && fs.existsSync('/sys/fs/bpf'), 'running test cases needs root and a bpffs');
    await waitForActivation();
    tests = (getExtension().exports as { progTests: ProgTests }).progTests;
  });

  after(async () => {
    fs.rmSync(workspacePath(WRONG), { force: true });
    await vscode.workspace.getConfiguration('ciliumCustom').update('test.runOnSave', undefined, vscode.ConfigurationTarget.Global);
    await closeAllEditors();
    const left = fs.readdirSync('/sys/fs/bpf').filter((n) => n.startsWith('cilium-custom-verify-'));
    assert.deepEqual(left, [], 'no temporary pins stay');
  });

  const fileItem = (relative: string) => tests.controller.items.get(workspacePath(relative));
  const finished = (description: string, predicate: (r: RunRecord) => boolean = () => true) =>
    waitForEvent(tests.onDidFinishRun, { predicate, description, timeoutMs: 150_000 });

  it('lists each test file under its header, one item per case on its line', async () => {
    await tests.discover();
    const item = fileItem('programs/bytecount.test.json');
    assert.ok(item, 'bytecount.test.json is found');
    assert.equal(item.label, 'bytecount.h');
    assert.ok(item.children.size >= 6, `${item.children.size} cases`);
    const lines = new Set<number>();
    item.children.forEach((c) => {
      assert.ok(c.range, `${c.label} has a place in the file`);
      lines.add(c.range.start.line);
    });
    assert.equal(lines.size, item.children.size, 'each case on its own line');
    for (const example of ['hookcount_ingress', 'hookcount_egress', 'tail_context']) assert.ok(fileItem(`programs/${example}.test.json`), example);
  });

  it('"Run All Tests" runs every case through the Testing API, and every bundled example passes', async () => {
    // The workbench mirrors the tree only once something shows it (the Testing view, an open test file), and that
    // mirror fills asynchronously; until then "Run All Tests" finds no tests and runs nothing. Hence the retries.
    await openFile('programs/bytecount.test.json');
    await vscode.commands.executeCommand('workbench.view.testing.focus');
    const done = finished('the run of every test file', (r) => !r.bench && r.outcomes.length >= 17);
    void done.catch(() => undefined); // awaited below, unless no run starts
    let started = false;
    const starts = tests.onDidStartRun(() => (started = true));
    try {
      for (let attempt = 0; attempt < 30 && !started; attempt++) {
        await vscode.commands.executeCommand('testing.runAll');
        const deadline = Date.now() + 1000;
        while (!started && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      starts.dispose();
    }
    assert.ok(started, 'Run All Tests started a run');
    const record = await done;
    const failed = record.outcomes.filter((o) => o.state !== 'passed');
    assert.deepEqual(failed, [], 'every case passes');
    assert.ok(record.outcomes.some((o) => o.id.endsWith('bytecount.test.json#IPv6 TCP, three packets')));
  });

  it('a wrong expectation fails with expected and actual as a diff', async () => {
    const json = JSON.parse(fs.readFileSync(workspacePath('programs', 'bytecount.test.json'), 'utf8')) as { cases: { name: string; expect?: unknown }[] };
    const wrong = {
      header: 'bytecount.h',
      cases: [{ ...json.cases[0], name: 'wrong: expects 100 bytes and a drop', expect: { return: 2, maps: { bytecount_map: { entries: [{ key: 12345, value: 100 }] } } } }],
    };
    fs.writeFileSync(workspacePath(WRONG), JSON.stringify(wrong, null, 2));
    // Open first: a failure in a visible document opens the peek with the diff (testing.automaticallyOpenPeekView).
    await openFile(WRONG);
    const record = (await vscode.commands.executeCommand('ciliumCustom.runTests', workspaceUri(WRONG))) as RunRecord;
    assert.equal(record.outcomes.length, 1);
    const [outcome] = record.outcomes;
    assert.equal(outcome.state, 'failed');
    assert.deepEqual(
      outcome.messages.map((m) => [m.message, m.expected, m.actual]),
      [
        ['return code: expected 2, got 0', '2', '0'],
        ['bytecount_map[12345]: expected 100, got 106', '100', '106'],
      ],
    );
    await vscode.commands.executeCommand('workbench.view.testing.focus');
    await waitForCondition(() => fileItem(WRONG) !== undefined, { description: 'the wrong file in the tree' });
    // The failure's peek: the message and its expected/actual diff, under the case's line (from the editor).
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('testing.goToNextMessage');
    await requestScreenshot('test-cases');
  });

  it('a bench run puts ns/packet on custom_prog() as a CodeLens', async () => {
    const header = workspaceUri('programs', 'bytecount.h');
    const record = (await vscode.commands.executeCommand('ciliumCustom.runTests', header, { bench: true })) as RunRecord;
    assert.ok(record.bench);
    const timed = record.outcomes.filter((o) => o.state === 'passed' && (o.nsPerPacket ?? 0) > 0);
    assert.equal(timed.length, record.outcomes.length, JSON.stringify(record.outcomes));
    const editor = await openFile('programs/bytecount.h');
    // The lens is recorded before the command returns: the provider has it at once.
    const all = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', header)) as vscode.CodeLens[];
    const lenses = all.filter((l) => /ns\/packet/.test(l.command?.title ?? ''));
    assert.equal(lenses.length, 1, JSON.stringify(all.map((l) => l.command?.title)));
    assert.match(lenses[0].command!.title, /^\d+ ns\/packet, IPv4 UDP 106 B, kernel \d+\.\d+/);
    assert.match(editor.document.lineAt(lenses[0].range.start.line).text, /custom_prog\s*\(/);
  });

  it('runs a test file when it is saved, with ciliumCustom.test.runOnSave', async () => {
    await vscode.workspace.getConfiguration('ciliumCustom').update('test.runOnSave', true, vscode.ConfigurationTarget.Global);
    const editor = await openFile('programs/hookcount_egress.test.json');
    const done = finished('the run on save', (r) => r.outcomes.some((o) => o.id.includes('hookcount_egress.test.json#')));
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), ' '));
    await editor.document.save();
    const record = await done;
    assert.ok(record.outcomes.length >= 3);
    assert.ok(record.outcomes.every((o) => o.state === 'passed'), JSON.stringify(record.outcomes));
    // Saving it back runs it again: waited for, so no run is still under way when the suite ends.
    const again = finished('the run of the restoring save', (r) => r.outcomes.some((o) => o.id.includes('hookcount_egress.test.json#')));
    await editor.edit((edit) => edit.delete(new vscode.Range(0, 0, 0, 1)));
    await editor.document.save();
    assert.ok((await again).outcomes.every((o) => o.state === 'passed'));
  });
});
