// Pinned maps for the map views and `cilium-custom maps`: a cheap listing (one `bpftool -f map show` for every map
// and its pins, filtered to the folders asked for) and paged dumps with BTF-formatted keys and values.
import type { Target } from '../target/target';
import { bpftoolJson, showPinnedMap } from './bpftool';
import { littleEndian, parseDumpEntry, parseMapList, type BpfMapInfo, type HexEntry } from './bpftoolJson';
import { EntryScanner } from './entryScanner';
import { defaultPinPrefix, globalsDir, trimRoot } from '../ids';
import { CustomCallsProblem } from '../problem';
import { runErrorText, throwEnvironmentProblem } from './runProblems';

export type MapOwner = 'ours' | 'cilium' | 'other';

export interface PinnedMap extends BpfMapInfo {
  /** The pin's file name (the kernel name is truncated to 15 characters). */
  pinName: string;
  path: string;
  owner: MapOwner;
  perCpu: boolean;
}

export interface ListMapsOptions {
  /** Directories to list; default <bpffs>/tc/globals and the pin prefix (searched recursively). */
  dirs?: string[];
  pinPrefix?: string;
  signal?: AbortSignal;
}

export interface ListMapsResult {
  maps: PinnedMap[];
  /** Directories that do not exist on the target. */
  missingDirs: string[];
}

/** Before bpftool runs, the script names each folder that does not exist on stderr after this word. */
const MISSING = '@cilium-custom-missing';

// One process on the target (one round trip over SSH), whatever the number of pins: the folders are checked, then
// bpftool lists every map with the paths it is pinned at (-f walks the bpffs mounts once). $1 is bpftool.
const LIST_SCRIPT = `b=$1; shift
for d; do [ -d "$d" ] || printf '${MISSING} %s\\n' "$d" >&2; done
exec "$b" -j -f map show`;

const OWNER_ORDER: Record<MapOwner, number> = { ours: 0, cilium: 1, other: 2 };

export function mapOwner(pinPath: string, pinPrefix: string): MapOwner {
  if (pinPath.startsWith(`${pinPrefix}/`)) return 'ours';
  const base = pinPath.split('/').pop() ?? '';
  return base.startsWith('cilium_') ? 'cilium' : 'other';
}

export function isPerCpu(type: string): boolean {
  return type.startsWith('percpu_') || type.startsWith('lru_percpu_') || type === 'percpu_cgroup_storage';
}

export async function listPinnedMaps(target: Target, options: ListMapsOptions = {}): Promise<ListMapsResult> {
  const pinPrefix = options.pinPrefix ?? defaultPinPrefix(target.bpffsRoot);
  const dirs = options.dirs ?? [globalsDir(target.bpffsRoot), pinPrefix];
  for (const dir of dirs) {
    if (!dir.startsWith('/') || /[\x00-\x1f]/.test(dir)) throw new CustomCallsProblem('target', `invalid directory ${JSON.stringify(dir)}: expected an absolute path`);
  }
  const run = await target.run(['sh', '-c', LIST_SCRIPT, 'cilium-custom-maps', target.bpftool, ...dirs], { privileged: true, signal: options.signal, timeoutMs: 30_000 });
  throwEnvironmentProblem(target, run, `Listing ${dirs.join(' and ')}`);
  const missingDirs = run.stderr
    .split('\n')
    .filter((line) => line.startsWith(`${MISSING} `))
    .map((line) => line.slice(MISSING.length + 1));
  if (missingDirs.length === dirs.length) return { maps: [], missingDirs };
  const listed = parseMapList(run.stdout);
  if (!listed.ok) {
    const said = run.exitCode !== 0 ? runErrorText(target, run) : listed.error;
    throw new CustomCallsProblem('target', `Listing the maps on ${target.name} failed: ${said}`);
  }
  const under = (file: string) => dirs.some((dir) => file.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
  const maps: PinnedMap[] = [];
  const seen = new Set<string>();
  for (const { pinned, ...info } of listed.value) {
    for (const file of pinned) {
      if (!under(file) || seen.has(file)) continue;
      seen.add(file);
      maps.push({ ...info, pinName: file.split('/').pop() ?? file, path: file, owner: mapOwner(file, pinPrefix), perCpu: isPerCpu(info.type) });
    }
  }
  maps.sort((a, b) => OWNER_ORDER[a.owner] - OWNER_ORDER[b.owner] || a.path.localeCompare(b.path));
  return { maps, missingDirs };
}

export interface MapValue {
  hex: string;
  /** Unsigned little-endian integer (decimal) when the value is 1, 2, 4 or 8 bytes. */
  integer: string | null;
  formatted?: unknown;
}

export interface MapEntry {
  index: number;
  key: MapValue;
  /** Absent for per-CPU maps. */
  value?: MapValue;
  perCpu?: { cpu: number; value: MapValue }[];
  /** Per-CPU maps: the values summed (integers, or BTF numbers field by field); null when they cannot be summed. */
  sum?: { integer: string | null; formatted?: unknown } | null;
}

export interface DumpPage {
  map: PinnedMap;
  offset: number;
  limit: number;
  entries: MapEntry[];
  /** True when entries exist beyond this page. */
  hasMore: boolean;
  /** Total number of entries when the dump was read to its end (else null: stopped early). */
  total: number | null;
  /** Whether bpftool formatted keys and values with BTF. */
  btf: boolean;
  /** Entries that could not be parsed (skipped), with the reason. */
  skipped: { index: number; error: string }[];
  durationMs: number;
}

export interface DumpOptions {
  offset?: number;
  limit?: number;
  pinPrefix?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

function toHex(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

function value(bytes: readonly number[], formatted?: unknown, hasFormatted = false): MapValue {
  const integer = [1, 2, 4, 8].includes(bytes.length) ? littleEndian(bytes).toString() : null;
  return hasFormatted ? { hex: toHex(bytes), integer, formatted } : { hex: toHex(bytes), integer };
}

/** Sums BTF-formatted per-CPU values: numbers add up, objects field by field; anything else cannot be summed. */
export function sumFormatted(values: readonly unknown[]): unknown {
  if (values.length === 0) return undefined;
  if (values.every((v) => typeof v === 'number')) return (values as number[]).reduce((a, b) => a + b, 0);
  if (values.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
    const keys = Object.keys(values[0] as object);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const sum = sumFormatted(values.map((v) => (v as Record<string, unknown>)[key]));
      if (sum === undefined) return undefined;
      out[key] = sum;
    }
    return out;
  }
  return undefined;
}

export function toMapEntry(entry: HexEntry, index: number): MapEntry {
  const f = entry.formatted;
  const result: MapEntry = { index, key: value(entry.key, f?.key, f !== undefined) };
  if (entry.value) result.value = value(entry.value, f?.value, f !== undefined && 'value' in f);
  if (entry.perCpu) {
    const byCpu = new Map((f?.perCpu ?? []).map((p) => [p.cpu, p.value]));
    result.perCpu = entry.perCpu.map((p) => ({ cpu: p.cpu, value: value(p.value, byCpu.get(p.cpu), byCpu.has(p.cpu)) }));
    const sizes = new Set(entry.perCpu.map((p) => p.value.length));
    const integer = sizes.size === 1 && [1, 2, 4, 8].includes([...sizes][0]) ? entry.perCpu.reduce((s, p) => s + littleEndian(p.value), 0n).toString() : null;
    const formatted = f?.perCpu ? sumFormatted(f.perCpu.map((p) => p.value)) : undefined;
    result.sum = integer === null && formatted === undefined ? null : formatted === undefined ? { integer } : { integer, formatted };
  }
  return result;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 10_000;

/**
 * One page of a pinned map's entries. bpftool has no paging: its output is read as it streams and bpftool is
 * stopped as soon as the page (and one entry more, to know whether there are more) has arrived.
 */
export async function dumpMap(target: Target, pinPath: string, options: DumpOptions = {}): Promise<DumpPage> {
  const started = Date.now();
  const offset = options.offset ?? 0;
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(offset) || offset < 0) throw new CustomCallsProblem('target', `invalid offset ${offset}: expected an integer >= 0`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new CustomCallsProblem('target', `invalid limit ${limit}: expected 1 to ${MAX_PAGE_SIZE}`);
  if (!pinPath.startsWith(`${trimRoot(target.bpffsRoot)}/`) || /[\x00-\x1f]/.test(pinPath)) {
    throw new CustomCallsProblem('target', `invalid map path ${JSON.stringify(pinPath)}: expected a pin under ${target.bpffsRoot}`);
  }
  const pinPrefix = options.pinPrefix ?? defaultPinPrefix(target.bpffsRoot);

  // `map show` runs alongside the dump (one round trip less); a pin that is no readable map stops the dump.
  const showing = showPinnedMap(target, pinPath, options.signal);

  const wanted = offset + limit + 1;
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const entries: MapEntry[] = [];
  const skipped: { index: number; error: string }[] = [];
  let btf = false;
  let seen = 0;
  // Only the page's elements are copied out of bpftool's output; the ones before it are counted (entryScanner.ts).
  const stream = new EntryScanner(offset, offset + limit, (text, index) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      skipped.push({ index, error: `not JSON: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    const entry = parseDumpEntry(parsed);
    if (!entry.ok) skipped.push({ index, error: entry.error });
    else {
      if (entry.value.formatted) btf = true;
      entries.push(toMapEntry(entry.value, index));
    }
  });
  const dumping = bpftoolJson(target, ['map', 'dump', 'pinned', pinPath], {
    signal: stop.signal,
    timeoutMs: options.timeoutMs ?? 120_000,
    onStdout: (chunk) => {
      stream.push(chunk);
      seen = stream.count;
      if (seen >= wanted) stop.abort();
    },
  }).finally(() => options.signal?.removeEventListener('abort', onOuterAbort));
  let map: PinnedMap;
  try {
    const { run: showRun, info } = await showing;
    throwEnvironmentProblem(target, showRun, `Reading ${pinPath}`);
    if (!info.ok) throw new CustomCallsProblem('not-found', `${pinPath} is not a readable pinned map: ${info.error}.`);
    map = { ...info.value, pinName: pinPath.split('/').pop() ?? pinPath, path: pinPath, owner: mapOwner(pinPath, pinPrefix), perCpu: isPerCpu(info.value.type) };
  } catch (error) {
    stop.abort();
    await dumping;
    throw error;
  }
  const run = await dumping;
  const stoppedEarly = stop.signal.aborted && !options.signal?.aborted;
  if (options.signal?.aborted) throw new CustomCallsProblem('cancelled', `Reading ${pinPath} was cancelled.`);
  if (!stoppedEarly) {
    throwEnvironmentProblem(target, run, `Dumping ${pinPath}`);
    if (run.exitCode !== 0) throw new CustomCallsProblem('target', `Dumping ${pinPath} failed: ${runErrorText(target, run)}.`);
    if (stream.error) throw new CustomCallsProblem('target', `Dumping ${pinPath}: bpftool printed something that is not a JSON array (${stream.error}).`);
  }
  return {
    map,
    offset,
    limit,
    entries,
    hasMore: seen > offset + limit,
    total: stoppedEarly ? null : seen,
    btf,
    skipped,
    durationMs: Date.now() - started,
  };
}
