// The local sandbox endpoint from the editor: create it, send traffic through it, remove it.
import * as vscode from 'vscode';
import { sandboxDown, sandboxTraffic, sandboxUp, type SandboxTrafficResult, type SandboxUpResult } from '../../core/sandbox/sandbox';
import type { CiliumCustomContext } from '../context';

const DEFAULT_ENDPOINT = 4242;
const DEFAULT_IDENTITY = 12345;

interface SandboxArgs {
  endpointId?: number;
  identity?: number;
  count?: number;
}

export async function createSandboxCommand(ctx: CiliumCustomContext, arg?: SandboxArgs): Promise<SandboxUpResult | undefined> {
  requireLocalRoot(ctx);
  const endpointId = arg?.endpointId ?? (await askNumber('Endpoint ID for the sandbox', DEFAULT_ENDPOINT));
  if (endpointId === undefined) return undefined;
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Creating sandbox endpoint ${endpointId}` }, () =>
    sandboxUp({ endpointId, identity: arg?.identity ?? DEFAULT_IDENTITY, sdkDir: ctx.bundledSdkDir, onCommand: (argv) => ctx.log.info(`$ ${argv.join(' ')}`) }),
  );
  ctx.log.info(`sandbox endpoint ${endpointId} is up`);
  ctx.views.refreshAll();
  return result;
}

export async function sandboxTrafficCommand(ctx: CiliumCustomContext, arg?: SandboxArgs): Promise<SandboxTrafficResult | undefined> {
  requireLocalRoot(ctx);
  const endpointId = arg?.endpointId ?? DEFAULT_ENDPOINT;
  const result = await sandboxTraffic({ endpointId, count: arg?.count ?? 20 });
  ctx.log.info(`sandbox ${endpointId}: ${result.packetsSent} packets, ${result.bytesSent} bytes through the hooks`);
  void vscode.window.setStatusBarMessage(`$(pulse) sandbox ${endpointId}: ${result.packetsSent} packets sent`, 5000);
  ctx.views.maps.refresh();
  return result;
}

export async function removeSandboxCommand(ctx: CiliumCustomContext, arg?: SandboxArgs): Promise<boolean> {
  requireLocalRoot(ctx);
  const { wasUp } = await sandboxDown({ endpointId: arg?.endpointId ?? DEFAULT_ENDPOINT, onCommand: (argv) => ctx.log.info(`$ ${argv.join(' ')}`) });
  ctx.views.refreshAll();
  return wasUp;
}

function requireLocalRoot(ctx: CiliumCustomContext): void {
  if (ctx.targets.active().isRemote) throw new Error('the sandbox endpoint runs on this machine: select the local target first');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Error('the sandbox endpoint needs root (network namespaces, tc and bpffs)');
}

async function askNumber(prompt: string, value: number): Promise<number | undefined> {
  const answer = await vscode.window.showInputBox({ prompt, value: String(value), validateInput: (v) => (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : '1 to 65535') });
  return answer === undefined ? undefined : Number(answer);
}
