// A workspace's .vscode/settings.json (the fixture's names a fake bpftool, make, sudo and an SSH target) cannot
// redirect what the extension runs: those settings are machine-scoped, so VS Code ignores them in a workspace.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import { manifest, workspacePath } from '../util';

const MACHINE_ONLY = ['local.bpftoolPath', 'local.sudo', 'build.makeCommand', 'targets'];

describe('settings scope', () => {
  it('declares every executable, command, host and sudo setting with machine scope', () => {
    const properties = (manifest() as unknown as { contributes: { configuration: { properties: Record<string, { scope?: string }> } } }).contributes
      .configuration.properties;
    for (const key of MACHINE_ONLY) assert.equal(properties[`ciliumCustom.${key}`]?.scope, 'machine', key);
  });

  it("ignores the workspace's attempt to point bpftool, make, sudo and targets elsewhere", () => {
    const workspaceSettings = fs.readFileSync(workspacePath('.vscode', 'settings.json'), 'utf8');
    for (const key of MACHINE_ONLY) assert.ok(workspaceSettings.includes(`"ciliumCustom.${key}"`), `the fixture sets ${key} in the workspace`);
    const config = vscode.workspace.getConfiguration('ciliumCustom');
    assert.equal(config.get('local.bpftoolPath'), 'bpftool');
    assert.equal(config.get('local.sudo'), false);
    assert.equal(config.get('build.makeCommand'), 'make');
    assert.deepEqual(config.get('targets'), []);
  });

  it('refuses to select the target the workspace names', async () => {
    assert.equal(await vscode.commands.executeCommand('ciliumCustom.selectTarget', 'evil'), undefined);
    assert.equal(await vscode.commands.executeCommand('ciliumCustom.selectTarget', 'local'), 'local');
  });
});
