// Attach a custom program to an endpoint's hooks, and detach it: all-or-nothing, and safe against our other processes
// and against interruption. Everything from reading the slots to the read-back happens under the node's pins lock
// (pinsLock.ts), so two attaches, or an attach and a detach or cleanup, never lose each other's update. The slot
// changes are written to a journal on the node before the first one is made (journal.ts): a failure or cancellation
// midway rolls them back here, and a run that dies midway is rolled back by the next one that takes the lock.
// Slot updates themselves are never cut in half: a cancellation is honoured between them.
//
// What is "ours": programs pinned under the pin prefix (<bpffs>/cilium-custom/<name>/{prog,maps/} by default). No
// record file is kept on the target: the bpffs itself says what is loaded and the slots say where it is attached,
// so nothing can go stale (a reboot, a manual `bpftool map delete`, another tool) and detach works from any
// machine. The AttachRecord returned to the caller is a report, not state.
import * as path from 'node:path';
import { buildSettingsOf, type BuildSettings } from '../build/settings';
import type { Target } from '../target/target';
import { verifyHeaderOrObject, type VerifyResult } from '../verify/verifyHeader';
import { VerifyProblem } from '../verify/verifyErrors';
import type { VerifierLogLevel } from '../verify/verifyObject';
import { listDir, listOurPrograms, pinLayout, type OurProgram } from '../pins/ours';
import { showPinnedProg, showProgById } from '../maps/bpftool';
import type { BpfProgInfo } from '../maps/bpftoolJson';
import { callsMapPath, hookKey, keyHook, parseEndpointId, parseHooks, parsePinName, sanitizePinName, type Hook } from '../ids';
import { CustomCallsProblem } from '../problem';
import { throwEnvironmentProblem } from '../maps/runProblems';
import { checkCallsMap, clearSlot, readSlots, setSlot } from '../endpoints/slots';
import { recoverInterrupted, removeJournal, rollBack, writeJournal, type Recovery, type SlotChange, type SlotJournal } from './journal';
import { resolvePinPrefix } from '../pins/pinScope';
import { withPinsLock } from './pinsLock';
import { slotReferences } from './references';
import { removePinDirs, removePrefixIfEmpty } from './removal';

export { slotReferences } from './references';

/** The build settings are the same object build and verify take (a header is built unless current). */
export interface AttachRequest extends BuildSettings {
  target: Target;
  /** A custom-program header (built when stale) or an object file. */
  input: string;
  endpointId: number | string;
  hooks: readonly (Hook | string)[];
  /** Replace programs already in the slots (otherwise an occupied slot is refused). */
  replace?: boolean;
  /** Parent directory of our pins on the bpffs; default <bpffs>/cilium-custom. */
  pinPrefix?: string;
  /** Pin directory name; default: the header's sanitized base name (with -2, -3... when taken). */
  pinName?: string;
  logLevel?: VerifierLogLevel;
  signal?: AbortSignal;
  /** How long to wait for another of our processes on the node to finish (default 60 s). */
  lockWaitMs?: number;
  onOutput?: (chunk: string) => void;
  /** Called before each step (for progress reports); awaited. */
  onStep?: (step: string) => void | Promise<void>;
}

export interface AttachedHook {
  hook: Hook;
  key: number;
  /** The program that was in the slot before (null: it was empty). */
  previousProgId: number | null;
}

export interface AttachRecord {
  target: string;
  endpointId: number;
  mapPath: string;
  hooks: AttachedHook[];
  pinName: string;
  pinDir: string;
  progPin: string;
  mapsDir: string;
  /** Map pins created under mapsDir (names). */
  maps: string[];
  prog: BpfProgInfo;
  objectPath: string;
  attachedAt: string;
  /** Pin directories of replaced programs of ours that no slot referenced any more, removed. */
  removedPins: string[];
  verify: { durationMs: number; insnsProcessed: number | null };
  /** An interrupted earlier run whose rollback this one finished first. */
  recovered?: Recovery;
  /**
   * The header's program was already loaded for this endpoint with the same code (same kernel tag): its program and
   * maps were put into the new slots instead of a second copy, so every hook counts into the same maps.
   */
  reused: boolean;
}

async function describeProg(target: Target, id: number, signal?: AbortSignal): Promise<string> {
  const { info } = await showProgById(target, id, signal);
  return info.ok ? `program ${id} (${info.value.name || 'unnamed'}, ${info.value.type})` : `program ${id}`;
}

function verifyProblemToAttach(error: VerifyProblem): CustomCallsProblem {
  if (error.kind === 'cancelled') return new CustomCallsProblem('cancelled', 'Attach cancelled before anything was changed.').withState('unchanged', null);
  if (error.kind === 'bpftool-missing' || error.kind === 'not-permitted' || error.kind === 'connection' || error.kind === 'timeout' || error.kind === 'bpffs-not-mounted') {
    return new CustomCallsProblem(error.kind, error.message, error.fix);
  }
  // Not the verifier's verdict: the object is of the wrong kind, or the loader refused it. Said as such.
  if (error.kind === 'wrong-program-type' || error.kind === 'not-bpf-object') {
    return new CustomCallsProblem('wrong-program', `Nothing was attached: ${error.message}`, error.fix).withState('unchanged', null);
  }
  if (error.kind === 'loader-failed') {
    return new CustomCallsProblem('load-failed', `Loading failed before the verifier ran, nothing was attached: ${error.message}`, error.fix).withState('unchanged', null);
  }
  return new CustomCallsProblem('verify-failed', `Verification failed, nothing was attached: ${error.message}`, error.fix).withState('unchanged', null);
}

function rejected(result: VerifyResult): CustomCallsProblem {
  const e = result.log.error;
  const where = result.located?.error ? `${result.located.error.file}:${result.located.error.line}: ` : e?.file ? `${e.file}:${e.line ?? '?'}: ` : '';
  return new CustomCallsProblem(
    'verifier-rejected',
    `The verifier rejects the program, nothing was attached: ${where}${e?.message ?? result.log.verdict}.`,
    'Run cilium-custom verify for the full explanation.',
  ).withState('unchanged', null);
}

function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new CustomCallsProblem('cancelled', `${what} cancelled.`);
}

const NOTHING_CHANGED = (endpointId: number) => `No slot of endpoint ${endpointId} was changed.`;

/**
 * Applies a journal's changes one by one, then checks them; on any failure or cancellation rolls back what was
 * applied (under the same lock) and throws a problem that says what state the endpoint is in.
 */
async function applyChanges(
  target: Target,
  journal: SlotJournal,
  apply: (change: SlotChange) => Promise<void>,
  options: { what: string; signal?: AbortSignal; step: (s: string) => Promise<void>; check?: () => Promise<void> },
): Promise<void> {
  const { signal, step } = options;
  await step('journal');
  await writeJournal(target, journal);
  const applied: SlotChange[] = [];
  try {
    for (const change of journal.changes) {
      await step(`update ${keyHook(change.key)}`);
      throwIfCancelled(signal, options.what);
      // Recorded before the update: a failed update may still have happened in the kernel.
      applied.push(change);
      await apply(change);
    }
    await step('read back');
    throwIfCancelled(signal, options.what);
    await options.check?.();
  } catch (error) {
    await step('roll back');
    const recovery = await rollBack(target, journal, applied);
    if (!recovery.failures.length) await removeJournal(target).catch(() => undefined);
    const problem = error instanceof CustomCallsProblem ? error : new CustomCallsProblem('target', `${options.what} failed: ${error instanceof Error ? error.message : String(error)}`);
    problem.rollbackFailures.push(...recovery.failures);
    if (signal?.aborted && problem.kind !== 'cancelled') {
      const cancelled = new CustomCallsProblem('cancelled', `${options.what} cancelled.`);
      cancelled.rollbackFailures = problem.rollbackFailures;
      throw finishMessage(cancelled, journal, applied.length);
    }
    throw finishMessage(problem, journal, applied.length);
  }
  await removeJournal(target);
}

function finishMessage(problem: CustomCallsProblem, journal: SlotJournal, applied: number): CustomCallsProblem {
  if (applied === 0) return problem.withState('unchanged', NOTHING_CHANGED(journal.endpointId));
  if (!problem.rollbackFailures.length) return problem.withState('rolled-back');
  return problem.withState(
    'uncertain',
    `Endpoint ${journal.endpointId}'s slots may not be as before; the journal stays on the node, and the next attach, detach or cleanup there finishes the rollback.`,
  );
}

export async function attach(request: AttachRequest): Promise<AttachRecord> {
  const { target, signal } = request;
  const step = async (s: string) => {
    await request.onStep?.(s);
  };
  // Validation first: nothing below runs with an unchecked value.
  const endpointId = parseEndpointId(request.endpointId);
  const hooks = parseHooks(request.hooks);
  const pinPrefix = resolvePinPrefix(target, request.pinPrefix);
  const explicitName = request.pinName !== undefined ? parsePinName(request.pinName) : undefined;
  const mapPath = callsMapPath(target.bpffsRoot, endpointId);

  await step('check the endpoint');
  await checkCallsMap(target, mapPath, signal);
  await step('wait for the node lock');
  return withPinsLock(
    target,
    `Attach to endpoint ${endpointId}`,
    async () => {
      const recovered = await recoverInterrupted(target, signal);
      const record = await attachLocked(request, { endpointId, hooks, pinPrefix, explicitName, mapPath, step });
      return recovered ? { ...record, recovered } : record;
    },
    { signal, waitMs: request.lockWaitMs },
  );
}

interface Checked {
  endpointId: number;
  hooks: Hook[];
  pinPrefix: string;
  explicitName: string | undefined;
  mapPath: string;
  step: (s: string) => Promise<void>;
}

async function attachLocked(request: AttachRequest, checked: Checked): Promise<AttachRecord> {
  const { target, signal } = request;
  const { endpointId, hooks, pinPrefix, explicitName, mapPath, step } = checked;
  await step('read the slots');
  const before = await readSlots(target, mapPath, signal);
  // The header's program already in this endpoint's slots (its pins are named after the header): one program per
  // header and endpoint, as Cilium's own guide does it, so that every hook counts into the same maps.
  const base = sanitizePinName(path.basename(request.input));
  const sameHeader =
    explicitName === undefined
      ? (await listOurPrograms(target, pinPrefix, signal)).filter(
          (p) => p.prog && (p.name === base || new RegExp(`^${base.replace(/[.]/g, '\\.')}-[0-9]+$`).test(p.name)) && [...before.values()].includes(p.prog.id),
        )
      : [];
  const sameHeaderIds = new Set(sameHeader.map((p) => p.prog!.id));
  if (!request.replace) {
    const occupied = hooks.filter((h) => before.has(hookKey(h)) && !sameHeaderIds.has(before.get(hookKey(h))!));
    if (occupied.length) {
      const list = await Promise.all(occupied.map(async (h) => `${h} holds ${await describeProg(target, before.get(hookKey(h))!, signal)}`));
      throw new CustomCallsProblem('slot-occupied', `Endpoint ${endpointId}: ${list.join('; ')}.`, 'Detach it first, or replace it (--replace).').withState('unchanged');
    }
  }

  await step('pick the pin directory');
  const prefixListing = await listDir(target, pinPrefix, signal);
  const taken = new Set(prefixListing.names);
  let pinName: string;
  if (explicitName !== undefined) {
    if (taken.has(explicitName)) {
      throw new CustomCallsProblem('pin-exists', `${pinPrefix}/${explicitName} already exists.`, 'Detach that program first or choose another name.').withState('unchanged');
    }
    pinName = explicitName;
  } else {
    pinName = base;
    for (let i = 2; taken.has(pinName); i++) {
      if (i > 999) throw new CustomCallsProblem('pin-exists', `Too many pin directories named ${base}-N under ${pinPrefix}.`);
      pinName = `${base}-${i}`;
    }
  }
  const layout = pinLayout(pinPrefix, pinName);

  // A failed load leaves no pins (the script removes them, or verifyObject names what it could not), nor a prefix
  // it made, and no slot changed. `pinsMayStay`: bpftool succeeded, so the script kept them.
  const undoFailedLoad = async (problem: unknown, pinsMayStay = false): Promise<unknown> => {
    const failures = pinsMayStay ? await removePinDirs(target, [layout.dir], pinPrefix) : [];
    if (!prefixListing.exists) await removePrefixIfEmpty(target, pinPrefix);
    if (!(problem instanceof CustomCallsProblem)) return problem;
    problem.rollbackFailures.push(...failures);
    return problem.withState('unchanged', NOTHING_CHANGED(endpointId));
  };

  // The verification is the load: bpftool loads and pins the program under its final pins, which the target
  // keeps only when the verifier accepts it (one script run, see verifyScript.ts).
  await step('verify and load');
  let verified: VerifyResult;
  try {
    verified = await verifyHeaderOrObject({
      input: request.input,
      target,
      ...buildSettingsOf(request),
      logLevel: request.logLevel ?? 'verbose',
      signal,
      onOutput: request.onOutput,
      keepPins: { pinDir: layout.dir, parentDir: pinPrefix },
    });
  } catch (error) {
    const problem = error instanceof VerifyProblem ? verifyProblemToAttach(error) : error;
    throw await undoFailedLoad(problem);
  }
  // (A log that reads as a rejection from a bpftool that succeeded is still a rejection, and its pins go.)
  if (verified.log.verdict !== 'accepted') throw await undoFailedLoad(rejected(verified), true);

  let prog: BpfProgInfo;
  let maps: string[];
  try {
    await step('check the program');
    throwIfCancelled(signal, 'Attach');
    const shown = await showPinnedProg(target, layout.progPin, signal);
    throwEnvironmentProblem(target, shown.run, 'Reading the loaded program');
    if (!shown.info.ok) throw new CustomCallsProblem('load-failed', `Reading the loaded program failed: ${shown.info.error}.`);
    prog = shown.info.value;
    if (prog.type !== 'sched_cls') {
      throw new CustomCallsProblem('wrong-program', `The loaded program is of type ${prog.type}; the custom-calls slots take sched_cls programs only.`);
    }
    maps = (await listDir(target, layout.mapsDir, signal)).names;
  } catch (error) {
    throw await undoFailedLoad(error, true);
  }

  // The same header already here: the same code (kernel tag) is reused, a changed one replaces it everywhere.
  let used = { prog, layout, maps, reused: false };
  let targetHooks = hooks;
  if (sameHeader.length) {
    const same = sameHeader.find((p) => p.prog!.tag === prog.tag);
    if (same && sameHeader.every((p) => p.prog!.tag === prog.tag)) {
      await step('reuse the loaded program');
      const dropped = await removePinDirs(target, [layout.dir], pinPrefix);
      if (dropped.length) throw await undoFailedLoad(new CustomCallsProblem('target', dropped.join('; ')));
      used = { prog: same.prog!, layout: pinLayout(pinPrefix, same.name), maps: (await listDir(target, same.mapsDir, signal)).names, reused: true };
    } else if (!request.replace) {
      const where = [...before].filter(([, id]) => sameHeaderIds.has(id)).map(([key]) => keyHook(key));
      throw await undoFailedLoad(
        new CustomCallsProblem(
          'program-changed',
          `Endpoint ${endpointId}: ${where.join(', ')} ${where.length > 1 ? 'hold' : 'holds'} an older build of ${base} (${sameHeader.map((p) => p.name).join(', ')}), and the object has changed since.`,
          `Replace it in every slot it occupies (--replace), so that all hooks run the same program and share its maps.`,
        ).withState('unchanged'),
        true,
      );
    } else {
      const extra = [...before].filter(([key, id]) => sameHeaderIds.has(id) && !hooks.some((h) => hookKey(h) === key)).map(([key]) => keyHook(key));
      targetHooks = [...hooks, ...extra];
    }
  }
  const changes = targetHooks
    .map((hook) => ({ mapPath, key: hookKey(hook), before: before.get(hookKey(hook)) ?? null, after: used.prog.id }))
    .filter((c) => c.before !== c.after);
  const journal: SlotJournal = {
    version: 1,
    op: 'attach',
    endpointId,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    changes,
    pinPrefix,
    // A reused program is in use elsewhere: a rollback never removes it (it checks references anyway).
    ...(used.reused ? {} : { pinDir: layout.dir }),
  };
  await applyChanges(target, journal, (change) => setSlot(target, mapPath, change.key, { pinned: used.layout.progPin }), {
    what: 'Attach',
    signal,
    step,
    check: async () => {
      const after = await readSlots(target, mapPath);
      const wrong = targetHooks.filter((h) => after.get(hookKey(h)) !== used.prog.id);
      if (wrong.length) {
        throw new CustomCallsProblem(
          'readback-mismatch',
          `Reading the slots back: ${wrong.map((h) => `${h} holds ${after.get(hookKey(h)) ?? 'nothing'}`).join(', ')} instead of program ${used.prog.id} (something outside cilium-custom changed them concurrently).`,
        );
      }
    },
  });

  // Replaced programs of ours that no slot references any more: their pins go (the kernel frees them then).
  const removedPins: string[] = [];
  const replaced = new Set(journal.changes.map((c) => c.before).filter((id): id is number => id !== null && id !== used.prog.id));
  if (replaced.size) {
    await step('clean up replaced programs');
    const ours = (await listOurPrograms(target, pinPrefix)).filter((p) => p.prog && replaced.has(p.prog.id) && p.dir !== used.layout.dir);
    if (ours.length) {
      const refs = await slotReferences(target);
      const unreferenced = ours.filter((p) => !refs.has(p.prog!.id)).map((p) => p.dir);
      const failures = await removePinDirs(target, unreferenced, pinPrefix);
      removedPins.push(...unreferenced.filter((dir) => !failures.some((f) => f.includes(dir))));
    }
  }
  return {
    target: target.name,
    endpointId,
    mapPath,
    hooks: targetHooks.map((hook) => ({ hook, key: hookKey(hook), previousProgId: before.get(hookKey(hook)) ?? null })),
    pinName: used.layout.dir.slice(pinPrefix.length + 1),
    pinDir: used.layout.dir,
    progPin: used.layout.progPin,
    mapsDir: used.layout.mapsDir,
    maps: used.maps,
    prog: used.prog,
    objectPath: verified.objectPath,
    attachedAt: new Date().toISOString(),
    reused: used.reused,
    removedPins,
    verify: { durationMs: verified.durationMs, insnsProcessed: verified.log.stats?.insnsProcessed ?? null },
  };
}

export interface DetachRequest {
  target: Target;
  endpointId: number | string;
  hooks: readonly (Hook | string)[];
  /** Only detach the program pinned under this name (default: whichever of ours is in each slot). */
  pinName?: string;
  /** Detach even a program that is not ours (not pinned under the prefix, or not the named one). */
  force?: boolean;
  pinPrefix?: string;
  signal?: AbortSignal;
  lockWaitMs?: number;
  onStep?: (step: string) => void | Promise<void>;
}

export interface DetachedHook {
  hook: Hook;
  key: number;
  /** The program removed from the slot; null when the slot was already empty. */
  progId: number | null;
  /** Our pin directory name of that program, null when it was not ours (forced). */
  ours: string | null;
}

export interface DetachResult {
  target: string;
  endpointId: number;
  mapPath: string;
  hooks: DetachedHook[];
  /** Our pin directories removed because no slot references their program any more. */
  removedPins: string[];
  /** Our pin directories kept because another slot still uses the program. */
  keptPins: string[];
  /** Pins that could not be removed. */
  leftovers: string[];
  /** An interrupted earlier run whose rollback this one finished first. */
  recovered?: Recovery;
}

export async function detach(request: DetachRequest): Promise<DetachResult> {
  const { target, signal } = request;
  const endpointId = parseEndpointId(request.endpointId);
  const hooks = parseHooks(request.hooks);
  const pinPrefix = resolvePinPrefix(target, request.pinPrefix);
  const pinName = request.pinName !== undefined ? parsePinName(request.pinName) : undefined;
  const mapPath = callsMapPath(target.bpffsRoot, endpointId);
  const step = async (s: string) => {
    await request.onStep?.(s);
  };

  await checkCallsMap(target, mapPath, signal);
  return withPinsLock(
    target,
    `Detach from endpoint ${endpointId}`,
    async () => {
      const recovered = await recoverInterrupted(target, signal);
      const result = await detachLocked(request, { endpointId, hooks, pinPrefix, pinName, mapPath, step });
      return recovered ? { ...result, recovered } : result;
    },
    { signal, waitMs: request.lockWaitMs },
  );
}

async function detachLocked(
  request: DetachRequest,
  checked: { endpointId: number; hooks: Hook[]; pinPrefix: string; pinName: string | undefined; mapPath: string; step: (s: string) => Promise<void> },
): Promise<DetachResult> {
  const { target, signal } = request;
  const { endpointId, hooks, pinPrefix, pinName, mapPath, step } = checked;
  const before = await readSlots(target, mapPath, signal);
  const ours = await listOurPrograms(target, pinPrefix, signal);
  const oursById = new Map<number, OurProgram>();
  for (const p of ours) if (p.prog) oursById.set(p.prog.id, p);
  const named = pinName !== undefined ? ours.find((p) => p.name === pinName) : undefined;
  if (pinName !== undefined && !named && !request.force) {
    throw new CustomCallsProblem('not-found', `Nothing is pinned at ${pinPrefix}/${pinName}.`, 'cilium-custom endpoints shows what is attached.').withState('unchanged');
  }

  const plan: DetachedHook[] = [];
  const refused: string[] = [];
  for (const hook of hooks) {
    const key = hookKey(hook);
    const progId = before.get(key) ?? null;
    const mine = progId === null ? undefined : named ? (named.prog?.id === progId ? named : undefined) : oursById.get(progId);
    if (progId !== null && !mine && !request.force) refused.push(`${hook} holds ${await describeProg(target, progId, signal)}`);
    plan.push({ hook, key, progId, ours: mine?.name ?? null });
  }
  if (refused.length) {
    throw new CustomCallsProblem(
      'not-ours',
      `Endpoint ${endpointId}: ${refused.join('; ')}, which ${refused.length > 1 ? 'were' : 'was'} not attached by us${named ? ` as ${pinName}` : ''}.`,
      'Detach it anyway with --force.',
    ).withState('unchanged');
  }

  const journal: SlotJournal = {
    version: 1,
    op: 'detach',
    endpointId,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    changes: plan.filter((e) => e.progId !== null).map((e) => ({ mapPath, key: e.key, before: e.progId, after: null })),
    pinPrefix,
  };
  if (journal.changes.length) {
    await applyChanges(target, journal, (change) => clearSlot(target, mapPath, change.key), {
      what: 'Detach',
      signal,
      step,
      check: async () => {
        const after = await readSlots(target, mapPath);
        const still = journal.changes.filter((c) => after.has(c.key));
        if (still.length) {
          throw new CustomCallsProblem('readback-mismatch', `Reading the slots back: ${still.map((c) => `${keyHook(c.key)} holds ${after.get(c.key)}`).join(', ')} (something outside cilium-custom changed them concurrently).`);
        }
      },
    });
  }

  // Pins: ours whose program was in a cleared slot (or the named one), once no slot anywhere references them.
  const candidates = new Map<string, OurProgram>();
  for (const entry of plan) if (entry.ours) candidates.set(entry.ours, ours.find((p) => p.name === entry.ours)!);
  if (named) candidates.set(named.name, named);
  const removedPins: string[] = [];
  const keptPins: string[] = [];
  const leftovers: string[] = [];
  if (candidates.size) {
    await step('remove pins');
    const refs = await slotReferences(target);
    for (const p of candidates.values()) {
      if (p.prog && refs.has(p.prog.id)) {
        keptPins.push(p.dir);
        continue;
      }
      const failures = await removePinDirs(target, [p.dir], pinPrefix);
      if (failures.length) leftovers.push(p.dir);
      else removedPins.push(p.dir);
    }
    await removePrefixIfEmpty(target, pinPrefix);
  }
  return { target: target.name, endpointId, mapPath, hooks: plan, removedPins, keptPins, leftovers };
}

