// The Pinned Maps view: maps under the target's bpffs grouped by owner (ours first, then Cilium's), each with its
// shape, and on expansion its entries page by page with BTF-formatted keys and values.
import * as vscode from 'vscode';
import { dumpMap, listPinnedMaps, type MapEntry, type MapOwner, type PinnedMap } from '../../core/maps/maps';
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
  readonly onDidChangeTreeData = this.changed.event;
  /** Entries loaded so far per map path (a page, then more with "load more"). */
  private readonly pages = new Map<string, { entries: MapEntry[]; hasMore: boolean }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: CiliumCustomContext) {
    ctx.own(this.changed);
    ctx.own(vscode.workspace.onDidChangeConfiguration((e) => ctx.config.affects(e) && this.schedule()));
    this.schedule();
  }

  refresh(): void {
    this.pages.clear();
    this.changed.fire(undefined);
  }

  async loadMore(node: MapsNode): Promise<void> {
    if (node.kind !== 'more') return;
    await this.fetchPage(node.map, node.offset);
    this.changed.fire(undefined);
  }

  async getChildren(node?: MapsNode): Promise<MapsNode[]> {
    const target = this.ctx.targets.active();
    if (!node) {
      try {
        const { maps, missingDirs, unreadable } = await listPinnedMaps(target, { dirs: this.ctx.config.mapDirectories(target.bpffsRoot), pinPrefix: this.ctx.config.pinPrefix });
        const problems: MapsNode[] = unreadable.map((u) => ({ kind: 'message', text: `Cannot read ${u.path}`, detail: u.error }));
        if (maps.length === 0) return [...problems, { kind: 'message', text: 'No pinned maps', detail: missingDirs.length ? `missing: ${missingDirs.join(', ')}` : undefined }];
        return [
          ...problems,
          ...(['ours', 'cilium', 'other'] as const)
            .map((owner) => ({ kind: 'group' as const, owner, maps: maps.filter((m) => m.owner === owner) }))
            .filter((group) => group.maps.length > 0),
        ];
      } catch (error) {
        return [{ kind: 'message', text: `Cannot list maps on ${target.name}`, detail: error instanceof Error ? error.message : String(error) }];
      }
    }
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
        const item = new vscode.TreeItem(map.pinName, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `map:${map.path}`;
        item.description = `${map.type}  key ${map.keySize} B  value ${map.valueSize} B  max ${map.maxEntries}`;
        item.tooltip = `${map.path}\nid ${map.id}${map.btfId ? `, BTF ${map.btfId}` : ''}`;
        item.contextValue = 'map';
        item.iconPath = new vscode.ThemeIcon('database');
        return item;
      }
      case 'entry': {
        const { entry } = node;
        const item = new vscode.TreeItem(`${show(entry.key.formatted ?? entry.key.integer ?? entry.key.hex)}`);
        item.id = `entry:${node.map.path}:${entry.index}`;
        item.description = entry.perCpu
          ? `Σ ${show(entry.sum?.formatted ?? entry.sum?.integer ?? '?')}  [${entry.perCpu.map((c) => show(c.value.formatted ?? c.value.integer ?? c.value.hex)).join(', ')}]`
          : `${show(entry.value?.formatted ?? entry.value?.integer ?? entry.value?.hex)}`;
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
    const page = await dumpMap(this.ctx.targets.active(), map.path, { offset, limit: this.ctx.config.mapPageSize, pinPrefix: this.ctx.config.pinPrefix });
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

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
