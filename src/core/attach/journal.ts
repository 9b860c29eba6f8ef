// The intent of a slot change, written on the node before the first slot is touched and removed after the read-back.
// A run that dies in between (SIGKILL, a lost connection, a power cut of the editor's machine) leaves the journal
// behind; the next attach, detach or cleanup on that node finds it under the pins lock and finishes the rollback, so
// an endpoint never stays half attached. It lives beside the lock in /run (a tmpfs: the bpffs holds only pins).
import type { Target } from '../target/target';
import { nodeStateDir } from '../target/nodeLock';
import { showPinnedProg } from '../maps/bpftool';
import { clearSlot, readSlots, setSlot } from '../endpoints/slots';
import { removePinDirs, removePrefixIfEmpty } from './removal';
import { slotReferences } from './references';

/** One slot: what it held before the change (null: empty) and what the change puts there. */
export interface SlotChange {
  mapPath: string;
  key: number;
  before: number | null;
  after: number | null;
}

export interface SlotJournal {
  version: 1;
  op: 'attach' | 'detach';
  endpointId: number;
  pid: number;
  startedAt: string;
  changes: SlotChange[];
  pinPrefix: string;
  /** attach: the new program's pin directory, removed by a rollback when no slot references it. */
  pinDir?: string;
}

export interface Recovery {
  /** The journal that was found. */
  journal: SlotJournal;
  /** One line per slot: what was done. */
  actions: string[];
  /** Steps that could not be done; the journal then stays for the next run. */
  failures: string[];
}

export function journalPath(target: Target): string {
  return `${nodeStateDir(target.bpffsRoot)}/slots.journal`;
}

const WRITER = 'umask 077; mkdir -p -- "$1" && cat > "$2.tmp" && mv -f -- "$2.tmp" "$2"';

/** Writes the journal atomically (a reader sees the old one or the new one, never half of it). */
export async function writeJournal(target: Target, journal: SlotJournal): Promise<void> {
  const file = journalPath(target);
  const dir = file.slice(0, file.lastIndexOf('/'));
  const run = await target.run(['sh', '-c', WRITER, 'cilium-custom-journal', dir, file], { privileged: true, input: JSON.stringify(journal), timeoutMs: 30_000 });
  if (run.exitCode !== 0) throw new Error(`could not write the journal ${file}: ${run.stderr.trim() || `exit code ${run.exitCode}`}`);
}

export async function removeJournal(target: Target): Promise<void> {
  const run = await target.run(['rm', '-f', '--', journalPath(target)], { privileged: true, timeoutMs: 30_000 });
  if (run.exitCode !== 0) throw new Error(`could not remove the journal ${journalPath(target)}: ${run.stderr.trim()}`);
}

/** The journal left by an interrupted run, if any; a journal that cannot be read is set aside, never guessed at. */
export async function readJournal(target: Target, signal?: AbortSignal): Promise<SlotJournal | undefined> {
  const file = journalPath(target);
  const run = await target.run(['cat', '--', file], { privileged: true, signal, timeoutMs: 30_000 });
  if (run.exitCode !== 0) {
    if (/No such file/i.test(run.stderr)) return undefined;
    throw new Error(`could not read the journal ${file}: ${run.stderr.trim() || `exit code ${run.exitCode}`}`);
  }
  const journal = parseJournal(run.stdout);
  if (journal) return journal;
  const aside = `${file}.unreadable-${Date.now()}`;
  await target.run(['mv', '-f', '--', file, aside], { privileged: true, timeoutMs: 30_000 });
  throw new Error(`the journal ${file} could not be read; it was moved to ${aside} (check the endpoints' slots by hand)`);
}

export function parseJournal(text: string): SlotJournal | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const j = value as Partial<SlotJournal>;
  const id = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) > 0);
  const ok =
    typeof j === 'object' &&
    j !== null &&
    j.version === 1 &&
    (j.op === 'attach' || j.op === 'detach') &&
    Number.isInteger(j.endpointId) &&
    typeof j.pinPrefix === 'string' &&
    Array.isArray(j.changes) &&
    j.changes.every((c) => typeof c?.mapPath === 'string' && Number.isInteger(c.key) && c.key >= 0 && c.key <= 3 && id(c.before) && id(c.after));
  return ok ? (j as SlotJournal) : undefined;
}

/** A short description of a journal for reports. */
export function describeJournal(journal: SlotJournal): string {
  return `an interrupted ${journal.op} on endpoint ${journal.endpointId} (process ${journal.pid}, started ${journal.startedAt})`;
}

/**
 * Undoes the changes a journal names, newest first: a slot that still holds what the change put there gets back what
 * it held before (emptied when that program is gone); a slot someone changed since is left alone. Call it under the
 * pins lock. Idempotent, so a rollback that itself dies is finished by the next one.
 */
export async function rollBack(target: Target, journal: SlotJournal, applied = journal.changes): Promise<Recovery> {
  const actions: string[] = [];
  const failures: string[] = [];
  const slotsOf = new Map<string, Map<number, number>>();
  for (const change of [...applied].reverse()) {
    const where = `slot ${change.key} of ${change.mapPath}`;
    try {
      let slots = slotsOf.get(change.mapPath);
      if (!slots) slotsOf.set(change.mapPath, (slots = await readSlots(target, change.mapPath)));
      const now = slots.get(change.key) ?? null;
      if (now === change.before) {
        actions.push(`${where} unchanged`);
        continue;
      }
      if (now !== change.after) {
        actions.push(`${where} holds ${now ?? 'nothing'} (changed since): left alone`);
        continue;
      }
      if (change.before === null) {
        await clearSlot(target, change.mapPath, change.key);
        actions.push(`${where} emptied again`);
      } else {
        try {
          await setSlot(target, change.mapPath, change.key, { id: change.before });
          actions.push(`${where} holds program ${change.before} again`);
        } catch {
          await clearSlot(target, change.mapPath, change.key);
          actions.push(`${where} emptied: program ${change.before} no longer exists`);
        }
      }
    } catch (error) {
      failures.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (journal.op === 'attach' && journal.pinDir && !failures.length) {
    const shown = await showPinnedProg(target, `${journal.pinDir}/prog`);
    const refs = await slotReferences(target);
    if (!shown.info.ok || !refs.has(shown.info.value.id)) {
      const failed = await removePinDirs(target, [journal.pinDir], journal.pinPrefix);
      failures.push(...failed);
      if (!failed.length) actions.push(`removed ${journal.pinDir}`);
      await removePrefixIfEmpty(target, journal.pinPrefix);
    }
  }
  return { journal, actions, failures };
}

/** Finishes the rollback of an interrupted run, if one left its journal; call under the pins lock. */
export async function recoverInterrupted(target: Target, signal?: AbortSignal): Promise<Recovery | undefined> {
  const journal = await readJournal(target, signal);
  if (!journal) return undefined;
  const recovery = await rollBack(target, journal);
  if (!recovery.failures.length) await removeJournal(target);
  return recovery;
}
