// The sandbox commands on sandboxes other than 4242, driven the way the Endpoints view drives them: its rows of
// sandbox endpoints carry the sandbox context value (for the inline Send Traffic and Remove entries), and the
// commands act on the row they were invoked on, and on no other sandbox.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { getExtension, requireOrSkip } from '../util';

interface Node {
  kind: string;
  endpoint?: { id: number };
  sandbox?: boolean;
}
interface Tree {
  getChildren(node?: Node): Promise<Node[]>;
  getTreeItem(node: Node): vscode.TreeItem;
  refresh(): void;
}
interface Api {
  views: { endpoints: Tree };
}

/** Two sandboxes at once, neither the default: 10.200.31.0/30 and 10.200.32.0/30. */
const FIRST = 4531;
const SECOND = 4532;
const stateFile = (id: number) => `/run/cilium-custom-sandbox/${id}.json`;

describe('sandbox commands on any sandbox id', function () {
  this.timeout(120_000);
  let api: Api;

  async function row(id: number): Promise<Node | undefined> {
    api.views.endpoints.refresh();
    return (await api.views.endpoints.getChildren()).find((n) => n.kind === 'endpoint' && n.endpoint?.id === id);
  }

  before(async function () {
    requireOrSkip(this, process.getuid?.() === 0, 'the sandbox endpoint needs root');
    api = getExtension().exports as Api;
    for (const id of [FIRST, SECOND]) {
      await vscode.commands.executeCommand('ciliumCustom.removeSandbox', { endpointId: id });
      assert.ok(await vscode.commands.executeCommand('ciliumCustom.createSandbox', { endpointId: id }), `sandbox ${id} came up`);
    }
  });

  after(async () => {
    for (const id of [FIRST, SECOND]) await vscode.commands.executeCommand('ciliumCustom.removeSandbox', { endpointId: id });
  });

  it('marks sandbox endpoints in the Endpoints view for their inline commands', async () => {
    for (const id of [FIRST, SECOND]) {
      const node = await row(id);
      assert.ok(node, `endpoint ${id} is listed`);
      const item = api.views.endpoints.getTreeItem(node);
      assert.equal(item.contextValue, 'endpoint-sandbox');
      assert.match(String(item.description), /^sandbox/);
    }
  });

  it('sends traffic through the sandbox whose row it was invoked on', async () => {
    const node = await row(SECOND);
    assert.ok(node);
    const result = (await vscode.commands.executeCommand('ciliumCustom.sandboxTraffic', node)) as { packetsSent: number; families: { family: string; sent: number; echoed: number }[] } | undefined;
    assert.ok(result, 'the traffic ran');
    assert.deepEqual(
      result.families.map((f) => [f.family, f.sent, f.echoed]),
      [
        ['ipv4', 20, 20],
        ['ipv6', 20, 20],
      ],
    );
  });

  it('removes only the sandbox whose row it was invoked on', async () => {
    const node = await row(FIRST);
    assert.ok(node);
    assert.equal(await vscode.commands.executeCommand('ciliumCustom.removeSandbox', node), true);
    assert.ok(!fs.existsSync(stateFile(FIRST)), `sandbox ${FIRST} is gone`);
    assert.ok(fs.existsSync(stateFile(SECOND)), `sandbox ${SECOND} is still there`);
    assert.equal(await row(FIRST), undefined, 'its row is gone');
    assert.ok(await row(SECOND));
  });

  it('does nothing for a sandbox that is not up (it says to create one first)', async () => {
    assert.equal(await vscode.commands.executeCommand('ciliumCustom.sandboxTraffic', { endpointId: FIRST }), undefined);
    assert.equal(await vscode.commands.executeCommand('ciliumCustom.removeSandbox', { endpointId: FIRST }), false);
    assert.ok(fs.existsSync(stateFile(SECOND)), `sandbox ${SECOND} was not touched`);
  });
});
