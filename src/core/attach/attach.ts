// Attach a custom program to an endpoint's hooks, and detach it: all-or-nothing. Every change to a slot is
// recorded before it is made, so a failure (or cancellation) midway restores the slots it changed to their
// previous program (by id) or empties them, and removes the pins it created.
//
// What is "ours": programs pinned under the pin prefix (<bpffs>/cilium-custom/<name>/{prog,maps/} by default). No
// record file is kept on the target: the bpffs itself says what is loaded and the slots say where it is attached,
// so nothing can go stale (a reboot, a manual `bpftool map delete`, another tool) and detach works from any
// machine. The AttachRecord returned to the caller is a report, not state.
import * as path from 'node:path';
import type { Target } from '../target/target';
import { verifyHeaderOrObject, type VerifyResult } from '../verify/verifyHeader';
import { VerifyProblem } from '../verify/verifyErrors';
import type { VerifierLogLevel } from '../verify/verifyObject';
import { listDir, listOurPrograms, pinLayout, type OurProgram } from './ours';
import { showPinnedProg, showProgById } from '../maps/bpftool';
import type { BpfProgInfo } from '../maps/bpftoolJson';
import {
  callsMapPath,
  defaultPinPrefix,
  endpointIdOfMapName,
  globalsDir,
  hookKey,
  parseEndpointId,
  parseHooks,
  parsePinName,
  parsePinPrefix,
  sanitizePinName,
  trimRoot,
  ValidationError,
  type Hook,
} from '../endpoints/ids';
import { CustomCallsProblem, runErrorText, throwEnvironmentProblem } from '../endpoints/problem';
import { checkCallsMap, clearSlot, readSlots, setSlot } from '../endpoints/slots';

export interface AttachRequest {
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
  bundledSdkDir: string;
  makeDirSetting?: string;
  make?: string;
  logLevel?: VerifierLogLevel;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
  /** Called before each step (for progress reports). */
  onStep?: (step: string) => void;
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
}

interface SlotChange {
  mapPath: string;
  key: number;
  previousProgId: number | null;
}

/** Restores changed slots (newest first); returns what could not be undone. Runs without the caller's signal. */
async function restoreSlots(target: Target, changes: readonly SlotChange[]): Promise<string[]> {
  const failures: string[] = [];
  for (const change of [...changes].reverse()) {
    try {
      if (change.previousProgId === null) await clearSlot(target, change.mapPath, change.key);
      else await setSlot(target, change.mapPath, change.key, { id: change.previousProgId });
    } catch (error) {
      failures.push(`slot ${change.key} of ${change.mapPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failures;
}

export async function removePins(target: Target, dirs: readonly string[]): Promise<string[]> {
  const failures: string[] = [];
  for (const dir of dirs) {
    const run = await target.run(['rm', '-rf', '--', dir], { privileged: true, timeoutMs: 30_000 });
    if (run.exitCode !== 0) failures.push(`could not remove ${dir}: ${runErrorText(target, run)}`);
  }
  return failures;
}

/** Removes the pin prefix directory if it is empty (it is ours alone); never fails. */
export async function removePrefixIfEmpty(target: Target, pinPrefix: string): Promise<void> {
  if (pinPrefix === trimRoot(target.bpffsRoot)) return;
  await target.run(['rmdir', '--ignore-fail-on-non-empty', '--', pinPrefix], { privileged: true, timeoutMs: 30_000 });
}

function resolvePrefix(target: Target, pinPrefix: string | undefined): string {
  const prefix = parsePinPrefix(pinPrefix ?? defaultPinPrefix(target.bpffsRoot));
  const root = trimRoot(target.bpffsRoot);
  if (prefix === root || prefix === globalsDir(root) || !prefix.startsWith(`${root}/`)) {
    throw new ValidationError(`invalid pin prefix ${prefix}: it must be a directory of its own under the bpffs ${root} (not the root or tc/globals)`);
  }
  return prefix;
}

async function describeProg(target: Target, id: number, signal?: AbortSignal): Promise<string> {
  const { info } = await showProgById(target, id, signal);
  return info.ok ? `program ${id} (${info.value.name || 'unnamed'}, ${info.value.type})` : `program ${id}`;
}

/** Every calls map's slots on the target: program id -> number of slots holding it. */
export async function slotReferences(target: Target, signal?: AbortSignal): Promise<Map<number, number>> {
  const dir = globalsDir(target.bpffsRoot);
  const refs = new Map<number, number>();
  const { names } = await listDir(target, dir, signal);
  for (const name of names) {
    if (endpointIdOfMapName(name) === undefined) continue;
    let slots: Map<number, number>;
    try {
      slots = await readSlots(target, `${dir}/${name}`, signal);
    } catch {
      continue; // Not a prog_array (someone else's map with that name): it references nothing.
    }
    for (const id of slots.values()) refs.set(id, (refs.get(id) ?? 0) + 1);
  }
  return refs;
}

function verifyProblemToAttach(error: VerifyProblem): CustomCallsProblem {
  if (error.kind === 'cancelled') return new CustomCallsProblem('cancelled', 'Attach cancelled before anything was changed.');
  if (error.kind === 'bpftool-missing' || error.kind === 'not-permitted' || error.kind === 'connection' || error.kind === 'timeout' || error.kind === 'bpffs-not-mounted') {
    return new CustomCallsProblem(error.kind, error.message, error.fix);
  }
  return new CustomCallsProblem('verify-failed', `Verification failed, nothing was attached: ${error.message}`, error.fix);
}

function rejected(result: VerifyResult): CustomCallsProblem {
  const e = result.log.error;
  const where = result.located?.error ? `${result.located.error.file}:${result.located.error.line}: ` : e?.file ? `${e.file}:${e.line ?? '?'}: ` : '';
  return new CustomCallsProblem(
    'verifier-rejected',
    `The verifier rejects the program, nothing was attached: ${where}${e?.message ?? result.log.verdict}.`,
    'Run cilium-custom verify for the full explanation.',
  );
}

export async function attach(request: AttachRequest): Promise<AttachRecord> {
  const { target, signal } = request;
  const step = (s: string) => request.onStep?.(s);
  // Validation first: nothing below runs with an unchecked value.
  const endpointId = parseEndpointId(request.endpointId);
  const hooks = parseHooks(request.hooks);
  const pinPrefix = resolvePrefix(target, request.pinPrefix);
  const explicitName = request.pinName !== undefined ? parsePinName(request.pinName) : undefined;
  const mapPath = callsMapPath(target.bpffsRoot, endpointId);

  step('check the endpoint');
  await checkCallsMap(target, mapPath, signal);
  const before = await readSlots(target, mapPath, signal);
  if (!request.replace) {
    const occupied = hooks.filter((h) => before.has(hookKey(h)));
    if (occupied.length) {
      const list = await Promise.all(occupied.map(async (h) => `${h} holds ${await describeProg(target, before.get(hookKey(h))!, signal)}`));
      throw new CustomCallsProblem('slot-occupied', `Endpoint ${endpointId}: ${list.join('; ')}. Nothing was changed.`, 'Detach it first, or replace it (--replace).');
    }
  }

  step('pick the pin directory');
  const prefixListing = await listDir(target, pinPrefix, signal);
  const taken = new Set(prefixListing.names);
  let pinName: string;
  if (explicitName !== undefined) {
    if (taken.has(explicitName)) {
      throw new CustomCallsProblem('pin-exists', `${pinPrefix}/${explicitName} already exists. Nothing was changed.`, 'Detach that program first or choose another name.');
    }
    pinName = explicitName;
  } else {
    const base = sanitizePinName(path.basename(request.input));
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
    const failures = pinsMayStay ? await removePins(target, [layout.dir]) : [];
    if (!prefixListing.exists) await removePrefixIfEmpty(target, pinPrefix);
    if (!(problem instanceof CustomCallsProblem)) return problem;
    problem.rollbackFailures.push(...failures);
    if (!/Nothing was changed|nothing was attached/i.test(problem.message)) {
      problem.message = `${problem.message} No slot of endpoint ${endpointId} was changed.`;
    }
    return problem;
  };

  // The verification is the load: bpftool loads and pins the program under its final pins, which the target
  // keeps only when the verifier accepts it (one script run, see verifyScript.ts).
  step('verify and load');
  let verified: VerifyResult;
  try {
    verified = await verifyHeaderOrObject({
      input: request.input,
      target,
      bundledSdkDir: request.bundledSdkDir,
      makeDirSetting: request.makeDirSetting,
      make: request.make,
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

  const changes: SlotChange[] = [];
  try {
    step('check the program');
    const shown = await showPinnedProg(target, layout.progPin, signal);
    throwEnvironmentProblem(target, shown.run, 'Reading the loaded program');
    if (!shown.info.ok) throw new CustomCallsProblem('load-failed', `Reading the loaded program failed: ${shown.info.error}.`);
    const prog = shown.info.value;
    if (prog.type !== 'sched_cls') {
      throw new CustomCallsProblem('wrong-program', `The loaded program is of type ${prog.type}; the custom-calls slots take sched_cls programs only.`);
    }
    const maps = (await listDir(target, layout.mapsDir, signal)).names;

    step('attach');
    for (const hook of hooks) {
      const key = hookKey(hook);
      // Recorded before the update: a failed or cancelled update may still have happened in the kernel.
      changes.push({ mapPath, key, previousProgId: before.get(key) ?? null });
      await setSlot(target, mapPath, key, { pinned: layout.progPin }, signal);
    }

    step('read back');
    const after = await readSlots(target, mapPath, signal);
    const wrong = hooks.filter((h) => after.get(hookKey(h)) !== prog.id);
    if (wrong.length) {
      throw new CustomCallsProblem(
        'readback-mismatch',
        `Reading the slots back: ${wrong.map((h) => `${h} holds ${after.get(hookKey(h)) ?? 'nothing'}`).join(', ')} instead of program ${prog.id} (something else changed them concurrently).`,
      );
    }

    // Replaced programs of ours that no slot references any more: their pins go (the kernel frees them then).
    const removedPins: string[] = [];
    const replaced = new Set(changes.map((c) => c.previousProgId).filter((id): id is number => id !== null && id !== prog.id));
    if (replaced.size) {
      step('clean up replaced programs');
      const ours = (await listOurPrograms(target, pinPrefix)).filter((p) => p.prog && replaced.has(p.prog.id) && p.dir !== layout.dir);
      if (ours.length) {
        const refs = await slotReferences(target);
        const unreferenced = ours.filter((p) => !refs.has(p.prog!.id)).map((p) => p.dir);
        const failures = await removePins(target, unreferenced);
        removedPins.push(...unreferenced.filter((dir) => !failures.some((f) => f.includes(dir))));
      }
    }
    return {
      target: target.name,
      endpointId,
      mapPath,
      hooks: hooks.map((hook) => ({ hook, key: hookKey(hook), previousProgId: before.get(hookKey(hook)) ?? null })),
      pinName,
      pinDir: layout.dir,
      progPin: layout.progPin,
      mapsDir: layout.mapsDir,
      maps,
      prog,
      objectPath: verified.objectPath,
      attachedAt: new Date().toISOString(),
      removedPins,
      verify: { durationMs: verified.durationMs, insnsProcessed: verified.log.stats?.insnsProcessed ?? null },
    };
  } catch (error) {
    const slotFailures = await restoreSlots(target, changes);
    // The pins are ours and new: they go with the failed attach.
    const failures = [...slotFailures, ...(await removePins(target, [layout.dir]))];
    if (!prefixListing.exists) await removePrefixIfEmpty(target, pinPrefix);
    const problem =
      error instanceof CustomCallsProblem
        ? error
        : new CustomCallsProblem('target', `Attach failed: ${error instanceof Error ? error.message : String(error)}`);
    if (signal?.aborted && problem.kind !== 'cancelled') {
      const cancelled = new CustomCallsProblem('cancelled', 'Attach cancelled; the changes made so far were undone.');
      cancelled.rollbackFailures = failures;
      throw cancelled;
    }
    problem.rollbackFailures.push(...failures);
    if (!failures.length && !/rolled back|Nothing was changed/.test(problem.message)) {
      problem.message = `${problem.message} The changes made so far were rolled back.`;
    }
    // Whatever else went wrong, say what state the endpoint is in.
    if (changes.length === 0 && !/Nothing was changed/.test(problem.message)) {
      problem.message = `${problem.message} No slot of endpoint ${endpointId} was changed.`;
    } else if (slotFailures.length) {
      problem.message = `${problem.message} Endpoint ${endpointId}'s slots may not be as before: refresh the Endpoints view (or run cilium-custom endpoints) to see what they hold.`;
    }
    throw problem;
  }
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
}

export async function detach(request: DetachRequest): Promise<DetachResult> {
  const { target, signal } = request;
  const endpointId = parseEndpointId(request.endpointId);
  const hooks = parseHooks(request.hooks);
  const pinPrefix = resolvePrefix(target, request.pinPrefix);
  const pinName = request.pinName !== undefined ? parsePinName(request.pinName) : undefined;
  const mapPath = callsMapPath(target.bpffsRoot, endpointId);

  await checkCallsMap(target, mapPath, signal);
  const before = await readSlots(target, mapPath, signal);
  const ours = await listOurPrograms(target, pinPrefix, signal);
  const oursById = new Map<number, OurProgram>();
  for (const p of ours) if (p.prog) oursById.set(p.prog.id, p);
  const named = pinName !== undefined ? ours.find((p) => p.name === pinName) : undefined;
  if (pinName !== undefined && !named && !request.force) {
    throw new CustomCallsProblem('not-found', `Nothing is pinned at ${pinPrefix}/${pinName}. Nothing was changed.`, 'cilium-custom endpoints shows what is attached.');
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
      `Endpoint ${endpointId}: ${refused.join('; ')}, which ${refused.length > 1 ? 'were' : 'was'} not attached by us${named ? ` as ${pinName}` : ''}. Nothing was changed.`,
      'Detach it anyway with --force.',
    );
  }

  const changes: SlotChange[] = [];
  try {
    for (const entry of plan) {
      if (entry.progId === null) continue;
      changes.push({ mapPath, key: entry.key, previousProgId: entry.progId });
      await clearSlot(target, mapPath, entry.key, signal);
    }
  } catch (error) {
    const failures = await restoreSlots(target, changes);
    const problem = error instanceof CustomCallsProblem ? error : new CustomCallsProblem('target', `Detach failed: ${error instanceof Error ? error.message : String(error)}`);
    problem.rollbackFailures.push(...failures);
    if (!failures.length && changes.length) problem.message = `${problem.message} The slots cleared so far were restored.`;
    throw problem;
  }

  // Pins: ours whose program was in a cleared slot (or the named one), once no slot anywhere references them.
  const candidates = new Map<string, OurProgram>();
  for (const entry of plan) if (entry.ours) candidates.set(entry.ours, ours.find((p) => p.name === entry.ours)!);
  if (named) candidates.set(named.name, named);
  const removedPins: string[] = [];
  const keptPins: string[] = [];
  const leftovers: string[] = [];
  if (candidates.size) {
    const refs = await slotReferences(target);
    for (const p of candidates.values()) {
      if (p.prog && refs.has(p.prog.id)) {
        keptPins.push(p.dir);
        continue;
      }
      const failures = await removePins(target, [p.dir]);
      if (failures.length) leftovers.push(p.dir);
      else removedPins.push(p.dir);
    }
    await removePrefixIfEmpty(target, pinPrefix);
  }
  return { target: target.name, endpointId, mapPath, hooks: plan, removedPins, keptPins, leftovers };
}
