// Registers "See what the verifier saw": the controller (heat map, CodeLens, hovers, Verifier Path view) and the
// command that shows it for a header's last verifier log.
import * as vscode from 'vscode';
import type { CiliumCustomContext } from '../context';
import { resolveHeader } from '../headerArgument';
import { InsightController, type InsightState } from './insightController';

export function registerInsight(ctx: CiliumCustomContext): InsightController {
  const controller = new InsightController(ctx);
  ctx.extension.subscriptions.push(
    controller,
    vscode.commands.registerCommand('ciliumCustom.showVerifierInsight', async (arg?: unknown, logFile?: unknown): Promise<InsightState | null> => {
      const header = await resolveHeader(arg, ctx.results.recentHeader);
      if (!header) return null;
      const state = await controller.show(header, typeof logFile === 'string' ? logFile : undefined);
      if (!state) {
        void vscode.window.showInformationMessage(
          `Cilium Custom: no verifier log with instructions for ${header.split('/').pop()} yet. Verify it first (the verbose log level has them).`,
        );
        return null;
      }
      await vscode.commands.executeCommand('ciliumCustom.verifierPath.focus');
      return state;
    }),
  );
  return controller;
}
