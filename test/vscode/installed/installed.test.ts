// The packaged extension, as a user gets it: run.mjs --vsix installs the .vsix made by `npm run package` into the
// host's extensions directory and runs these suites against that copy (the repository is not loaded). They check
// that the package holds what the extension needs at run time and nothing of the source tree, and that its main
// jobs work from it: activation, every command, build and verify with the SDK it ships, the language server (its
// bundled server and wasm), and the bundled CLI.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runConfig } from '../index';
import { closeAllEditors, declaredCommands, getExtension, lineOf, openFile, requireOrSkip, waitForActivation, waitForCondition, waitForDiagnostics, workspacePath, workspaceUri } from '../util';

interface VerifyCommandResultShape {
  verdict: string;
  problem?: { kind: string; message: string };
}

/** The repository's test fixtures (the tests module runs from the repository, the extension does not). */
const FIXTURES = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures');

/** PIDs of live processes whose command line names `file` (Linux /proc). */
function processesRunning(file: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name))) {
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(file)) found.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

describe('installed vsix', function () {
  this.timeout(120_000);
  after(closeAllEditors);

  it('is the packaged copy in the extensions directory, with the run-time files and no source tree', () => {
    const installedUnder = runConfig().installedExtensionsDir;
    assert.ok(installedUnder, 'run by run.mjs --vsix');
    const root = getExtension().extensionPath;
    assert.ok(root.startsWith(installedUnder + path.sep), `${root} is not under ${installedUnder}`);
    for (const file of ['dist/extension.js', 'dist/server.js', 'dist/cli.js', 'bpf/Makefile', 'bpf/bpf_custom.c', 'bpf/examples/bytecount.h', 'snippets', 'syntaxes', 'SECURITY.md']) {
      assert.ok(fs.existsSync(path.join(root, file)), `the package lacks ${file}`);
    }
    const files = fs.readdirSync(root, { recursive: true, encoding: 'utf8' });
    assert.ok(files.some((f) => f.startsWith('dist') && f.endsWith('.wasm')), 'the language server wasm is packaged');
    for (const unwanted of ['src', 'test', 'node_modules', 'out', 'bench', 'scripts']) assert.ok(!fs.existsSync(path.join(root, unwanted)), `the package holds ${unwanted}/`);
    assert.deepEqual(files.filter((f) => /\.(o|ll|ts)$/.test(f) && !f.endsWith('.d.ts')), [], 'no build outputs or sources');
  });

  it('starts its language server only once a custom-program source is open', async () => {
    const server = path.join(getExtension().extensionPath, 'dist', 'server.js');
    const plain = workspacePath('plain-c', 'hello.c');
    fs.mkdirSync(path.dirname(plain), { recursive: true });
    fs.writeFileSync(plain, 'int main(void)\n{\n\treturn 0;\n}\n');
    // A header of plain C++ work: VS Code opens it as cpp, which activates the extension, but it is no custom program.
    fs.writeFileSync(path.join(path.dirname(plain), 'hello.h'), 'int hello(void);\n');
    try {
      await openFile('plain-c/hello.c');
      const header = await openFile('plain-c/hello.h');
      assert.equal(header.document.languageId, 'cpp');
      await waitForActivation();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(processesRunning(server), [], 'no language server for plain C or a plain header opened as C++');
      await openFile('programs/bytecount.h');
      await waitForCondition(() => processesRunning(server).length === 1, { timeoutMs: 15_000, description: 'the language server process' });
    } finally {
      await closeAllEditors();
      fs.rmSync(path.dirname(plain), { recursive: true, force: true });
    }
  });

  it('activates on a custom-program header and registers every command it declares', async () => {
    await openFile('programs/bytecount.h');
    await waitForActivation();
    const registered = new Set(await vscode.commands.getCommands(true));
    const declared = declaredCommands();
    assert.ok(declared.length > 10);
    assert.deepEqual(declared.filter((c) => !registered.has(c)), []);
  });

  it('builds and verifies a bundled example with the SDK it ships', async () => {
    const object = workspacePath('programs', 'hookcount_egress.o');
    fs.rmSync(object, { force: true });
    await openFile('programs/hookcount_egress.h');
    const result = (await vscode.commands.executeCommand('ciliumCustom.verify')) as VerifyCommandResultShape;
    assert.equal(result.problem, undefined, JSON.stringify(result.problem));
    assert.equal(result.verdict, 'accepted');
    assert.ok(fs.existsSync(object), 'the object was built next to the header');
  });

  it("puts a rejected header's verifier error on the line it names", async () => {
    const editor = await openFile('faults/null_deref.h');
    const expected = Number(/^\/\/ expect-verifier-error: line (\d+)/m.exec(editor.document.getText())?.[1]) - 1;
    const result = (await vscode.commands.executeCommand('ciliumCustom.verify', editor.document.uri)) as VerifyCommandResultShape;
    assert.equal(result.verdict, 'rejected', JSON.stringify(result.problem));
    const diagnostics = await waitForDiagnostics(workspaceUri('faults', 'null_deref.h'), { source: 'bpf-verifier' });
    assert.equal(diagnostics[0]?.range.start.line, expected, diagnostics[0]?.message);
  });

  it('runs its language server from the package (diagnostics on the faulty tail-call example)', async () => {
    const dir = workspacePath('programs-vsix-ls');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'server', 'faulty_tail_call.h'), path.join(dir, 'faulty_tail_call.h'));
    try {
      const editor = await openFile('programs-vsix-ls/faulty_tail_call.h');
      const diagnostics = await waitForDiagnostics(editor.document.uri, { source: 'cilium-custom', timeoutMs: 30_000 });
      assert.ok(diagnostics.some((d) => d.range.start.line === lineOf(editor.document, 'MISTAKE-NULL-CHECK')), JSON.stringify(diagnostics.map((d) => d.message)));
    } finally {
      await closeAllEditors();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a header\'s packet test cases from the package (its test runner, the test file it ships)', async () => {
    const record = (await vscode.commands.executeCommand('ciliumCustom.runTests', workspaceUri('programs', 'bytecount.h'))) as {
      outcomes: { state: string; name?: string }[];
    };
    assert.ok(record.outcomes.length >= 6, JSON.stringify(record));
    assert.deepEqual(record.outcomes.filter((o) => o.state !== 'passed'), [], JSON.stringify(record.outcomes));
  });

  it('draws Watch Map from the package (its webview script and stylesheet, under the strict CSP)', async () => {
    const dir = fs.mkdtempSync('/sys/fs/bpf/ccp-watch-vsix-');
    const pin = path.join(dir, 'vsix_watch');
    let handle: { dispose(): void; onDidRender: vscode.Event<{ samples: number; points: number }> } | undefined;
    try {
      spawnSync('bpftool', ['map', 'create', pin, 'type', 'hash', 'key', '4', 'value', '8', 'entries', '4', 'name', 'vsix_watch']);
      spawnSync('bpftool', ['map', 'update', 'pinned', pin, 'key', '1', '0', '0', '0', 'value', '5', '0', '0', '0', '0', '0', '0', '0']);
      handle = (await vscode.commands.executeCommand('ciliumCustom.watchMap', { path: pin })) as typeof handle;
      assert.ok(handle, 'the command returned its panel');
      const drawn = handle.onDidRender;
      // The webview reports what it drew: it only can once its bundled script ran under the panel's CSP.
      const report = await new Promise<{ samples: number; points: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the Watch Map webview drew nothing in 30 s')), 30_000);
        const listener = drawn((r) => {
          if (r.samples >= 2 && r.points >= 2) {
            clearTimeout(timer);
            listener.dispose();
            resolve(r);
          }
        });
      });
      assert.ok(report.points >= 2, JSON.stringify(report));
    } finally {
      handle?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('verifies on the kernel matrix from the package (a cached 6.1 in a VM, and the host)', async function () {
    const cached = fs.existsSync(path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cilium-custom', 'kernels', '6.1', 'vmlinuz'));
    requireOrSkip(this, cached, 'kernel 6.1 is not cached (the system tier fetches it: npx cilium-custom kernels fetch 6.1)');
    const result = (await vscode.commands.executeCommand('ciliumCustom.verifyMatrix', workspaceUri('programs', 'hookcount_ingress.h'), ['6.1', 'host'])) as {
      rows: { target: string; verdict: string }[];
    };
    assert.deepEqual(result.rows.map((r) => [r.target, r.verdict]), [['kernel-6.1', 'accepted'], ['local', 'accepted']]);
  });

  it('ships a working CLI (dist/cli.js verify --json on a bundled example)', () => {
    const cli = path.join(getExtension().extensionPath, 'dist', 'cli.js');
    const header = workspacePath('programs', 'hookcount_ingress.h');
    const run = spawnSync(process.execPath, [cli, 'verify', header, '--json'], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { verdict: string }).verdict, 'accepted');
  });
});
