// The local sandbox endpoint from the editor: create it, send traffic through it, remove it. Any sandbox id works:
// the commands take the endpoint they were invoked on (a row of the Endpoints view, or `{ endpointId }`), else the
// one sandbox that is up, else a pick among them. Errors speak the editor's words (command names, not CLI flags).
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { describeCondition, firstFreeSandboxId, sandboxCondition, sandboxIdFromArgument } from '../../core/sandbox/choose';
import { callsMapPinPath, DEFAULT_ENDPOINT_ID, DEFAULT_IDENTITY, SandboxError } from '../../core/sandbox/names';
import {
  listSandboxIds,
  readState,
  sandboxDown,
  sandboxStatus,
  sandboxTraffic,
  sandboxUp,
  type SandboxDownResult,
  type SandboxStatus,
  type SandboxTrafficResult,
  type SandboxUpResult,
} from '../../core/sandbox/sandbox';
import type { CiliumCustomContext } from '../context';

/** What the commands accept besides an Endpoints view row (see sandboxIdFromArgument). */
interface SandboxArgs {
  endpointId?: number;
  identity?: number;
  count?: number;
  /** Remove Sandbox: also take out programs this extension did not attach, without asking. */
  force?: boolean;
}

const CREATE = 'Create Sandbox Endpoint';

export async function createSandboxCommand(ctx: CiliumCustomContext, arg?: SandboxArgs): Promise<SandboxUpResult | undefined> {
  requireLocalTarget(ctx);
  const endpointId = sandboxIdFromArgument(arg) ?? (await askNumber('Endpoint ID for the sandbox', await freeId()));
  if (endpointId === undefined) return undefined;
  const result = await vscode.window
    .withProgress({ location: vscode.ProgressLocation.Notification, title: `Creating sandbox endpoint ${endpointId}`, cancellable: true }, (_progress, token) =>
      sandboxUp({
        endpointId,
        identity: typeof arg?.identity === 'number' ? arg.identity : DEFAULT_IDENTITY,
        sdkDir: ctx.bundledSdkDir,
        signal: abortOn(token),
        onCommand: (argv) => ctx.log.info(`$ ${argv.join(' ')}`),
      }),
    )
    .then(undefined, (error: unknown) => {
      throw inEditorWords(error, endpointId);
    });
  ctx.log.info(`sandbox endpoint ${endpointId} is up`);
  void vscode.window.setStatusBarMessage(`$(vm-active) sandbox endpoint ${endpointId} is up`, 5000);
  ctx.views.refreshAll();
  return result;
}

export async function sandboxTrafficCommand(ctx: CiliumCustomContext, arg?: SandboxArgs): Promise<SandboxTrafficResult | undefined> {
  requireLocalTarget(ctx);
  const endpointId = await chooseSandbox(ctx, arg, 'Send traffic through which sandbox endpoint?', false);
  if (endpointId === undefined) return undefined;
  const count = typeof arg?.count === 'number' ? arg.count : 20;
  const result = await vscode.window
    .withProgress({ location: vscode.ProgressLocation.Notification, title: `Sending ${count} datagrams through sandbox endpoint ${endpointId}`, cancellable: true }, (_progress, token) =>
      sandboxTraffic({ endpointId, count, signal: abortOn(token), onCommand: (argv) => ctx.log.info(`$ ${argv.join(' ')}`) }),
    )
    .then(undefined, (error: unknown) => {
      throw inEditorWords(error, endpointId);
    });
  ctx.log.info(`sandbox ${endpointId}: ${result.packetsSent} packets, ${result.bytesSent} bytes through the hooks`);
  const lost = result.families.filter((f) => f.echoed < f.sent);
  if (lost.length) {
    const text = lost.map((f) => `${f.family}: ${f.echoed} of ${f.sent} echoed`).join(', ');
    void vscode.window.showWarningMessage(`Sandbox endpoint ${endpointId}: not every datagram came back (${text}); a program in its hooks may drop them.`);
  }
  void vscode.window.setStatusBarMessage(`$(pulse) sandbox endpoint ${endpointId}: ${result.packetsSent} packets sent`, 5000);
  ctx.views.maps.refresh();
  return result;
}

export async function removeSandboxCommand(ctx: CiliumCustomContext, arg?: SandboxArgs): Promise<boolean> {
  requireLocalTarget(ctx);
  const explicit = sandboxIdFromArgument(arg);
  const endpointId = explicit ?? (await chooseSandbox(ctx, arg, 'Remove which sandbox endpoint?', true));
  if (endpointId === undefined) return false;
  if (explicit !== undefined && !(await readState(endpointId).catch((e: unknown) => Promise.reject(inEditorWords(e, endpointId))))) {
    ctx.log.info(`sandbox endpoint ${endpointId} is not up: nothing to remove`);
    return false;
  }
  const down = (force: boolean) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Removing sandbox endpoint ${endpointId}` }, () =>
      sandboxDown({ endpointId, force, pinPrefix: ctx.config.pinPrefix, onCommand: (argv) => ctx.log.info(`$ ${argv.join(' ')}`) }),
    );
  let result: SandboxDownResult;
  try {
    result = await down(arg?.force === true);
  } catch (error) {
    if (!(error instanceof SandboxError && error.kind === 'foreign-programs')) throw inEditorWords(error, endpointId);
    // Programs someone else put there: say which, and remove only when asked.
    const choice = await vscode.window.showWarningMessage(
      `${editorText(error.message)}`,
      { modal: true, detail: 'Remove Anyway takes them out of the slots first; their pins are kept.' },
      'Remove Anyway',
    );
    if (choice !== 'Remove Anyway') return false;
    try {
      result = await down(true);
    } catch (again) {
      throw inEditorWords(again, endpointId);
    }
  } finally {
    ctx.views.refreshAll();
  }
  ctx.log.info(`sandbox endpoint ${endpointId} removed`);
  const detached = [...new Set(result.detached.map((d) => (d.ours ? d.ours : `program ${d.progId}`)))];
  if (detached.length) {
    const pins = result.removedPins.length ? ` and removed the pins of ${result.removedPins.join(', ')}` : '';
    void vscode.window.showInformationMessage(`Sandbox endpoint ${endpointId} removed. Detached ${detached.join(', ')} from its hooks first${pins}.`);
  } else {
    void vscode.window.setStatusBarMessage(`$(trash) sandbox endpoint ${endpointId} removed`, 5000);
  }
  if (result.leftoverPins.length) void vscode.window.showWarningMessage(`Sandbox endpoint ${endpointId}: could not remove ${result.leftoverPins.join(', ')}.`);
  return result.wasUp;
}

/**
 * The sandbox a command acts on: the one it was invoked on, else the only one that is up, else a pick (each with how
 * it stands). `includeAll` also offers incomplete and broken ones (Remove). Undefined when there is none or the
 * pick was dismissed.
 */
async function chooseSandbox(ctx: CiliumCustomContext, arg: unknown, placeHolder: string, includeAll: boolean): Promise<number | undefined> {
  const explicit = sandboxIdFromArgument(arg);
  if (explicit !== undefined) return explicit;
  let all: SandboxStatus[];
  try {
    all = await sandboxStatus({ onCommand: (argv) => ctx.log.info(`$ ${argv.join(' ')}`) });
  } catch (error) {
    throw inEditorWords(error, undefined);
  }
  const usable = includeAll ? all : all.filter((s) => sandboxCondition(s) === 'up');
  if (usable.length === 0) {
    const others = all.length ? ` (${all.map((s) => `${s.endpointId} is ${describeCondition(sandboxCondition(s))}`).join('; ')})` : '';
    const choice = await vscode.window.showErrorMessage(`Cilium Custom: no sandbox endpoint is up${others}. ${CREATE} first.`, CREATE);
    if (choice === CREATE) await vscode.commands.executeCommand('ciliumCustom.createSandbox');
    return undefined;
  }
  if (usable.length === 1 && !includeAll) return usable[0].endpointId;
  if (usable.length === 1) {
    const s = usable[0];
    const choice = await vscode.window.showWarningMessage(
      `Remove sandbox endpoint ${s.endpointId}?`,
      { modal: true, detail: `Namespace ${s.netns}, ${s.hostIf} and ${s.callsMapPin} go; programs this extension attached to it are detached and unpinned first.` },
      'Remove',
    );
    return choice === 'Remove' ? s.endpointId : undefined;
  }
  const picked = await vscode.window.showQuickPick(
    usable.map((s) => ({
      label: `endpoint ${s.endpointId}`,
      description: `${describeCondition(sandboxCondition(s))}, identity ${s.identity}`,
      detail: `${s.netns} · ${s.hostIf} ${s.hostV4} · hooks in use: ${s.occupiedSlots.length ? s.occupiedSlots.join(', ') : 'none'}`,
      endpointId: s.endpointId,
    })),
    { placeHolder },
  );
  return picked?.endpointId;
}

/** A SandboxError (or anything else) as the editor says it: no CLI flags, command names instead. */
function inEditorWords(error: unknown, endpointId: number | undefined): Error {
  if (!(error instanceof SandboxError)) return error instanceof Error ? error : new Error(String(error));
  const text = editorText(error.message);
  switch (error.kind) {
    case 'needs-root':
      return new Error('The sandbox endpoint needs root (or CAP_BPF and CAP_NET_ADMIN): run VS Code (or its server, under Remote-SSH) as root.');
    case 'not-up':
      return new Error(`Sandbox endpoint ${endpointId ?? ''} is not up. ${CREATE} first.`.replace('  ', ' '));
    case 'already-up':
      return new Error(`${text}. Send traffic through it, or Remove Sandbox Endpoint first.`);
    case 'busy':
      return new Error(`${text}. Try again once it has finished.`);
    case 'cancelled':
      return new Error(`${text}.`);
    default:
      return new Error(text);
  }
}

/** Core messages start "sandbox 4242 ...": the editor calls it the sandbox endpoint, and starts with a capital. */
function editorText(message: string): string {
  const text = message.replace(/^sandbox (\d+)/, 'Sandbox endpoint $1').replace(/^cilium-custom sandbox/, 'The sandbox endpoint');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function requireLocalTarget(ctx: CiliumCustomContext): void {
  if (ctx.targets.active().isRemote) throw new Error('The sandbox endpoint runs on this machine: select the local target first (Select Target).');
}

/** The suggested id for a new sandbox: 4242, or the next one no sandbox and no calls map uses. */
async function freeId(): Promise<number> {
  const sandboxes = new Set(await listSandboxIds().catch(() => [] as number[]));
  return firstFreeSandboxId(DEFAULT_ENDPOINT_ID, (id) => sandboxes.has(id) || fs.existsSync(callsMapPinPath(id)));
}

function abortOn(token: vscode.CancellationToken): AbortSignal {
  const controller = new AbortController();
  token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

async function askNumber(prompt: string, value: number): Promise<number | undefined> {
  const answer = await vscode.window.showInputBox({ prompt, value: String(value), validateInput: (v) => (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : '1 to 65535') });
  return answer === undefined ? undefined : Number(answer);
}
