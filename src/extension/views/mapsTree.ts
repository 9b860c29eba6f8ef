// The Pinned Maps view: maps under the target's bpffs grouped by owner (ours first, then Cilium's), each labelled
// by its pin folder (`bytecount/bytecount_map`) with its shape, and on expansion its entries page by page, keys and
// values by their BTF names (`identity 12345 → bytes 2840`, `__u32 12345 → __u64 2840`; hex without BTF). The
// whole map opens as a read-only JSON document of its own scheme (MapDumpDocuments), not an unsaved file.
import * as vscode from 'vscode';
import { mapTypeNames } from '../../core/maps/btfTypes';
import { formatEntry, mapLabels, needsTypeNames, type MapTypeNames } from '../../core/maps/format';
import { dumpMap, listPinnedMaps, type MapEntry, type MapOwner, type PinnedMap } from '../../core/maps/maps';
import { RefreshGate } from './refreshGate';
import type { CiliumCustomContext } from '../context';

export type MapsNode =
  | { kind: 'group'; owner: MapOwner; maps: PinnedMap[] }
  | { kind: 'map'; map: PinnedMap }
  | { kind: 'entry'; map: PinnedMap; entry: MapEntry }
  | { kind: 'more'; map: PinnedMap; offset: number }
  | { kind: 'message'; text: string; detail?: string };

const GROUP_LABELS: Record<MapOwner, string> = { ours: 'Our programs', cilium: 'Cilium', other: 'Other' };

export class MapsTree implements vscode.TreeDataProvider<MapsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<MapsNode | undefined>();
  private readonly gate = new RefreshGate(() => this.changed.fire(undefined));
  readonly onDidChangeTreeData = this.changed.event;
  /** Entries loaded so far per map path (a page, then more with "load more"). */
  private readonly pages = new Map<string, { entries: MapEntry[]; hasMore: boolean }>();
  /** Key and value type names per map (pin path and map id), read once for maps whose entries are BTF scalars. */
  private readonly typeNames = new Map<string, MapTypeNames>();
  /** Row labels of the maps last listed, by path (`bytecount/bytecount_map`). */
  private labels = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  readonly dumps: MapDumpDocuments;
  /** The view showing this tree (views.ts), for reveal. */
  view: vscode.TreeView<MapsNode> | undefined;

  constructor(private readonly ctx: CiliumCustomContext) {
    ctx.own(this.changed);
    ctx.own(this.gate);
    ctx.own(vscode.workspace.onDidChangeConfiguration((e) => ctx.config.affects(e) && this.schedule()));
    this.dumps = ctx.own(new MapDumpDocuments(ctx));
    this.schedule();
  }

  refresh(): void {
    this.pages.clear();
    this.typeNames.clear();
    this.gate.request();
  }

  /** The row label of a map: its pin folder and name, longer where two would read the same. */
  labelOf(map: PinnedMap): string {
    return this.labels.get(map.path) ?? mapLabels([map.path]).get(map.path)!;
  }

  /** Opens the whole map as a read-only JSON document (MAP_DUMP_SCHEME), read afresh each time. */
  openDump(node: MapsNode): Promise<vscode.TextEditor | undefined> {
    if (node?.kind !== 'map') return Promise.resolve(undefined);
    return this.dumps.open(node.map);
  }

  async loadMore(node: MapsNode): Promise<void> {
    if (node.kind !== 'more') return;
    await this.fetchPage(node.map, node.offset);
    this.changed.fire(undefined);
  }

  /** Parents by id (`group:<owner>`, `map:<path>`), so that the view can reveal a map or an entry. */
  getParent(node: MapsNode): MapsNode | undefined {
    if (node.kind === 'map') return { kind: 'group', owner: node.map.owner, maps: [] };
    if (node.kind === 'entry' || node.kind === 'more') return { kind: 'map', map: node.map };
    return undefined;
  }

  async getChildren(node?: MapsNode): Promise<MapsNode[]> {
    if (!node) return this.gate.whileListing(() => this.rootChildren());
    return this.childrenOf(node);
  }

  private async rootChildren(): Promise<MapsNode[]> {
    const target = this.ctx.targets.active();
    {
      try {
        const { maps, missingDirs } = await listPinnedMaps(target, { dirs: this.ctx.config.mapDirectories(target.bpffsRoot), pinPrefix: this.ctx.config.pinPrefix });
        this.labels = mapLabels(maps.map((m) => m.path));
        if (maps.length === 0) return [{ kind: 'message', text: 'No pinned maps', detail: missingDirs.length ? `missing: ${missingDirs.join(', ')}` : undefined }];
        return [
          ...(['ours', 'cilium', 'other'] as const)
            .map((owner) => ({ kind: 'group' as const, owner, maps: maps.filter((m) => m.owner === owner) }))
            .filter((group) => group.maps.length > 0),
        ];
      } catch (error) {
        return [{ kind: 'message', text: `Cannot list maps on ${target.name}`, detail: error instanceof Error ? error.message : String(error) }];
      }
    }
  }

  private async childrenOf(node: MapsNode): Promise<MapsNode[]> {
    if (node.kind === 'group') return node.maps.map((map) => ({ kind: 'map', map }));
    if (node.kind !== 'map') return [];
    try {
      const page = this.pages.get(node.map.path) ?? (await this.fetchPage(node.map, 0));
      const entries: MapsNode[] = page.entries.map((entry) => ({ kind: 'entry', map: node.map, entry }));
      if (page.hasMore) entries.push({ kind: 'more', map: node.map, offset: page.entries.length });
      return entries.length ? entries : [{ kind: 'message', text: 'no entries' }];
    } catch (error) {
      return [{ kind: 'message', text: 'Cannot dump this map', detail: error instanceof Error ? error.message : String(error) }];
    }
  }

  getTreeItem(node: MapsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.description = node.detail;
        item.tooltip = node.detail;
        return item;
      }
      case 'group': {
        const item = new vscode.TreeItem(GROUP_LABELS[node.owner], vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.owner}`;
        item.description = `${node.maps.length}`;
        return item;
      }
      case 'map': {
        const { map } = node;
        const item = new vscode.TreeItem(this.labelOf(map), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `map:${map.path}`;
        item.description = `${map.type}  key ${map.keySize} B  value ${map.valueSize} B  max ${map.maxEntries}`;
        item.tooltip = `${map.path}\nid ${map.id}${map.btfId ? `, BTF ${map.btfId}` : ''}`;
        item.contextValue = 'map';
        item.iconPath = new vscode.ThemeIcon('database');
        return item;
      }
      case 'entry': {
        const { entry } = node;
        const text = formatEntry(entry, this.typeNames.get(typeNamesKey(node.map)));
        const item = new vscode.TreeItem(text.label);
        item.id = `entry:${node.map.path}:${entry.index}`;
        item.description = text.description;
        item.tooltip = JSON.stringify(entryJson(entry), null, 2);
        item.contextValue = 'mapEntry';
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem('load more…');
        item.command = { command: 'ciliumCustom.loadMoreEntries', title: 'Load more', arguments: [node] };
        return item;
      }
    }
  }

  private async fetchPage(map: PinnedMap, offset: number): Promise<{ entries: MapEntry[]; hasMore: boolean }> {
    const target = this.ctx.targets.active();
    const page = await dumpMap(target, map.path, { offset, limit: this.ctx.config.mapPageSize, pinPrefix: this.ctx.config.pinPrefix });
    const key = typeNamesKey(page.map);
    if (!this.typeNames.has(key) && needsTypeNames(page.entries)) this.typeNames.set(key, await mapTypeNames(target, page.map));
    const previous = offset === 0 ? [] : (this.pages.get(map.path)?.entries ?? []);
    const merged = { entries: [...previous, ...page.entries], hasMore: page.hasMore };
    this.pages.set(map.path, merged);
    return merged;
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    const seconds = this.ctx.config.mapAutoRefreshSeconds;
    this.timer = seconds > 0 ? setInterval(() => this.refresh(), seconds * 1000) : undefined;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** An entry as plain JSON (for "Copy as JSON" and the tooltip). */
export function entryJson(entry: MapEntry): unknown {
  const value = (v: { formatted?: unknown; integer: string | null; hex: string }) => v.formatted ?? (v.integer !== null ? Number(v.integer) : v.hex);
  return entry.perCpu
    ? { key: value(entry.key), sum: entry.sum ? value({ ...entry.sum, hex: '' }) : null, perCpu: entry.perCpu.map((c) => value(c.value)) }
    : { key: value(entry.key), value: entry.value ? value(entry.value) : null };
}

/** Type names are per map object: a map re-created under the same pin gets another id. */
const typeNamesKey = (map: PinnedMap): string => `${map.path}#${map.id}`;

export const MAP_DUMP_SCHEME = 'cilium-custom-map';

/**
 * Whole-map JSON dumps as read-only documents of their own scheme: `cilium-custom-map:/<target>/<pin path>.json`
 * (so the tab reads `bytecount_map.json`). `open` reads the map afresh and shows it; a document restored with the
 * window reads it when VS Code asks for its content.
 */
export class MapDumpDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** Content read by `open`, until VS Code has asked for it. */
  private readonly pending = new Map<string, string>();
  private readonly registration: vscode.Disposable;

  constructor(private readonly ctx: CiliumCustomContext) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(MAP_DUMP_SCHEME, this);
  }

  static uriFor(targetName: string, pinPath: string): vscode.Uri {
    return vscode.Uri.from({ scheme: MAP_DUMP_SCHEME, path: `/${encodeURIComponent(targetName)}${pinPath}.json` });
  }

  static parse(uri: vscode.Uri): { targetName: string; pinPath: string } | undefined {
    const m = /^\/([^/]+)(\/.+)\.json$/.exec(uri.path);
    return m ? { targetName: decodeURIComponent(m[1]!), pinPath: m[2]! } : undefined;
  }

  async open(map: PinnedMap): Promise<vscode.TextEditor> {
    const target = this.ctx.targets.active();
    const uri = MapDumpDocuments.uriFor(target.name, map.path);
    const content = await this.read(target.name, map.path);
    this.pending.set(uri.toString(), content);
    const already = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (already) {
      // Refresh the open document: VS Code asks for the content again.
      const updated = new Promise<void>((resolve) => {
        const sub = vscode.workspace.onDidChangeTextDocument((e) => {
          if (e.document.uri.toString() !== uri.toString()) return;
          sub.dispose();
          resolve();
        });
        setTimeout(() => {
          sub.dispose();
          resolve();
        }, 5_000);
      });
      this.changed.fire(uri);
      if (already.getText() !== content) await updated;
    }
    let document = await vscode.workspace.openTextDocument(uri);
    if (document.languageId !== 'json') document = await vscode.languages.setTextDocumentLanguage(document, 'json');
    return vscode.window.showTextDocument(document, { preview: false });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const key = uri.toString();
    const content = this.pending.get(key);
    if (content !== undefined) {
      this.pending.delete(key);
      return content;
    }
    const parsed = MapDumpDocuments.parse(uri);
    if (!parsed) return JSON.stringify({ error: `not a map dump: ${key}` }, null, 2);
    try {
      return await this.read(parsed.targetName, parsed.pinPath);
    } catch (error) {
      return JSON.stringify({ map: parsed.pinPath, target: parsed.targetName, error: error instanceof Error ? error.message : String(error) }, null, 2);
    }
  }

  /** The whole map as one JSON text, read page by page. */
  private async read(targetName: string, pinPath: string): Promise<string> {
    const target = this.ctx.targets.active();
    if (target.name !== targetName) throw new Error(`${pinPath} was read on target ${targetName}, and ${target.name} is active now: select ${targetName} and open the dump again`);
    const entries: unknown[] = [];
    let type = '';
    for (let offset = 0; ; ) {
      const page = await dumpMap(target, pinPath, { offset, limit: 10_000, pinPrefix: this.ctx.config.pinPrefix });
      type = page.map.type;
      entries.push(...page.entries.map(entryJson));
      offset += page.entries.length;
      if (!page.hasMore || page.entries.length === 0) break;
    }
    return JSON.stringify({ map: pinPath, type, target: target.name, entries }, null, 2);
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
    this.pending.clear();
  }
}
