// Pure parsers for `bpftool -j` output. None of them throws: garbage, truncated or mutated output gives
// { ok: false, error } with a clear message, so a strange bpftool never crashes a tree view or the CLI.

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

export interface BpfMapInfo {
  id: number;
  type: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfId: number | null;
  frozen: boolean;
}

export interface BpfProgInfo {
  id: number;
  type: string;
  name: string;
  tag: string;
  /** Seconds since the epoch (bpftool -j prints loaded_at as a number). */
  loadedAt: number | null;
  mapIds: number[];
}

export interface HexEntry {
  key: number[];
  /** Absent for per-CPU maps (see perCpu). */
  value?: number[];
  perCpu?: { cpu: number; value: number[] }[];
  /** BTF-formatted key and value when bpftool could format them. */
  formatted?: { key: unknown; value?: unknown; perCpu?: { cpu: number; value: unknown }[] };
}

function parseJson(text: string, what: string): Parsed<unknown> {
  if (typeof text !== 'string') return fail(`${what}: no output`);
  const trimmed = text.trim();
  if (trimmed === '') return fail(`${what}: empty output`);
  try {
    return ok(JSON.parse(trimmed) as unknown);
  } catch (error) {
    // Garbage may be binary: show a short, printable preview only.
    const printable = trimmed.slice(0, 80).replace(/[^\x20-\x7e]/g, '?');
    const preview = trimmed.length > 80 ? `${printable}...` : printable;
    return fail(`${what}: not JSON (${error instanceof Error ? error.message : String(error)}): ${preview}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** bpftool -j reports failures as {"error": "..."}: returns that message, if the text is such an object. */
export function bpftoolError(text: string): string | undefined {
  const parsed = parseJson(text, 'bpftool');
  if (parsed.ok && isObject(parsed.value) && typeof parsed.value.error === 'string') return parsed.value.error;
  return undefined;
}

function mapInfoFrom(value: unknown, what: string): Parsed<BpfMapInfo> {
  if (!isObject(value)) return fail(`${what}: expected a JSON object`);
  if (typeof value.error === 'string') return fail(`${what}: ${value.error}`);
  const { id, type, bytes_key, bytes_value, max_entries } = value;
  if (!isCount(id)) return fail(`${what}: missing or invalid "id"`);
  if (typeof type !== 'string') return fail(`${what}: missing or invalid "type"`);
  if (!isCount(bytes_key) || !isCount(bytes_value) || !isCount(max_entries)) return fail(`${what}: missing or invalid key/value size or max_entries`);
  return ok({
    id,
    type,
    name: typeof value.name === 'string' ? value.name : '',
    keySize: bytes_key,
    valueSize: bytes_value,
    maxEntries: max_entries,
    flags: isCount(value.flags) ? value.flags : 0,
    btfId: isCount(value.btf_id) ? value.btf_id : null,
    frozen: value.frozen === 1 || value.frozen === true,
  });
}

/** `bpftool -j -f map show` (every map, with the paths it is pinned at): the maps and their pins, or what is wrong. */
export function parseMapList(text: string): Parsed<Array<BpfMapInfo & { pinned: string[] }>> {
  const what = 'bpftool map show';
  const parsed = parseJson(text, what);
  if (!parsed.ok) return parsed;
  if (!Array.isArray(parsed.value)) return isObject(parsed.value) && typeof parsed.value.error === 'string' ? fail(`${what}: ${parsed.value.error}`) : fail(`${what}: expected a JSON array`);
  const maps: Array<BpfMapInfo & { pinned: string[] }> = [];
  for (const item of parsed.value) {
    const info = mapInfoFrom(item, what);
    // One odd entry (a map type this parser does not know the shape of) is not the listing's problem.
    if (!info.ok) continue;
    const pinned = isObject(item) && Array.isArray(item.pinned) ? item.pinned.filter((p): p is string => typeof p === 'string') : [];
    maps.push({ ...info.value, pinned });
  }
  return ok(maps);
}

/** `bpftool -j map show pinned P` (or `id N`). */
export function parseMapShow(text: string): Parsed<BpfMapInfo> {
  const parsed = parseJson(text, 'bpftool map show');
  return parsed.ok ? mapInfoFrom(parsed.value, 'bpftool map show') : parsed;
}

/** `bpftool -j prog show id N` (or `pinned P`). */
export function parseProgShow(text: string): Parsed<BpfProgInfo> {
  const what = 'bpftool prog show';
  const parsed = parseJson(text, what);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isObject(value)) return fail(`${what}: expected a JSON object`);
  if (typeof value.error === 'string') return fail(`${what}: ${value.error}`);
  if (!isCount(value.id)) return fail(`${what}: missing or invalid "id"`);
  if (typeof value.type !== 'string') return fail(`${what}: missing or invalid "type"`);
  return ok({
    id: value.id,
    type: value.type,
    name: typeof value.name === 'string' ? value.name : '',
    tag: typeof value.tag === 'string' ? value.tag : '',
    loadedAt: isCount(value.loaded_at) ? value.loaded_at : null,
    mapIds: Array.isArray(value.map_ids) ? value.map_ids.filter(isCount) : [],
  });
}

/** ["0x07", "0x00", ...] -> [7, 0, ...]; undefined unless every item is a byte in bpftool's hex spelling. */
export function parseHexBytes(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const bytes: number[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || !/^0x[0-9a-fA-F]{1,2}$/.test(item)) return undefined;
    bytes.push(parseInt(item.slice(2), 16));
  }
  return bytes;
}

/** Unsigned little-endian integer of 1..8 bytes, as a bigint. */
export function littleEndian(bytes: readonly number[]): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] & 0xff);
  return n;
}

function perCpuFrom(value: unknown): { cpu: number; value: number[] }[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: { cpu: number; value: number[] }[] = [];
  for (const item of value) {
    if (!isObject(item) || !isCount(item.cpu)) return undefined;
    const bytes = parseHexBytes(item.value);
    if (!bytes) return undefined;
    out.push({ cpu: item.cpu, value: bytes });
  }
  return out;
}

/** One element of `bpftool -j map dump` (hex key/value or per-CPU values, optional BTF `formatted`). */
export function parseDumpEntry(value: unknown): Parsed<HexEntry> {
  if (!isObject(value)) return fail('map entry: expected a JSON object');
  const key = parseHexBytes(value.key);
  if (!key) return fail('map entry: missing or invalid "key" bytes');
  const entry: HexEntry = { key };
  if (value.value !== undefined) {
    const bytes = parseHexBytes(value.value);
    if (!bytes) return fail('map entry: invalid "value" bytes');
    entry.value = bytes;
  } else if (value.values !== undefined) {
    const perCpu = perCpuFrom(value.values);
    if (!perCpu) return fail('map entry: invalid per-CPU "values"');
    entry.perCpu = perCpu;
  } else {
    return fail('map entry: neither "value" nor "values"');
  }
  if (isObject(value.formatted) && 'key' in value.formatted) {
    const f = value.formatted;
    entry.formatted = { key: f.key };
    if ('value' in f) entry.formatted.value = f.value;
    if (Array.isArray(f.values)) {
      entry.formatted.perCpu = f.values.filter(isObject).filter((v) => isCount(v.cpu)).map((v) => ({ cpu: v.cpu as number, value: v.value }));
    }
  }
  return ok(entry);
}

/** `bpftool -j map dump pinned P`: a JSON array of entries; an entry that cannot be read makes the whole parse fail. */
export function parseMapDump(text: string): Parsed<HexEntry[]> {
  const what = 'bpftool map dump';
  const parsed = parseJson(text, what);
  if (!parsed.ok) return parsed;
  if (isObject(parsed.value) && typeof parsed.value.error === 'string') return fail(`${what}: ${parsed.value.error}`);
  if (!Array.isArray(parsed.value)) return fail(`${what}: expected a JSON array`);
  const entries: HexEntry[] = [];
  for (const [i, item] of parsed.value.entries()) {
    const entry = parseDumpEntry(item);
    if (!entry.ok) return fail(`${what}: entry ${i}: ${entry.error}`);
    entries.push(entry.value);
  }
  return ok(entries);
}

/** The program id in each occupied slot of a prog_array dump: slot key -> program id. */
export function parseProgArrayDump(text: string): Parsed<Map<number, number>> {
  const dump = parseMapDump(text);
  if (!dump.ok) return dump;
  const slots = new Map<number, number>();
  for (const entry of dump.value) {
    if (entry.key.length !== 4 || entry.value?.length !== 4) return fail('bpftool map dump: a prog_array entry must have a 4-byte key and value');
    slots.set(Number(littleEndian(entry.key)), Number(littleEndian(entry.value)));
  }
  return ok(slots);
}
