// The Pinned Maps view against the real kernel: two programs' maps of one name read apart by their pin folders,
// entries read by their BTF names (scalars after the declared type, structs by field), and "Open Map Dump" opens
// a read-only JSON document of the extension's own scheme (not an unsaved untitled file), read afresh when opened
// again. The maps are pinned by bpftool under a folder of this suite, which the view is pointed at.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, requestScreenshot, waitForActivation, workspacePath } from '../util';

// Test-only view of the extension's exported API (src/extension/main.ts CiliumCustomApi).
interface Node {
  kind: string;
  owner?: string;
  map?: { pinName: string; path: string };
  entry?: unknown;
}
interface Tree {
  getChildren(node?: Node): Promise<Node[]>;
  getTreeItem(node: Node): vscode.TreeItem;
  refresh(): void;
  view?: vscode.TreeView<Node>;
}

const ROOT = `/sys/fs/bpf/cilium-custom-test-maps-${process.pid}`;
const IDENTITY = 12345;
const BYTES = 2840;

/** `n` as little-endian bytes for bpftool (`0x39 0x30 0x00 0x00`). */
const le = (n: number, size: number): string[] => Array.from({ length: size }, (_, i) => `0x${((n / 256 ** i) & 0xff).toString(16).padStart(2, '0')}`);

describe('pinned maps view: labels, BTF names, the dump document', function () {
  this.timeout(120_000);
  let maps: Tree;
  let tmp: string | undefined;
  const config = () => vscode.workspace.getConfiguration('ciliumCustom');

  before(async function () {
    if (process.getuid?.() !== 0 || !fs.existsSync('/sys/fs/bpf')) {
      if (process.env.CI === 'true') throw new Error('pinning maps needs root and a bpffs under CI=true');
      this.skip();
    }
    await waitForActivation();
    maps = (getExtension().exports as { views: { maps: Tree } }).views.maps;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-maps-view-'));
    const sdk = workspacePath('bpf', 'custom');
    const load = (example: string, folder: string) => {
      const header = path.join(tmp!, `${example}.h`);
      if (!fs.existsSync(header)) {
        fs.copyFileSync(workspacePath('programs', `${example}.h`), header);
        execFileSync('make', ['-s', '-C', sdk, `BPF_CUSTOM_PROG_FILE=${header}`], { stdio: 'pipe' });
      }
      fs.mkdirSync(path.join(ROOT, folder), { recursive: true });
      execFileSync('bpftool', ['prog', 'load', path.join(tmp!, `${example}.o`), path.join(ROOT, folder, 'prog'), 'type', 'classifier', 'pinmaps', path.join(ROOT, folder, 'maps')], { stdio: 'pipe' });
    };
    load('bytecount', 'bytecount');
    load('bytecount', 'second');
    load('tail_context', 'tail_context');
    execFileSync('bpftool', ['map', 'update', 'pinned', `${ROOT}/bytecount/maps/bytecount_map`, 'key', ...le(IDENTITY, 4), 'value', ...le(BYTES, 8)]);
    await config().update('maps.directories', [ROOT], vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await closeAllEditors();
    if (maps) await config().update('maps.directories', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(ROOT, { recursive: true, force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function mapRows(): Promise<Map<string, Node>> {
    maps.refresh();
    const groups = await maps.getChildren();
    const rows = new Map<string, Node>();
    for (const group of groups.filter((g) => g.kind === 'group')) {
      for (const row of await maps.getChildren(group)) rows.set(String(maps.getTreeItem(row).label), row);
    }
    return rows;
  }

  it('labels each map by its pin folder, so two maps of one name read apart', async () => {
    const rows = await mapRows();
    assert.deepEqual([...rows.keys()].sort(), ['bytecount/bytecount_map', 'second/bytecount_map', 'tail_context/tail_context_bytes', 'tail_context/tail_context_families', 'tail_context/tail_context_map', 'tail_context/tail_context_progs']);
    const first = maps.getTreeItem(rows.get('bytecount/bytecount_map')!);
    assert.equal(first.tooltip?.toString().split('\n')[0], `${ROOT}/bytecount/maps/bytecount_map`);
    assert.match(String(first.description), /hash\s+key 4 B\s+value 8 B/);
  });

  it('shows entries by their BTF names: the declared scalar types, a struct\'s fields', async () => {
    const rows = await mapRows();
    const counter = await maps.getChildren(rows.get('bytecount/bytecount_map')!);
    assert.deepEqual(counter.map((e) => maps.getTreeItem(e).label), [`__u32 ${IDENTITY} → __u64 ${BYTES}`]);
    assert.deepEqual((await maps.getChildren(rows.get('second/bytecount_map')!)).map((e) => maps.getTreeItem(e).label), ['no entries']);
    const context = await maps.getChildren(rows.get('tail_context/tail_context_map')!);
    const item = maps.getTreeItem(context[0]!);
    assert.equal(item.label, '__u32 0 → Σ len 0, identity 0, ret 0, protocol 0, pad1 0, stages 0');
    assert.match(String(item.description), /^cpu0 \{len 0, identity 0, ret 0, protocol 0, pad1 0, stages 0\}/);
    // A map without BTF (a prog array): hex, with the integer.
    const slots = await maps.getChildren(rows.get('tail_context/tail_context_progs')!);
    assert.match(String(maps.getTreeItem(slots[0]!).label), /^00 00 00 00 \(0\) → ([0-9a-f]{2} ){3}[0-9a-f]{2} \(\d+\)$/);
  });

  it('opens the dump as a read-only JSON document of its own, read afresh when opened again', async () => {
    const rows = await mapRows();
    const row = rows.get('bytecount/bytecount_map')!;
    const editor = (await vscode.commands.executeCommand('ciliumCustom.openMapDump', row)) as vscode.TextEditor;
    const doc = editor.document;
    assert.equal(doc.uri.scheme, 'cilium-custom-map');
    assert.equal(path.posix.basename(doc.uri.path), 'bytecount_map.json');
    assert.equal(doc.isUntitled, false);
    assert.equal(doc.languageId, 'json');
    const dump = JSON.parse(doc.getText()) as { map: string; target: string; entries: unknown[] };
    assert.equal(dump.map, `${ROOT}/bytecount/maps/bytecount_map`);
    assert.deepEqual(dump.entries, [{ key: IDENTITY, value: BYTES }]);
    await vscode.commands.executeCommand('workbench.view.extension.ciliumCustom');
    await maps.view?.reveal(row, { expand: true, select: false, focus: false });
    await requestScreenshot('maps-dump');

    // Read-only: typing into it changes nothing, and there is nothing to save (where typing does type).
    const control = await vscode.workspace.openTextDocument({ content: '' });
    await vscode.window.showTextDocument(control, { preview: false });
    await vscode.commands.executeCommand('type', { text: 'typed' });
    assert.equal(control.getText(), 'typed', 'typing types into an editable document');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    const before = doc.getText();
    await vscode.window.showTextDocument(doc, { preview: false });
    await vscode.commands.executeCommand('type', { text: 'typed' });
    assert.equal(doc.getText(), before, 'typing into the dump changes nothing');
    assert.equal(doc.isDirty, false);

    execFileSync('bpftool', ['map', 'update', 'pinned', `${ROOT}/bytecount/maps/bytecount_map`, 'key', ...le(7, 4), 'value', ...le(1, 8)]);
    const again = (await vscode.commands.executeCommand('ciliumCustom.openMapDump', row)) as vscode.TextEditor;
    assert.equal(again.document.uri.toString(), doc.uri.toString(), 'the same document');
    assert.equal((JSON.parse(again.document.getText()) as { entries: unknown[] }).entries.length, 2, 'read afresh');
  });
});
