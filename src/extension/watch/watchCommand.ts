// "Watch Map": opens a Watch Map panel (watchPanel.ts) on a pinned map of the active target, chosen from the Pinned
// Maps view's context menu or, from the palette, in a quick pick of the pinned maps. One panel per map: asking
// again reveals it. Returns the panel (a WatchMapHandle) so that tests can read what it drew.
import * as vscode from 'vscode';
import { mapLabel, mapLabels } from '../../core/maps/format';
import { listPinnedMaps, type PinnedMap } from '../../core/maps/maps';
import type { CiliumCustomContext } from '../context';
import { WatchPanel, type WatchMapHandle } from './watchPanel';

/** The open panels of each extension context, by pin path. */
const panelsByContext = new WeakMap<CiliumCustomContext, Map<string, WatchPanel>>();

function panelsOf(ctx: CiliumCustomContext): Map<string, WatchPanel> {
  let panels = panelsByContext.get(ctx);
  if (!panels) {
    const created = new Map<string, WatchPanel>();
    panels = created;
    panelsByContext.set(ctx, created);
    ctx.own({ dispose: () => [...created.values()].forEach((p) => p.dispose()) });
  }
  return panels;
}

/** The pin path an argument names: a Pinned Maps view node, `{ path }`, or the path itself. */
function pinPathOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg !== 'object' || arg === null) return undefined;
  const node = arg as { kind?: unknown; map?: { path?: unknown }; path?: unknown };
  if (node.kind === 'map' && typeof node.map?.path === 'string') return node.map.path;
  return typeof node.path === 'string' ? node.path : undefined;
}

async function pickMap(ctx: CiliumCustomContext): Promise<string | undefined> {
  const target = ctx.targets.active();
  const listing = listPinnedMaps(target, { dirs: ctx.config.mapDirectories(target.bpffsRoot), pinPrefix: ctx.config.pinPrefix }).then(({ maps }) => {
    const labels = mapLabels(maps.map((m) => m.path));
    return maps.map((map: PinnedMap) => ({ label: labels.get(map.path) ?? map.path, description: `${map.type}  max ${map.maxEntries}`, detail: map.path, path: map.path }));
  });
  const picked = await vscode.window.showQuickPick(listing, { title: `Watch Map on ${target.name}`, placeHolder: 'Pinned map to watch', matchOnDetail: true });
  return picked?.path;
}

export async function watchMapCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<WatchMapHandle | undefined> {
  const pinPath = pinPathOf(arg) ?? (await pickMap(ctx));
  if (!pinPath) return undefined;
  const panels = panelsOf(ctx);
  const open = panels.get(pinPath);
  if (open) {
    open.reveal();
    return open;
  }
  const panel = await WatchPanel.open(ctx, ctx.targets.active(), pinPath, mapLabel(pinPath), () => panels.delete(pinPath));
  panels.set(pinPath, panel);
  return panel;
}
