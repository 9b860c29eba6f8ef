// Leftovers of earlier runs that nobody uses any more: our attached programs that no endpoint slot references
// (an editor closed mid-detach, a slot overwritten by hand), and the temporary verify pins and remote uploads of
// runs that died. Found on the target itself, so a restarted editor or another machine sees the same list.
import { trimRoot } from '../endpoints/ids';
import type { Target } from '../target/target';
import { removePins, removePrefixIfEmpty, slotReferences } from './attach';
import { listOurPrograms } from './ours';
import { UPLOAD_ROOT } from '../verify/verifyScript';

export interface Orphan {
  kind: 'program' | 'verify-pins' | 'verify-upload';
  path: string;
  detail: string;
}

/** A verify's temporary pins live this long at most (its timeout is shorter); older ones belong to a dead run. */
const VERIFY_PINS_MAX_AGE_MIN = 10;

export async function findOrphans(target: Target, options: { pinPrefix?: string; signal?: AbortSignal } = {}): Promise<Orphan[]> {
  const root = trimRoot(target.bpffsRoot);
  const pinPrefix = options.pinPrefix ?? `${root}/cilium-custom`;
  const orphans: Orphan[] = [];
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
    ['find', root, UPLOAD_ROOT, '-mindepth', '1', '-maxdepth', '1', '-type', 'd', '-name', 'cilium-custom-verify-*', '-mmin', `+${VERIFY_PINS_MAX_AGE_MIN}`],
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

/** Removes the given orphans (only paths findOrphans could have named) and returns what could not be removed. */
export async function removeOrphans(target: Target, orphans: readonly Orphan[], pinPrefix?: string): Promise<string[]> {
  const root = trimRoot(target.bpffsRoot);
  const prefix = pinPrefix ?? `${root}/cilium-custom`;
  const verifyDir = /^cilium-custom-verify-[\w-]+$/;
  const allowed = (o: Orphan) =>
    o.kind === 'program'
      ? o.path.startsWith(`${prefix}/`) && !o.path.slice(prefix.length + 1).includes('/')
      : o.kind === 'verify-pins'
        ? o.path.startsWith(`${root}/`) && verifyDir.test(o.path.slice(root.length + 1))
        : o.path.startsWith(`${UPLOAD_ROOT}/`) && verifyDir.test(o.path.slice(UPLOAD_ROOT.length + 1));
  const refused = orphans.filter((o) => !allowed(o)).map((o) => `refused to remove ${o.path}: not one of ours`);
  const failures = await removePins(target, orphans.filter(allowed).map((o) => o.path));
  // The prefix directory is ours alone: it goes with its last program, as after a detach.
  if (orphans.some((o) => o.kind === 'program')) await removePrefixIfEmpty(target, prefix);
  return [...refused, ...failures];
}
