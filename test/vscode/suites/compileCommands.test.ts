// "Generate compile_commands.json for clangd" on the workspace's programs/ folder (the harness copies bpf/examples
// there): one entry per header, each compiling that header for the BPF target with the bundled SDK.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, waitForActivation, workspacePath } from '../util';

interface Entry {
  directory: string;
  file: string;
  arguments: string[];
}

describe('compile_commands.json', () => {
  let folder: string;
  let database: string;

  before(async () => {
    await waitForActivation();
    folder = workspacePath('programs');
    assert.ok(fs.existsSync(folder), `${folder} is missing: the harness copies bpf/examples there`);
    database = path.join(folder, 'compile_commands.json');
    fs.rmSync(database, { force: true });
  });

  after(async () => {
    fs.rmSync(database, { force: true });
    await closeAllEditors();
  });

  it('writes an entry per header of the folder given to the command', async () => {
    const headers = fs
      .readdirSync(folder)
      .filter((name) => name.endsWith('.h'))
      .map((name) => path.join(folder, name))
      .sort();
    assert.ok(headers.length > 0, `no headers in ${folder}`);

    await vscode.commands.executeCommand('ciliumCustom.generateCompileCommands', vscode.Uri.file(folder));

    assert.ok(fs.existsSync(database), `${database} was not written`);
    const entries = JSON.parse(fs.readFileSync(database, 'utf8')) as Entry[];
    assert.deepEqual(entries.map((e) => e.file).sort(), headers);
    const sdk = path.join(getExtension().extensionPath, 'bpf');
    for (const entry of entries) {
      assert.equal(entry.directory, sdk, `${entry.file}: flags come from the bundled SDK`);
      assert.equal(entry.arguments.at(-1), entry.file, 'the header itself is the compiled file');
      for (const flag of ['--target=bpf', '-O2', '-g', `-I${path.join(sdk, 'include')}`, 'sdk/prelude.h']) {
        assert.ok(entry.arguments.includes(flag), `${entry.file}: ${flag} missing from ${JSON.stringify(entry.arguments)}`);
      }
    }
  });

  it("uses the active header's folder when given nothing", async () => {
    fs.rmSync(database, { force: true });
    const header = path.join(folder, 'bytecount.h');
    await vscode.window.showTextDocument(vscode.Uri.file(header));
    await vscode.commands.executeCommand('ciliumCustom.generateCompileCommands');
    const entries = JSON.parse(fs.readFileSync(database, 'utf8')) as Entry[];
    assert.ok(entries.some((e) => e.file === header), `no entry for ${header}`);
  });
});
