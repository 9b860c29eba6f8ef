// Attach and detach from the palette or from a hook in the Endpoints view. Both are all-or-nothing in the engine;
// here they ask what the engine will not decide alone: which endpoint and hooks, and whether to replace.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { attach, detach, type AttachRecord, type DetachResult } from '../../core/attach/attach';
import { HOOKS, type Hook } from '../../core/endpoints/ids';
import type { DiscoveredEndpoint } from '../../core/endpoints/discover';
import type { CiliumCustomContext } from '../context';
import type { EndpointsNode } from '../views/endpointsTree';

export interface AttachArgs {
  header?: string;
  endpointId?: number;
  hooks?: Hook[];
  replace?: boolean;
}

export async function attachCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<AttachRecord | undefined> {
  const request = (isNode(arg) ? fromNode(arg) : ((arg as AttachArgs | undefined) ?? {})) as AttachArgs;
  const header = request.header ?? pickActiveHeader();
  if (!header) return undefined;
  const endpoint = request.endpointId ?? (await pickEndpoint(ctx));
  if (endpoint === undefined) return undefined;
  const hooks = request.hooks ?? (await pickHooks());
  if (!hooks?.length) return undefined;
  const occupied = await occupiedSlots(ctx, endpoint, hooks);
  let replace = request.replace ?? false;
  if (occupied.length && !replace) {
    const choice = await vscode.window.showWarningMessage(
      `Endpoint ${endpoint}: ${occupied.join(', ')} already hold a program. Replace it?`,
      { modal: true, detail: 'The replaced program stays pinned unless this extension attached it and nothing else uses it.' },
      'Replace',
    );
    if (choice !== 'Replace') return undefined;
    replace = true;
  }
  const target = ctx.targets.active();
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Attaching ${path.basename(header)} to endpoint ${endpoint}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const cancellation = token.onCancellationRequested(() => abort.abort());
      try {
        const record = await attach({
          target,
          input: header,
          endpointId: endpoint,
          hooks,
          replace,
          pinPrefix: ctx.config.pinPrefix,
          bundledSdkDir: ctx.bundledSdkDir,
          makeDirSetting: ctx.config.makeDirectory,
          make: ctx.config.makeCommand,
          logLevel: ctx.config.verifierLogLevel,
          signal: abort.signal,
          onStep: (step) => progress.report({ message: step }),
        });
        ctx.log.info(`attached ${header} (program ${record.prog.id}) to endpoint ${endpoint}: ${hooks.join(', ')} on ${target.name}`);
        void vscode.window.setStatusBarMessage(`$(plug) attached to endpoint ${endpoint}: ${hooks.join(', ')}`, 5000);
        return record;
      } finally {
        cancellation.dispose();
        ctx.views.refreshAll();
      }
    },
  );
}

export async function detachCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<DetachResult | undefined> {
  const request = (isNode(arg) ? fromNode(arg) : ((arg as AttachArgs & { force?: boolean } | undefined) ?? {})) as AttachArgs & { force?: boolean };
  const endpoint = request.endpointId ?? (await pickEndpoint(ctx));
  if (endpoint === undefined) return undefined;
  const hooks = request.hooks ?? (await pickHooks());
  if (!hooks?.length) return undefined;
  let force = request.force ?? false;
  if (!force && isNode(arg) && arg.kind === 'hook' && arg.slot.progId !== null && !arg.slot.ours) {
    const choice = await vscode.window.showWarningMessage(
      `Program ${arg.slot.progId} in ${arg.slot.hook} of endpoint ${endpoint} was not attached by this extension. Detach it anyway?`,
      { modal: true, detail: 'Only the slot entry is removed; its pins are left alone.' },
      'Detach',
    );
    if (choice !== 'Detach') return undefined;
    force = true;
  }
  try {
    const result = await detach({ target: ctx.targets.active(), endpointId: endpoint, hooks, force, pinPrefix: ctx.config.pinPrefix });
    ctx.log.info(`detached endpoint ${endpoint}: ${hooks.join(', ')}; removed ${result.removedPins.join(', ') || 'no pins'}`);
    return result;
  } finally {
    ctx.views.refreshAll();
  }
}

function isNode(arg: unknown): arg is EndpointsNode {
  return typeof arg === 'object' && arg !== null && 'kind' in arg;
}

function fromNode(node: EndpointsNode): AttachArgs {
  if (node.kind === 'hook') return { endpointId: node.endpoint.id, hooks: [node.slot.hook] };
  if (node.kind === 'endpoint') return { endpointId: node.endpoint.id };
  return {};
}

function pickActiveHeader(): string | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  if (uri?.scheme === 'file' && /\.(h|o)$/.test(uri.fsPath)) return uri.fsPath;
  void vscode.window.showErrorMessage('Cilium Custom: open the custom-program header to attach first.');
  return undefined;
}

async function pickEndpoint(ctx: CiliumCustomContext): Promise<number | undefined> {
  const discovery = await ctx.views.endpoints.discovery();
  if (discovery instanceof Error) throw discovery;
  if (discovery.endpoints.length === 0) throw new Error(discovery.reason ?? 'no endpoints with custom calls on this target');
  const choice = await vscode.window.showQuickPick(
    discovery.endpoints.map((e) => ({ label: String(e.id), description: describe(e), endpoint: e })),
    { title: 'Endpoint' },
  );
  return choice?.endpoint.id;
}

async function pickHooks(): Promise<Hook[] | undefined> {
  const choice = await vscode.window.showQuickPick(
    HOOKS.map((hook) => ({ label: hook, picked: hook === 'ipv4-ingress' })),
    { title: 'Hooks', canPickMany: true },
  );
  return choice?.map((c) => c.label);
}

async function occupiedSlots(ctx: CiliumCustomContext, endpointId: number, hooks: readonly Hook[]): Promise<string[]> {
  const discovery = await ctx.views.endpoints.discovery();
  if (discovery instanceof Error) return [];
  const endpoint = discovery.endpoints.find((e) => e.id === endpointId);
  return (endpoint?.slots ?? []).filter((s) => hooks.includes(s.hook) && s.progId !== null).map((s) => `${s.hook} (program ${s.progId})`);
}

function describe(endpoint: DiscoveredEndpoint): string {
  const pod = endpoint.cilium?.podName ? `${endpoint.cilium.namespace ?? ''}/${endpoint.cilium.podName}` : '';
  const used = endpoint.slots.filter((s) => s.progId !== null).length;
  return `${pod}${pod ? ', ' : ''}${used} of 4 hooks used`;
}
