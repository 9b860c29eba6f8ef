// Attach and detach from the palette or from a hook in the Endpoints view. Both are all-or-nothing in the engine;
// here they ask what the engine will not decide alone: which program, which endpoint and hooks (each saying what
// occupies it), and whether to replace; then they say what they did.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { attach, detach, type AttachRecord, type DetachResult } from '../../core/attach/attach';
import { describeJournal, type Recovery } from '../../core/attach/journal';
import { HOOKS, sanitizePinName, type Hook } from '../../core/ids';
import type { DiscoveredEndpoint, SlotInfo } from '../../core/endpoints/discover';
import { CustomCallsProblem } from '../../core/problem';
import { isCustomProgramSource } from '../../shared/customProgramScope';
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
  const endpoint = request.endpointId ?? (await pickEndpoint(ctx));
  if (endpoint === undefined) return undefined;
  // Never the active editor's header silently: which header is always asked (the active one pre-selected), and
  // the picker's title says where it goes.
  const header = request.header ?? (await pickHeader(`Attach which program to endpoint ${endpoint}${request.hooks ? ` (${request.hooks.join(', ')})` : ''}?`));
  if (!header) return undefined;
  const slots = await endpointSlots(ctx, endpoint);
  const hooks = request.hooks ?? (await pickHooks(`Attach ${path.basename(header)} to which hooks of endpoint ${endpoint}?`, slots, (s) => s.hook === 'ipv4-ingress'));
  if (!hooks?.length) return undefined;
  const occupied = slots.filter((s) => hooks.includes(s.hook) && s.progId !== null && s.ours !== pinBase(header)).map((s) => `${s.hook} (${slotText(s)})`);
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
  try {
    return await runAttach(ctx, header, endpoint, hooks, replace);
  } catch (error) {
    if (!(error instanceof CustomCallsProblem) || error.kind !== 'program-changed' || replace) throw error;
    // The header's older build is in other slots of this endpoint: one program per header, so replace it everywhere.
    const choice = await vscode.window.showWarningMessage(
      error.reason,
      { modal: true, detail: 'Replacing puts the new build into every slot the old one occupies, all or nothing, so that all hooks share its maps.' },
      'Replace Everywhere',
    );
    return choice ? runAttach(ctx, header, endpoint, hooks, true) : undefined;
  }
}

async function runAttach(ctx: CiliumCustomContext, header: string, endpoint: number, hooks: Hook[], replace: boolean): Promise<AttachRecord> {
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
          ...ctx.config.buildSettings(ctx.bundledSdkDir),
          logLevel: ctx.config.verifierLogLevel,
          signal: abort.signal,
          onStep: (step) => progress.report({ message: step }),
        });
        reportRecovery(ctx, record.recovered);
        const done = `Attached ${path.basename(header)} (program ${record.prog.id}${record.reused ? ', already loaded for this endpoint' : ''}) to endpoint ${endpoint}: ${record.hooks.map((h) => h.hook).join(', ')} on ${target.name}.`;
        ctx.log.info(done);
        void vscode.window.showInformationMessage(`Cilium Custom: ${done}`);
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
  const slots = await endpointSlots(ctx, endpoint);
  let hooks = request.hooks;
  if (!hooks || (isNode(arg) && arg.kind === 'hook')) {
    // Pre-selected: every hook that holds the clicked hook's program, or (from the palette) every hook holding one of ours.
    const clicked = isNode(arg) && arg.kind === 'hook' ? arg.slot.progId : null;
    hooks = await pickHooks(`Detach from which hooks of endpoint ${endpoint}?`, slots, (s) => (clicked !== null ? s.progId === clicked : s.ours !== null), true);
  }
  if (!hooks?.length) return undefined;
  let force = request.force ?? false;
  const foreign = slots.filter((s) => hooks!.includes(s.hook) && s.progId !== null && !s.ours);
  if (!force && foreign.length) {
    const choice = await vscode.window.showWarningMessage(
      `${foreign.map((s) => `Program ${s.progId} in ${s.hook}`).join(', ')} of endpoint ${endpoint} ${foreign.length > 1 ? 'were' : 'was'} not attached by this extension. Detach anyway?`,
      { modal: true, detail: 'Only the slot entry is removed; its pins are left alone.' },
      'Detach',
    );
    if (choice !== 'Detach') return undefined;
    force = true;
  }
  try {
    const result = await detach({ target: ctx.targets.active(), endpointId: endpoint, hooks, force, pinPrefix: ctx.config.pinPrefix });
    reportRecovery(ctx, result.recovered);
    const emptied = result.hooks.filter((h) => h.progId !== null);
    const done =
      `Detached ${emptied.length ? emptied.map((h) => `${h.ours ?? `program ${h.progId}`} from ${h.hook}`).join(', ') : 'nothing (the hooks were empty)'} of endpoint ${endpoint}` +
      `${result.removedPins.length ? `; removed ${result.removedPins.map((d) => path.basename(d)).join(', ')}` : ''}${result.keptPins.length ? `; kept ${result.keptPins.map((d) => path.basename(d)).join(', ')} (still attached elsewhere)` : ''}.`;
    ctx.log.info(done);
    void vscode.window.showInformationMessage(`Cilium Custom: ${done}`);
    return result;
  } finally {
    ctx.views.refreshAll();
  }
}

/** An interrupted earlier attach or detach whose rollback this run finished first: said once, in the log. */
function reportRecovery(ctx: CiliumCustomContext, recovery: Recovery | undefined): void {
  if (!recovery) return;
  ctx.log.warn(`finished the rollback of ${describeJournal(recovery.journal)}: ${recovery.actions.join('; ')}`);
  void vscode.window.showWarningMessage(`Cilium Custom: finished the rollback of ${describeJournal(recovery.journal)} first (details in the log).`);
}

function isNode(arg: unknown): arg is EndpointsNode {
  return typeof arg === 'object' && arg !== null && 'kind' in arg;
}

function fromNode(node: EndpointsNode): AttachArgs {
  if (node.kind === 'hook') return { endpointId: node.endpoint.id, hooks: [node.slot.hook] };
  if (node.kind === 'endpoint') return { endpointId: node.endpoint.id };
  return {};
}

/** The pin name attach gives a header (to tell "this header's program" from another in the slot list). */
function pinBase(header: string): string {
  return sanitizePinName(path.basename(header));
}

/** Custom-program headers and objects to attach: open editors first (the active one first and pre-selected), then the workspace's. */
async function pickHeader(title: string): Promise<string | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const candidates = new Map<string, string>();
  const consider = (file: string, text: string | undefined) => {
    if (/\.o$/.test(file) || (text !== undefined && isCustomProgramSource(text))) candidates.set(file, file);
  };
  if (active?.uri.scheme === 'file' && /\.(h|o)$/.test(active.uri.fsPath)) consider(active.uri.fsPath, /\.h$/.test(active.uri.fsPath) ? active.getText() : undefined);
  for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === 'file' && /\.h$/.test(doc.uri.fsPath)) consider(doc.uri.fsPath, doc.getText());
  // Headers under include/ are the SDK's and Cilium's own, not programs to attach.
  for (const uri of await vscode.workspace.findFiles('**/*.h', '**/{node_modules,.git,include}/**', 500)) {
    if (candidates.has(uri.fsPath)) continue;
    consider(uri.fsPath, Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'));
  }
  if (candidates.size === 0) {
    void vscode.window.showErrorMessage('Cilium Custom: no custom-program header (one that defines custom_prog) is open or in the workspace.');
    return undefined;
  }
  const items = [...candidates.keys()].map((file) => ({
    label: path.basename(file),
    description: vscode.workspace.asRelativePath(path.dirname(file)),
    detail: file === active?.uri.fsPath ? 'the active editor' : undefined,
    file,
  }));
  const quickPick = vscode.window.createQuickPick<(typeof items)[number]>();
  quickPick.title = title;
  quickPick.placeholder = 'The program to load, verify and attach';
  quickPick.items = items;
  const activeItem = items.find((i) => i.file === active?.uri.fsPath);
  if (activeItem) quickPick.activeItems = [activeItem];
  const chosen = await new Promise<string | undefined>((resolve) => {
    quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]?.file ?? quickPick.activeItems[0]?.file));
    quickPick.onDidHide(() => resolve(undefined));
    quickPick.show();
  });
  quickPick.dispose();
  return chosen;
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

/** The hook picker: each hook says what occupies its slot. */
async function pickHooks(title: string, slots: readonly SlotInfo[], picked: (slot: SlotInfo) => boolean, occupiedOnly = false): Promise<Hook[] | undefined> {
  const items = HOOKS.map((hook) => {
    const slot = slots.find((s) => s.hook === hook);
    return { label: hook, description: slot ? slotText(slot) : undefined, picked: slot ? picked(slot) : hook === 'ipv4-ingress' && !occupiedOnly, hook };
  }).filter((item) => !occupiedOnly || slots.some((s) => s.hook === item.hook && s.progId !== null));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Cilium Custom: every hook of this endpoint is empty.');
    return undefined;
  }
  const choice = await vscode.window.showQuickPick(items, { title, canPickMany: true });
  return choice?.map((c) => c.hook);
}

function slotText(slot: SlotInfo): string {
  if (slot.progId === null) return 'empty';
  return slot.ours ? `${slot.ours} (program ${slot.progId}, ours)` : `${slot.prog?.name ?? 'program'} (program ${slot.progId}, not ours)`;
}

async function endpointSlots(ctx: CiliumCustomContext, endpointId: number): Promise<SlotInfo[]> {
  const discovery = await ctx.views.endpoints.discovery();
  if (discovery instanceof Error) return [];
  return discovery.endpoints.find((e) => e.id === endpointId)?.slots ?? [];
}

function describe(endpoint: DiscoveredEndpoint): string {
  const pod = endpoint.cilium?.podName ? `${endpoint.cilium.namespace ?? ''}/${endpoint.cilium.podName}` : '';
  const used = endpoint.slots.filter((s) => s.progId !== null).length;
  return `${pod}${pod ? ', ' : ''}${used} of 4 hooks used`;
}
