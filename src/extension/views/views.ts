// The activity-bar views and the commands that act on their items.
import * as vscode from 'vscode';
import type { CiliumCustomContext } from '../context';
import { EndpointsTree } from './endpointsTree';
import { entryJson, MapsTree, type MapsNode } from './mapsTree';

export class Views {
  readonly endpoints: EndpointsTree;
  readonly maps: MapsTree;

  constructor(ctx: CiliumCustomContext) {
    this.endpoints = new EndpointsTree(ctx);
    this.maps = ctx.own(new MapsTree(ctx));
    ctx.own(vscode.window.createTreeView('ciliumCustom.endpoints', { treeDataProvider: this.endpoints, showCollapseAll: true }));
    this.maps.view = ctx.own(vscode.window.createTreeView('ciliumCustom.maps', { treeDataProvider: this.maps, showCollapseAll: true }));
  }

  refreshAll(): void {
    this.endpoints.refresh();
    this.maps.refresh();
  }

  copyEntry(node: MapsNode): Thenable<void> | undefined {
    if (node?.kind !== 'entry') return undefined;
    return vscode.env.clipboard.writeText(JSON.stringify(entryJson(node.entry), null, 2));
  }

  /** The whole map as one read-only JSON document (mapsTree.ts, MapDumpDocuments). */
  openDump(node: MapsNode): Promise<vscode.TextEditor | undefined> {
    return this.maps.openDump(node);
  }
}
