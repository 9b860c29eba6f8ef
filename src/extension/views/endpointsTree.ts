// The Endpoints view: each endpoint with a custom-calls map on the active target, its four hooks and what occupies
// them. When the target has no such map, the view is empty and its welcome content (package.json viewsWelcome) says
// why and offers the sandbox; a discovery that failed is one item saying why.
import * as vscode from 'vscode';
import { discoverEndpoints, type DiscoveredEndpoint, type DiscoveryResult, type SlotInfo } from '../../core/endpoints/discover';
import { listSandboxIds } from '../../core/sandbox/sandbox';
import { offerOrphanCleanup } from '../attach/orphansCommand';
import { RefreshGate } from './refreshGate';
import type { CiliumCustomContext } from '../context';

export type EndpointsNode =
  | { kind: 'endpoint'; endpoint: DiscoveredEndpoint; /** A local sandbox endpoint (Send Traffic, Remove Sandbox on its row). */ sandbox?: boolean }
  | { kind: 'hook'; endpoint: DiscoveredEndpoint; slot: SlotInfo }
  | { kind: 'message'; text: string; detail?: string };

export class EndpointsTree implements vscode.TreeDataProvider<EndpointsNode> {
  private readonly changed = new vscode.EventEmitter<EndpointsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private last: Promise<DiscoveryResult | Error> | undefined;

  private readonly gate = new RefreshGate(() => this.changed.fire(undefined));

  constructor(private readonly ctx: CiliumCustomContext) {
    ctx.own(this.changed);
    ctx.own(this.gate);
  }

  refresh(): void {
    this.last = undefined;
    this.gate.request();
  }

  /** The current discovery (shared by the view and the attach/detach pickers). */
  discovery(): Promise<DiscoveryResult | Error> {
    this.last ??= discoverEndpoints(this.ctx.targets.active(), {
      ciliumCommand: this.ctx.config.ciliumCommand,
      pinPrefix: this.ctx.config.pinPrefix,
    }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    return this.last;
  }

  async getChildren(node?: EndpointsNode): Promise<EndpointsNode[]> {
    if (node?.kind === 'endpoint') return node.endpoint.slots.map((slot) => ({ kind: 'hook', endpoint: node.endpoint, slot }));
    if (node) return [];
    return this.gate.whileListing(() => this.rootChildren());
  }

  private async rootChildren(): Promise<EndpointsNode[]> {
    const result = await this.discovery();
    void offerOrphanCleanup(this.ctx);
    if (result instanceof Error) return [{ kind: 'message', text: `Cannot list endpoints on ${this.ctx.targets.activeName}`, detail: result.message }];
    if (result.endpoints.length === 0) {
      // An empty view shows its welcome content (package.json viewsWelcome): why, the sandbox, the walkthrough.
      this.ctx.log.info(`no endpoints with custom calls on ${this.ctx.targets.activeName}: ${result.reason ?? 'no calls maps'}`);
      return [];
    }
    const sandboxes = this.ctx.targets.active().isRemote ? new Set<number>() : new Set(await listSandboxIds().catch(() => [] as number[]));
    return result.endpoints.map((endpoint) => ({ kind: 'endpoint', endpoint, sandbox: sandboxes.has(endpoint.id) }));
  }

  getTreeItem(node: EndpointsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.description = node.detail;
        item.tooltip = node.detail;
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
      case 'endpoint': {
        const { endpoint } = node;
        const pod = endpoint.cilium?.podName ? `${endpoint.cilium.namespace ?? ''}/${endpoint.cilium.podName}` : undefined;
        const item = new vscode.TreeItem(`endpoint ${endpoint.id}`, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `endpoint:${endpoint.id}`;
        item.description = [node.sandbox ? 'sandbox' : undefined, pod, endpoint.cilium?.identity != null ? `identity ${endpoint.cilium.identity}` : undefined, endpoint.problem ?? undefined]
          .filter(Boolean)
          .join('  ');
        item.tooltip = new vscode.MarkdownString(`\`${endpoint.mapPath}\`${endpoint.problem ? `\n\n${endpoint.problem}` : ''}`);
        item.contextValue = node.sandbox ? 'endpoint-sandbox' : 'endpoint';
        item.iconPath = new vscode.ThemeIcon(endpoint.problem ? 'warning' : 'vm');
        return item;
      }
      case 'hook': {
        const { slot, endpoint } = node;
        const item = new vscode.TreeItem(slot.hook);
        item.id = `endpoint:${endpoint.id}:${slot.key}`;
        if (slot.progId === null) {
          item.description = 'empty';
          item.contextValue = 'hook-empty';
          item.iconPath = new vscode.ThemeIcon('circle-outline');
        } else {
          const prog = slot.prog;
          const loaded = prog?.loadedAt ? new Date(prog.loadedAt * 1000).toLocaleString() : undefined;
          // Ours: the header's name first (the part a narrow view keeps); the kernel's program name is in the tooltip.
          item.description = slot.ours ? `${slot.ours} #${slot.progId}` : `${prog?.name ?? 'program'} #${slot.progId} (not ours)`;
          item.tooltip = [
            `program ${slot.progId}`,
            slot.ours && `attached by cilium-custom from ${slot.ours}`,
            prog?.name && `kernel name ${prog.name}`,
            prog?.tag && `tag ${prog.tag}`,
            prog?.type,
            loaded && `loaded ${loaded}`,
          ]
            .filter(Boolean)
            .join('\n');
          item.contextValue = slot.ours ? 'hook-ours' : 'hook-foreign';
          item.iconPath = new vscode.ThemeIcon(slot.ours ? 'pass-filled' : 'circle-filled');
        }
        return item;
      }
    }
  }
}
