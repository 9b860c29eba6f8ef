// Endpoint discovery: the cilium_calls_custom_<id> maps pinned on the target, their four slots and the programs
// in them, enriched from the Cilium agent's endpoint list when that is reachable.
import type { Target } from '../target/target';
import { bpftoolJson, mapLimited, showProgById } from '../maps/bpftool';
import { parseProgArrayDump, parseMapShow, type BpfProgInfo } from '../maps/bpftoolJson';
import { listDir, listOurPrograms } from '../pins/ours';
import { parseCiliumEndpoints, parseCiliumVersion, removedCustomCalls, type CiliumEndpoint, type CiliumVersion } from './cilium';
import { endpointIdOfMapName, globalsDir, HOOKS, defaultPinPrefix, type Hook } from '../ids';
import { callsMapMismatch } from './slots';

export const DEFAULT_CILIUM_COMMAND = ['cilium-dbg', 'endpoint', 'list', '-o', 'json'];
const FALLBACK_CILIUM_COMMAND = ['cilium', 'endpoint', 'list', '-o', 'json'];

export interface SlotInfo {
  hook: Hook;
  key: number;
  /** null: the slot is empty. */
  progId: number | null;
  /** The occupying program (null when empty or when it could not be read). */
  prog: BpfProgInfo | null;
  /** The pin directory name under the pin prefix when the program is ours. */
  ours: string | null;
}

export interface DiscoveredEndpoint {
  id: number;
  mapPath: string;
  mapId: number | null;
  /** Why this map is unusable (wrong type, unreadable); the slots are then empty. */
  problem: string | null;
  slots: SlotInfo[];
  cilium: CiliumEndpoint | null;
}

export interface DiscoveryResult {
  endpoints: DiscoveredEndpoint[];
  /** Set when no custom-calls map exists: why, in words for the user. */
  reason: string | null;
  cilium: { available: boolean; command: string[]; reason: string | null; version: CiliumVersion | null };
}

export interface DiscoverOptions {
  /** argv of the endpoint list command (a setting); default cilium-dbg, falling back to cilium. */
  ciliumCommand?: string[];
  /** argv of the version command; default: the endpoint command's program + ['version']. */
  ciliumVersionCommand?: string[];
  /** Skip asking Cilium (cheap listings). */
  skipCilium?: boolean;
  /** Skip `prog show` for occupied slots (the cheapest listing: ids only). */
  skipPrograms?: boolean;
  pinPrefix?: string;
  signal?: AbortSignal;
}

export function noMapsReason(bpffsRoot: string, version: CiliumVersion | null): string {
  const base =
    `no cilium_calls_custom_* maps under ${globalsDir(bpffsRoot)}: custom calls are disabled in this Cilium ` +
    '(built without ENABLE_CUSTOM_CALLS) or this is Cilium 1.19+, which removed the feature';
  if (version && removedCustomCalls(version)) return `${base} (the agent reports Cilium ${version.text}, which has no custom calls)`;
  if (version) return `${base} (the agent reports Cilium ${version.text}, so custom calls are disabled in its build)`;
  return base;
}

export async function discoverEndpoints(target: Target, options: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const signal = options.signal;
  const dir = globalsDir(target.bpffsRoot);
  const listing = await listDir(target, dir, signal);
  const ids = listing.names
    .map((name) => ({ name, id: endpointIdOfMapName(name) }))
    .filter((e): e is { name: string; id: number } => e.id !== undefined)
    .sort((a, b) => a.id - b.id);

  const ours = new Map<number, string>();
  if (!options.skipPrograms) {
    for (const p of await listOurPrograms(target, options.pinPrefix ?? defaultPinPrefix(target.bpffsRoot), signal)) if (p.prog) ours.set(p.prog.id, p.name);
  }
  const progCache = new Map<number, Promise<BpfProgInfo | null>>();
  const prog = (id: number) => {
    let cached = progCache.get(id);
    if (!cached) {
      cached = showProgById(target, id, signal).then(({ info }) => (info.ok ? info.value : null));
      progCache.set(id, cached);
    }
    return cached;
  };

  const endpoints = await mapLimited(ids, 8, async ({ name, id }): Promise<DiscoveredEndpoint> => {
    const mapPath = `${dir}/${name}`;
    const empty = HOOKS.map((hook, key): SlotInfo => ({ hook, key, progId: null, prog: null, ours: null }));
    const show = await bpftoolJson(target, ['map', 'show', 'pinned', mapPath], { signal });
    const info = parseMapShow(show.stdout);
    if (!info.ok) return { id, mapPath, mapId: null, problem: info.error, slots: empty, cilium: null };
    const mismatch = callsMapMismatch(info.value);
    if (mismatch) return { id, mapPath, mapId: info.value.id, problem: `not a custom-calls map: ${mismatch}`, slots: empty, cilium: null };
    const dump = await bpftoolJson(target, ['map', 'dump', 'pinned', mapPath], { signal });
    const slots = parseProgArrayDump(dump.stdout);
    if (!slots.ok) return { id, mapPath, mapId: info.value.id, problem: slots.error, slots: empty, cilium: null };
    const filled = await Promise.all(
      empty.map(async (slot): Promise<SlotInfo> => {
        const progId = slots.value.get(slot.key) ?? null;
        if (progId === null) return slot;
        return { ...slot, progId, prog: options.skipPrograms ? null : await prog(progId), ours: ours.get(progId) ?? null };
      }),
    );
    return { id, mapPath, mapId: info.value.id, problem: null, slots: filled, cilium: null };
  });

  const cilium = options.skipCilium
    ? { available: false, command: options.ciliumCommand ?? DEFAULT_CILIUM_COMMAND, reason: 'not asked', version: null, endpoints: [] as CiliumEndpoint[] }
    : await askCilium(target, options, signal);
  const byId = new Map(cilium.endpoints.map((e) => [e.id, e]));
  for (const endpoint of endpoints) endpoint.cilium = byId.get(endpoint.id) ?? null;

  let version: CiliumVersion | null = cilium.version;
  if (endpoints.length === 0 && !options.skipCilium && version === null) version = await ciliumVersion(target, options, signal);
  return {
    endpoints,
    reason: endpoints.length === 0 ? noMapsReason(target.bpffsRoot, version) : null,
    cilium: { available: cilium.available, command: cilium.command, reason: cilium.reason, version },
  };
}

async function askCilium(target: Target, options: DiscoverOptions, signal?: AbortSignal) {
  const commands = options.ciliumCommand ? [options.ciliumCommand] : [DEFAULT_CILIUM_COMMAND, FALLBACK_CILIUM_COMMAND];
  let reason = '';
  const missing: string[] = [];
  for (const command of commands) {
    const run = await target.run(command, { privileged: true, signal, timeoutMs: 30_000 });
    if (run.exitCode === 0) {
      const parsed = parseCiliumEndpoints(run.stdout);
      if (parsed.ok) return { available: true, command, reason: null, version: null, endpoints: parsed.value };
      return { available: false, command, reason: parsed.error, version: null, endpoints: [] };
    }
    if (run.spawnError?.code === 'ENOENT' || run.exitCode === 127) {
      missing.push(command[0]);
      reason = `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed on ${target.name}`;
      continue;
    }
    reason = `${command.join(' ')} failed: ${run.stderr.trim().split('\n').pop() || `exit code ${run.exitCode}`}`;
    break;
  }
  return { available: false, command: commands[commands.length - 1], reason, version: null, endpoints: [] as CiliumEndpoint[] };
}

async function ciliumVersion(target: Target, options: DiscoverOptions, signal?: AbortSignal): Promise<CiliumVersion | null> {
  const commands = options.ciliumVersionCommand
    ? [options.ciliumVersionCommand]
    : options.ciliumCommand
      ? [versionCommandFor(options.ciliumCommand)]
      : [['cilium-dbg', 'version'], ['cilium', 'version']];
  for (const command of commands) {
    const run = await target.run(command, { privileged: true, signal, timeoutMs: 30_000 });
    if (run.exitCode !== 0) continue;
    const parsed = parseCiliumVersion(run.stdout);
    if (parsed.ok) return parsed.value;
  }
  return null;
}

/** ['kubectl', ..., 'cilium-dbg', 'endpoint', 'list', '-o', 'json'] -> [..., 'cilium-dbg', 'version']. */
export function versionCommandFor(endpointCommand: readonly string[]): string[] {
  const at = endpointCommand.lastIndexOf('endpoint');
  return [...(at > 0 ? endpointCommand.slice(0, at) : endpointCommand.slice(0, 1)), 'version'];
}
