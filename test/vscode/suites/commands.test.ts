// Commands: what package.json declares and what the extension registers are the same set of ciliumCustom.* ids.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { manifest, COMMAND_PREFIX, declaredCommands, waitForActivation } from '../util';

/** Commands the extension may register without declaring them (e.g. tree-item click handlers). Keep it short. */
const UNDECLARED_ALLOWED = new Set<string>([]);

describe('commands', () => {
  before(async () => {
    await waitForActivation();
  });

  it('declares at least one command, all with the ciliumCustom. prefix', () => {
    const declared = declaredCommands();
    assert.ok(declared.length > 0, 'package.json contributes no commands');
    assert.deepEqual(
      declared.filter((id) => !id.startsWith(COMMAND_PREFIX)),
      [],
      `every contributed command id starts with ${COMMAND_PREFIX}`,
    );
  });

  it('registers every command that package.json declares', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = declaredCommands().filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], 'declared in package.json but not registered by activate()');
  });

  it('declares every ciliumCustom. command it registers', async () => {
    const declared = new Set(declaredCommands());
    // VS Code itself registers `<view id>.focus`, `.open`... for every contributed view.
    const views = Object.values((manifest() as unknown as { contributes: { views?: Record<string, { id: string }[]> } }).contributes.views ?? {})
      .flat()
      .map((view) => `${view.id}.`);
    const registered = (await vscode.commands.getCommands(true)).filter((id) => id.startsWith(COMMAND_PREFIX) && !views.some((v) => id.startsWith(v)));
    const undeclared = registered.filter((id) => !declared.has(id) && !UNDECLARED_ALLOWED.has(id));
    assert.deepEqual(undeclared, [], 'registered by activate() but missing from contributes.commands');
  });
});
