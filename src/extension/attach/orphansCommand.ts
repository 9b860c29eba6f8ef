// "Clean Up Leftover Programs": our programs that no endpoint slot uses and dead verifies' pins, found on the target
// itself (so a restarted editor still sees them); offered once per target and session when the Endpoints view loads.
import * as vscode from 'vscode';
import { findOrphans, removeOrphans, type Orphan } from '../../core/attach/orphans';
import type { CiliumCustomContext } from '../context';

const offeredTargets = new Set<string>();

export async function cleanUpOrphansCommand(ctx: CiliumCustomContext, arg?: { all?: boolean }): Promise<{ orphans: Orphan[]; failures: string[] }> {
  const target = ctx.targets.active();
  const orphans = await findOrphans(target, { pinPrefix: ctx.config.pinPrefix });
  if (orphans.length === 0) {
    void vscode.window.showInformationMessage(`Cilium Custom: nothing left over on ${target.name}.`);
    return { orphans, failures: [] };
  }
  const chosen = arg?.all
    ? orphans
    : (
        await vscode.window.showQuickPick(
          orphans.map((o) => ({ label: o.path, description: o.detail, picked: true, orphan: o })),
          { title: `Remove leftovers on ${target.name}`, canPickMany: true },
        )
      )?.map((item) => item.orphan);
  if (!chosen?.length) return { orphans, failures: [] };
  const failures = await removeOrphans(target, chosen, ctx.config.pinPrefix);
  for (const failure of failures) ctx.log.error(failure);
  ctx.log.info(`removed ${chosen.length - failures.length} leftover(s) on ${target.name}`);
  ctx.views.refreshAll();
  return { orphans: chosen, failures };
}

/** Once per target and session: say that leftovers exist and offer to remove them. Never throws. */
export async function offerOrphanCleanup(ctx: CiliumCustomContext): Promise<void> {
  const name = ctx.targets.activeName;
  if (offeredTargets.has(name)) return;
  offeredTargets.add(name);
  try {
    const orphans = await findOrphans(ctx.targets.active(), { pinPrefix: ctx.config.pinPrefix });
    if (orphans.length === 0) return;
    const choice = await vscode.window.showInformationMessage(
      `Cilium Custom: ${orphans.length} leftover program${orphans.length === 1 ? '' : 's'} or pin director${orphans.length === 1 ? 'y' : 'ies'} from earlier runs on ${name}.`,
      'Clean Up…',
    );
    if (choice) await vscode.commands.executeCommand('ciliumCustom.cleanUpOrphans');
  } catch (error) {
    ctx.log.warn(`looking for leftovers on ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
