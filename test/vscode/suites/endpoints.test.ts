// The attach loop in the editor against the real kernel: a sandbox endpoint appears in the Endpoints view with its
// four hooks, attaching the byte counter through the command fills two of them, traffic makes the counter map's
// entry appear in the Pinned Maps view, and detaching and removing the sandbox leave nothing behind.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { answeringQuickPick, getExtension, requestScreenshot, workspacePath, requireOrSkip } from '../util';

// Test-only view of the extension's exported API (src/extension/main.ts CiliumCustomApi).
interface Node {
  kind: string;
  endpoint?: { id: number };
  slot?: { hook: string; progId: number | null; ours: string | null };
  map?: { pinName: string; path: string; owner: string };
  owner?: string;
  entry?: { key: { integer: string | null }; value?: { integer: string | null } };
}
interface Tree {
  getChildren(node?: Node): Promise<Node[]>;
  getTreeItem(node: Node): vscode.TreeItem;
}
interface Api {
  views: { endpoints: Tree & { refresh(): void }; maps: Tree & { refresh(): void } };
}

const ENDPOINT = 4243;
const IDENTITY = 12345;

describe('endpoints and pinned maps views', function () {
  this.timeout(120_000);
  let api: Api;
  /** Where the byte counter's pins went (named after the header, -N when that name is taken). */
  let pinDir = '';

  before(async function () {
    requireOrSkip(this, process.getuid?.() === 0, 'the sandbox endpoint needs root');
    api = getExtension().exports as Api;
    await vscode.commands.executeCommand('ciliumCustom.removeSandbox', { endpointId: ENDPOINT });
    const up = await vscode.commands.executeCommand('ciliumCustom.createSandbox', { endpointId: ENDPOINT, identity: IDENTITY });
    assert.ok(up, 'the sandbox came up');
  });

  after(async () => {
    await vscode.commands.executeCommand('ciliumCustom.detach', { endpointId: ENDPOINT, hooks: ['ipv4-ingress', 'ipv4-egress'] });
    await vscode.commands.executeCommand('ciliumCustom.removeSandbox', { endpointId: ENDPOINT });
  });

  async function endpointHooks(): Promise<Node[]> {
    api.views.endpoints.refresh();
    const endpoints = await api.views.endpoints.getChildren();
    const endpoint = endpoints.find((n) => n.kind === 'endpoint' && n.endpoint?.id === ENDPOINT);
    assert.ok(endpoint, `endpoint ${ENDPOINT} listed: ${JSON.stringify(endpoints.map((n) => api.views.endpoints.getTreeItem(n).label))}`);
    return api.views.endpoints.getChildren(endpoint);
  }

  it('lists the sandbox endpoint with its four empty hooks', async () => {
    const hooks = await endpointHooks();
    assert.deepEqual(
      hooks.map((h) => [h.slot?.hook, api.views.endpoints.getTreeItem(h).description]),
      [
        ['ipv4-ingress', 'empty'],
        ['ipv4-egress', 'empty'],
        ['ipv6-ingress', 'empty'],
        ['ipv6-egress', 'empty'],
      ],
    );
  });

  it('attaching the byte counter through the command fills the two IPv4 hooks in the tree', async () => {
    const record = (await vscode.commands.executeCommand('ciliumCustom.attach', {
      header: workspacePath('programs', 'bytecount.h'),
      endpointId: ENDPOINT,
      hooks: ['ipv4-ingress', 'ipv4-egress'],
    })) as { pinName: string; pinDir: string } | undefined;
    assert.ok(record, 'attach returned its record');
    // `bytecount`, or `bytecount-2` when a bytecount of someone else's is pinned on this machine already.
    assert.match(record.pinName, /^bytecount(-\d+)?$/);
    pinDir = record.pinDir;
    const hooks = await endpointHooks();
    const filled = hooks.filter((h) => h.slot?.progId !== null).map((h) => [h.slot?.hook, h.slot?.ours]);
    assert.deepEqual(filled, [
      ['ipv4-ingress', record.pinName],
      ['ipv4-egress', record.pinName],
    ]);
    assert.equal(String(api.views.endpoints.getTreeItem(hooks[0]).description).replace(/#\d+/, '#N'), `${record.pinName} #N`, 'the header name comes first');
  });

  it('the attach button on a tree hook asks which header (never the active editor silently), and a second hook reuses the program', async () => {
    await vscode.window.showTextDocument(vscode.Uri.file(workspacePath('programs', 'bytecount.h')));
    const hook = (await endpointHooks()).find((h) => h.slot?.hook === 'ipv6-egress')!;
    const asking = vscode.commands.executeCommand('ciliumCustom.attach', hook);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // Only for the picture: the picker is up by then.
    await requestScreenshot('attach-header-picker');
    const dismissed = await answeringQuickPick(asking, 'workbench.action.closeQuickOpen');
    assert.equal(dismissed, undefined, 'nothing attached when the header picker is dismissed');
    assert.equal((await endpointHooks()).find((h) => h.slot?.hook === 'ipv6-egress')?.slot?.progId, null);

    const accepted = (await answeringQuickPick(vscode.commands.executeCommand('ciliumCustom.attach', hook), 'workbench.action.acceptSelectedQuickOpenItem')) as {
      reused: boolean;
      prog: { id: number };
    };
    assert.ok(accepted, 'the pre-selected item is the active header');
    assert.equal(accepted.reused, true, 'the header already runs in this endpoint: its program (and map) is reused');
    const after = await endpointHooks();
    assert.deepEqual(
      after.filter((h) => h.slot?.progId !== null).map((h) => h.slot?.progId),
      [accepted.prog.id, accepted.prog.id, accepted.prog.id],
      'one program in all three hooks',
    );
    await vscode.commands.executeCommand('ciliumCustom.detach', { endpointId: ENDPOINT, hooks: ['ipv6-egress'] });
  });

  it('shows the counter map and its rising entry in the pinned maps view after traffic', async () => {
    const traffic = (await vscode.commands.executeCommand('ciliumCustom.sandboxTraffic', { endpointId: ENDPOINT, count: 10 })) as { packetsSent: number };
    assert.ok(traffic.packetsSent > 0);
    api.views.maps.refresh();
    const groups = await api.views.maps.getChildren();
    assert.equal(groups[0]?.owner, 'ours', 'our maps come first');
    const maps = await api.views.maps.getChildren(groups[0]);
    const counter = maps.find((m) => m.map?.pinName === 'bytecount_map');
    assert.ok(counter, `bytecount_map listed: ${maps.map((m) => m.map?.pinName).join(', ')}`);
    assert.match(String(api.views.maps.getTreeItem(counter).description), /hash\s+key 4 B\s+value 8 B/);
    const entries = await api.views.maps.getChildren(counter);
    const mine = entries.find((e) => e.entry?.key.integer === String(IDENTITY));
    assert.ok(mine, 'an entry for the sandbox identity');
    assert.ok(Number(mine.entry?.value?.integer) > 0, 'the byte count rose');
    await vscode.commands.executeCommand('workbench.view.extension.ciliumCustom');
    await requestScreenshot('trees');

    // The commands on the view's items: copy an entry, open the whole dump, load more, refresh.
    await vscode.commands.executeCommand('ciliumCustom.copyMapEntry', mine);
    const copied = JSON.parse(await vscode.env.clipboard.readText()) as { key: number; value: number };
    assert.deepEqual(copied, { key: IDENTITY, value: Number(mine.entry?.value?.integer) });
    const dump = (await vscode.commands.executeCommand('ciliumCustom.openMapDump', counter)) as vscode.TextEditor;
    const document = JSON.parse(dump.document.getText()) as { map: string; entries: unknown[] };
    assert.equal(document.map, counter.map?.path);
    assert.equal(document.entries.length, entries.length);
    await vscode.commands.executeCommand('ciliumCustom.loadMoreEntries', { kind: 'more', map: counter.map, offset: entries.length });
    assert.equal((await api.views.maps.getChildren(counter)).length, entries.length, 'no entries beyond the last');
    await vscode.commands.executeCommand('ciliumCustom.refreshMaps');
    await vscode.commands.executeCommand('ciliumCustom.refreshEndpoints');
    await vscode.commands.executeCommand('ciliumCustom.showLog');
    assert.ok((await api.views.endpoints.getChildren()).some((n) => n.endpoint?.id === ENDPOINT), 'still listed after a refresh');
  });

  it('detaching through the command empties the hooks and removes our pins', async () => {
    await vscode.commands.executeCommand('ciliumCustom.detach', { endpointId: ENDPOINT, hooks: ['ipv4-ingress', 'ipv4-egress'] });
    const hooks = await endpointHooks();
    assert.ok(hooks.every((h) => h.slot?.progId === null));
    assert.ok(!fs.existsSync(pinDir), 'our pins are gone');
  });

  it('finds a program left in no slot and cleans it up through the command', async () => {
    const record = (await vscode.commands.executeCommand('ciliumCustom.attach', { header: workspacePath('programs', 'bytecount.h'), endpointId: ENDPOINT, hooks: ['ipv4-ingress'] })) as {
      pinDir: string;
    };
    pinDir = record.pinDir;
    assert.ok(fs.existsSync(pinDir));
    // The slot emptied behind the extension's back (by hand, or by an editor that died mid-detach).
    const map = `/sys/fs/bpf/tc/globals/cilium_calls_custom_${String(ENDPOINT).padStart(5, '0')}`;
    execFileSync('bpftool', ['map', 'delete', 'pinned', map, 'key', '0', '0', '0', '0']);
    const result = (await vscode.commands.executeCommand('ciliumCustom.cleanUpOrphans', { all: true })) as { orphans: { path: string }[]; failures: string[] };
    assert.ok(result.orphans.some((o) => o.path === pinDir), JSON.stringify(result));
    assert.deepEqual(result.failures, []);
    assert.ok(!fs.existsSync(pinDir), 'the leftover is gone');
  });
});
