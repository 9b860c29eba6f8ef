// Reading and writing the four slots of a cilium_calls_custom_<id> map. Keys come only from ids.ts.
import { bpffsNotMounted, readStatFs, statFsArgv } from '../target/bpffs';
import type { Target } from '../target/target';
import { bpftoolJson, showPinnedMap } from '../maps/bpftool';
import { parseProgArrayDump, type BpfMapInfo } from '../maps/bpftoolJson';
import { checkSlotKey, slotKeyArgv } from '../ids';
import { CustomCallsProblem } from '../problem';
import { runErrorText, throwEnvironmentProblem } from '../maps/runProblems';

/** Why `info` is not a custom-calls map as Cilium creates it, or undefined when it is one. */
export function callsMapMismatch(info: BpfMapInfo): string | undefined {
  const problems: string[] = [];
  if (info.type !== 'prog_array') problems.push(`type ${info.type} (expected prog_array)`);
  if (info.maxEntries !== 4) problems.push(`${info.maxEntries} entries (expected 4)`);
  if (info.keySize !== 4 || info.valueSize !== 4) problems.push(`key/value size ${info.keySize}/${info.valueSize} (expected 4/4)`);
  if (!info.name.startsWith('cilium_calls')) problems.push(`kernel name ${JSON.stringify(info.name)} (expected cilium_calls_cu...)`);
  return problems.length ? problems.join(', ') : undefined;
}

/** Shows the pinned map and checks it is a custom-calls map; throws a clear problem when missing or wrong. */
export async function checkCallsMap(target: Target, mapPath: string, signal?: AbortSignal): Promise<BpfMapInfo> {
  const { run, info } = await showPinnedMap(target, mapPath, signal);
  throwEnvironmentProblem(target, run, `Reading ${mapPath}`);
  if (!info.ok) {
    if (/No such file or directory/i.test(info.error)) {
      // No map because there is no bpffs at all is a different fix.
      const fs = await target.run(statFsArgv(target.bpffsRoot), { signal, timeoutMs: 30_000 });
      const found = readStatFs(fs.stdout);
      if (fs.exitCode !== null && !found.isBpffs) {
        const { message, fix } = bpffsNotMounted(target, found.typeName ? `found ${found.typeName}` : undefined);
        throw new CustomCallsProblem('bpffs-not-mounted', message, fix);
      }
      throw new CustomCallsProblem(
        'no-calls-map',
        `No custom-calls map at ${mapPath}.`,
        'Check the endpoint id (cilium-custom endpoints lists them); custom calls need a Cilium 1.10-1.18 built with ENABLE_CUSTOM_CALLS.',
      );
    }
    throw new CustomCallsProblem('wrong-map', `${mapPath} is not a usable BPF map: ${info.error}.`);
  }
  const mismatch = callsMapMismatch(info.value);
  if (mismatch) throw new CustomCallsProblem('wrong-map', `${mapPath} is not a Cilium custom-calls map: ${mismatch}.`).withState('unchanged');
  return info.value;
}

/** slot key -> program id of each occupied slot. */
export async function readSlots(target: Target, mapPath: string, signal?: AbortSignal): Promise<Map<number, number>> {
  const run = await bpftoolJson(target, ['map', 'dump', 'pinned', mapPath], { signal });
  throwEnvironmentProblem(target, run, `Reading the slots of ${mapPath}`);
  if (run.exitCode !== 0) throw new CustomCallsProblem('target', `Reading the slots of ${mapPath} failed: ${runErrorText(target, run)}.`);
  const slots = parseProgArrayDump(run.stdout);
  if (!slots.ok) throw new CustomCallsProblem('target', `Reading the slots of ${mapPath}: ${slots.error}.`);
  return slots.value;
}

export type SlotValue = { pinned: string } | { id: number };

/** `bpftool map update pinned MAP key K 0 0 0 value (pinned PROG | id N)`; throws on failure. */
export async function setSlot(target: Target, mapPath: string, key: number, value: SlotValue, signal?: AbortSignal): Promise<void> {
  const valueArgv = 'pinned' in value ? ['pinned', value.pinned] : ['id', String(checkId(value.id))];
  const run = await bpftoolJson(target, ['map', 'update', 'pinned', mapPath, 'key', ...slotKeyArgv(key), 'value', ...valueArgv], { signal });
  throwEnvironmentProblem(target, run, `Updating slot ${key} of ${mapPath}`);
  if (run.exitCode !== 0) {
    const text = runErrorText(target, run);
    const why = /Invalid argument/i.test(text)
      ? ' (EINVAL: the program is not of a type the slot accepts; custom programs must be sched_cls)'
      : /Argument list too long/i.test(text)
        ? ' (E2BIG: the key is beyond the map\'s 4 slots)'
        : '';
    throw new CustomCallsProblem('update-failed', `Updating slot ${key} of ${mapPath} failed: ${text}${why}.`);
  }
}

/** `bpftool map delete pinned MAP key K 0 0 0`; an already empty slot is fine. */
export async function clearSlot(target: Target, mapPath: string, key: number, signal?: AbortSignal): Promise<void> {
  checkSlotKey(key);
  const run = await bpftoolJson(target, ['map', 'delete', 'pinned', mapPath, 'key', ...slotKeyArgv(key)], { signal });
  throwEnvironmentProblem(target, run, `Clearing slot ${key} of ${mapPath}`);
  if (run.exitCode !== 0 && !/No such file or directory/i.test(runErrorText(target, run))) {
    throw new CustomCallsProblem('update-failed', `Clearing slot ${key} of ${mapPath} failed: ${runErrorText(target, run)}.`);
  }
  if (run.exitCode !== 0) {
    // ENOENT: the map itself may be gone, or only the slot empty. Tell them apart.
    const still = await bpftoolJson(target, ['map', 'show', 'pinned', mapPath], { signal });
    if (still.exitCode !== 0) throw new CustomCallsProblem('no-calls-map', `Clearing slot ${key}: ${mapPath} is gone.`);
  }
}

function checkId(id: number): number {
  if (!Number.isInteger(id) || id <= 0 || id > 0xffffffff) throw new CustomCallsProblem('target', `invalid program id ${id}`);
  return id;
}
