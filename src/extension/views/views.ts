// The activity-bar views and the commands that act on their items.
import * as vscode from 'vscode';
import { dumpMap } from '../../core/maps/maps';
import type { CiliumCustomContext } from '../context';
import { EndpointsTree } from './endpointsTree';
import { entryJson, MapsTree, type MapsNode } from './mapsTree';

export class Views {
  readonly endpoints: EndpointsTree;
  readonly maps: MapsTree;

  constructor(private readonly ctx: CiliumCustomContext) {
    this.endpoints = new EndpointsTree(ctx);
    this.maps = ctx.own(new MapsTree(ctx));
    ctx.own(vscode.window.createTreeView('ciliumCustom.endpoints', { treeDataProvider: this.endpoints, showCollapseAll: true }));
    ctx.own(vscode.window.createTreeView('ciliumCustom.maps', { treeDataProvider: this.maps, showCollapseAll: true }));
  }

  refreshAll(): void {
    this.endpoints.refresh();
    this.maps.refresh();
  }

  copyEntry(node: MapsNode): Thenable<void> | undefined {
    if (node?.kind !== 'entry') return undefined;
    return vscode.env.clipboard.writeText(JSON.stringify(entryJson(node.entry), null, 2));
  }

  /** The whole map as one JSON document, read page by page. */
  async openDump(node: MapsNode): Promise<vscode.TextEditor | undefined> {
    if (node?.kind !== 'map') return undefined;
    const target = this.ctx.targets.active();
    const entries: unknown[] = [];
    for (let offset = 0; ; ) {
      const page = await dumpMap(target, node.map.path, { offset, limit: 10_000, pinPrefix: this.ctx.config.pinPrefix });
      entries.push(...page.entries.map(entryJson));
      offset += page.entries.length;
      if (!page.hasMore || page.entries.length === 0) break;
    }
    const content = JSON.stringify({ map: node.map.path, type: node.map.type, target: target.name, entries }, null, 2);
    const document = await vscode.workspace.openTextDocument({ language: 'json', content });
    return vscode.window.showTextDocument(document, { preview: false });
  }
}
