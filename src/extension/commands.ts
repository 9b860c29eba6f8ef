// Every command the extension contributes, in one table. package.json declares the same IDs (a test compares).
import * as vscode from 'vscode';
import { attachCommand, detachCommand } from './attach/attachCommands';
import { cleanUpOrphansCommand } from './attach/orphansCommand';
import { buildCommand } from './build/buildCommand';
import { createSandboxCommand, removeSandboxCommand, sandboxTrafficCommand } from './sandbox/sandboxCommands';
import type { MapsNode } from './views/mapsTree';
import { generateCompileCommandsCommand } from './compileCommands';
import type { CiliumCustomContext } from './context';
import { explainLogCommand } from './verify/explainCommand';
import { verifyMatrixCommand } from './verify/matrixCommand';
import { showVerifierLogCommand, verifyCommand } from './verify/verifyCommand';
import { watchMapCommand } from './watch/watchCommand';
import { runTestsCommand } from './testing/register';

type Handler = (ctx: CiliumCustomContext, ...args: unknown[]) => unknown;

interface CommandSpec {
  id: string;
  handler: Handler;
  /** Runs make, bpftool or ssh, so it must not run in an untrusted workspace. */
  needsTrust: boolean;
}

const COMMANDS: CommandSpec[] = [
  { id: 'ciliumCustom.build', handler: buildCommand, needsTrust: true },
  { id: 'ciliumCustom.verify', handler: verifyCommand, needsTrust: true },
  { id: 'ciliumCustom.verifyMatrix', handler: verifyMatrixCommand, needsTrust: true },
  { id: 'ciliumCustom.selectTarget', handler: (ctx, name) => ctx.targets.select(typeof name === 'string' ? name : undefined), needsTrust: true },
  { id: 'ciliumCustom.showVerifierLog', handler: showVerifierLogCommand, needsTrust: false },
  { id: 'ciliumCustom.explainVerifierLog', handler: explainLogCommand, needsTrust: false },
  { id: 'ciliumCustom.attach', handler: attachCommand, needsTrust: true },
  { id: 'ciliumCustom.detach', handler: detachCommand, needsTrust: true },
  { id: 'ciliumCustom.cleanUpOrphans', handler: (ctx, arg) => cleanUpOrphansCommand(ctx, arg as never), needsTrust: true },
  { id: 'ciliumCustom.refreshEndpoints', handler: (ctx) => ctx.views.endpoints.refresh(), needsTrust: true },
  { id: 'ciliumCustom.refreshMaps', handler: (ctx) => ctx.views.maps.refresh(), needsTrust: true },
  { id: 'ciliumCustom.loadMoreEntries', handler: (ctx, node) => ctx.views.maps.loadMore(node as MapsNode), needsTrust: true },
  { id: 'ciliumCustom.copyMapEntry', handler: (ctx, node) => ctx.views.copyEntry(node as MapsNode), needsTrust: false },
  { id: 'ciliumCustom.openMapDump', handler: (ctx, node) => ctx.views.openDump(node as MapsNode), needsTrust: true },
  { id: 'ciliumCustom.watchMap', handler: watchMapCommand, needsTrust: true },
  { id: 'ciliumCustom.runTests', handler: runTestsCommand, needsTrust: true },
  { id: 'ciliumCustom.createSandbox', handler: (ctx, arg) => createSandboxCommand(ctx, arg as never), needsTrust: true },
  { id: 'ciliumCustom.sandboxTraffic', handler: (ctx, arg) => sandboxTrafficCommand(ctx, arg as never), needsTrust: true },
  { id: 'ciliumCustom.removeSandbox', handler: (ctx, arg) => removeSandboxCommand(ctx, arg as never), needsTrust: true },
  { id: 'ciliumCustom.generateCompileCommands', handler: generateCompileCommandsCommand, needsTrust: true },
  { id: 'ciliumCustom.showLog', handler: (ctx) => ctx.log.show(), needsTrust: false },
];

export function registerCommands(ctx: CiliumCustomContext): void {
  for (const spec of COMMANDS) {
    ctx.own(
      vscode.commands.registerCommand(spec.id, async (...args: unknown[]) => {
        if (spec.needsTrust && !vscode.workspace.isTrusted) return refuseUntrusted();
        try {
          return await spec.handler(ctx, ...args);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          ctx.log.failure(spec.id, error);
          void vscode.window.showErrorMessage(`Cilium Custom: ${message}`);
          return undefined;
        }
      }),
    );
  }
}

async function refuseUntrusted(): Promise<undefined> {
  const choice = await vscode.window.showWarningMessage(
    'Cilium Custom: this workspace is not trusted, so the extension will not run make, bpftool or ssh for it.',
    'Manage Workspace Trust',
  );
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return undefined;
}
