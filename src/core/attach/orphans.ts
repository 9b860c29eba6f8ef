// Leftovers of earlier runs that nobody uses any more: our attached programs that no endpoint slot references
// (an editor closed mid-detach, a slot overwritten by hand), the temporary verify pins and remote uploads of runs
// that died, and the journal of an attach or detach that was killed midway. Found on the target itself, so a
// restarted editor or another machine sees the same list. Removal happens under the pins lock and checks each
// leftover again there: a program an attach put into a slot meanwhile is no leftover any more.
import { trimRoot } from '../ids';
import type { Target } from '../target/target';
import { describeJournal, journalPath, readJournal, recoverInterrupted } from './journal';
import { listOurPrograms } from '../pins/ours';
import { resolvePinPrefix } from '../pins/pinScope';
import { withPinsLock } from './pinsLock';
import { slotReferences } from './references';
import { removeOurDirs, removePrefixIfEmpty, type RemovalRequest } from './removal';
import { UPLOAD_ROOT, VERIFY_SCRIPT_NAME } from '../verify/verifyScript';
import { showPinnedProg } from '../maps/bpftool';

export interface Orphan {
  kind: 'program' | 'verify-pins' | 'verify-upload' | 'interrupted';
  path: string;
  detail: string;
}

/** A verify's temporary pins live this long at most (its timeout is shorter); older ones belong to a dead run. */
const VERIFY_PINS_MAX_AGE_MIN = 10;

export async function findOrphans(target: Target, options: { pinPrefix?: string; signal?: AbortSignal } = {}): Promise<Orphan[]> {
  const root = trimRoot(target.bpffsRoot);
  const pinPrefix = resolvePinPrefix(target, options.pinPrefix);
  const orphans: Orphan[] = [];
  const journal = await readJournal(target, options.signal).catch((error: Error) => error);
  if (journal instanceof Error) orphans.push({ kind: 'interrupted', path: journalPath(target), detail: journal.message });
  else if (journal) orphans.push({ kind: 'interrupted', path: journalPath(target), detail: `${describeJournal(journal)}: its slot changes are to be rolled back` });
  const [ours, refs] = await Promise.all([listOurPrograms(target, pinPrefix, options.signal), slotReferences(target, options.signal)]);
  for (const program of ours) {
    if (program.prog && refs.has(program.prog.id)) continue;
    orphans.push({
      kind: 'program',
      path: program.dir,
      detail: program.prog ? `program ${program.prog.id} (${program.prog.name}) is in no endpoint slot` : 'no loaded program pinned here',
    });
  }
  // Verify pins on the bpffs, and the object uploads a remote verify writes to /tmp under the same name.
  const stale = await target.run(
    ['find', root, UPLOAD_ROOT, '-mindepth', '1', '-maxdepth', '1', '-type', 'd', '-name', `${VERIFY_SCRIPT_NAME}-*`, '-mmin', `+${VERIFY_PINS_MAX_AGE_MIN}`],
    { privileged: true, signal: options.signal, timeoutMs: 30_000 },
  );
  for (const dir of stale.stdout.split('\n')) {
    if (dir.startsWith(`${root}/`)) {
      orphans.push({ kind: 'verify-pins', path: dir, detail: `temporary verify pins older than ${VERIFY_PINS_MAX_AGE_MIN} minutes` });
    } else if (dir.startsWith(`${UPLOAD_ROOT}/`)) {
      orphans.push({ kind: 'verify-upload', path: dir, detail: `a verify's uploaded object, older than ${VERIFY_PINS_MAX_AGE_MIN} minutes` });
    }
  }
  return orphans;
}

/**
 * Removes the given orphans (only what findOrphans could have named, and only when still a leftover) and returns
 * one line for each that was refused or could not be removed. An interrupted run is rolled back.
 */
export async function removeOrphans(target: Target, orphans: readonly Orphan[], pinPrefix?: string, signal?: AbortSignal): Promise<string[]> {
  const prefix = resolvePinPrefix(target, pinPrefix);
  const requests: RemovalRequest[] = orphans
    .filter((o) => o.kind !== 'interrupted')
    .map((o) => ({ kind: o.kind === 'verify-upload' ? 'upload' : 'pins', path: o.path }));
  return withPinsLock(
    target,
    'Clean up',
    async () => {
      const failures: string[] = [];
      if (orphans.some((o) => o.kind === 'interrupted')) {
        const recovery = await recoverInterrupted(target, signal).catch((error: Error) => ({ failures: [error.message] }));
        if (recovery) failures.push(...recovery.failures);
      }
      // Still a leftover? An attach may have put the program into a slot since findOrphans looked.
      const refs = await slotReferences(target, signal);
      const stillOrphans: RemovalRequest[] = [];
      for (const request of requests) {
        if (request.kind === 'pins' && request.path.startsWith(`${prefix}/`)) {
          const { info } = await showPinnedProg(target, `${request.path}/prog`, signal);
          if (info.ok && refs.has(info.value.id)) continue;
        }
        stillOrphans.push(request);
      }
      const report = await removeOurDirs(target, stillOrphans, prefix, { signal });
      failures.push(...report.refused.map((r) => `refused to remove ${r}`), ...report.failed.map((f) => `could not remove ${f}`));
      if (orphans.some((o) => o.kind === 'program')) await removePrefixIfEmpty(target, prefix);
      return failures;
    },
    { signal },
  );
}
