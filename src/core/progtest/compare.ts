// A case's expectations against what the run did: the return code, and the maps as bpftool dumped them before and
// after the run (keys and values formatted by BTF, via core/maps). Each mismatch is one Mismatch with the expected
// and the actual side as text, for the CLI's diff lines and the editor's expected/actual diff.
import { parseMapDump } from '../maps/bpftoolJson';
import { formatMapValue } from '../maps/format';
import { toMapEntry, type MapEntry } from '../maps/maps';
import type { MapExpectation, ValueSpec } from './testFile';

export interface Mismatch {
  /** What differs: "return code", "bytecount_map[12345]", "bytecount_map[3] (not expected to change)". */
  what: string;
  expected: string;
  actual: string;
}

export type MapState = Map<string, MapEntry>;

/** A dump as entries by key (hex); an error message when bpftool's output is unreadable. */
export function mapState(dumpText: string | undefined): MapState | string {
  if (dumpText === undefined) return 'the map was not dumped';
  const parsed = parseMapDump(dumpText);
  if (!parsed.ok) return parsed.error;
  return new Map(parsed.value.map((e, i) => [toMapEntry(e, i).key.hex, toMapEntry(e, i)]));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value an entry holds: per-CPU maps are summed over the CPUs (a test run runs on one of them). */
function valueOf(entry: MapEntry): { integer: string | null; formatted?: unknown; hex?: string } | null {
  if (entry.perCpu) return entry.sum ?? null;
  return entry.value ?? null;
}

export function formatEntryValue(entry: MapEntry | undefined): string {
  if (!entry) return 'absent';
  if (entry.value) return formatMapValue(entry.value);
  const sum = entry.sum;
  if (!sum) return '?';
  if (sum.formatted !== undefined) return formatMapValue({ hex: '', integer: sum.integer, formatted: sum.formatted });
  return sum.integer ?? '?';
}

export function formatSpec(spec: ValueSpec): string {
  if (typeof spec === 'number' || typeof spec === 'string') return String(spec);
  if ('hex' in spec && typeof spec.hex === 'string' && Object.keys(spec).length === 1) return spec.hex;
  return Object.entries(spec)
    .map(([k, v]) => `${k} ${isObject(v) || Array.isArray(v) ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** Does BTF-formatted `actual` hold every field of `expected` (numbers by value, nested objects field by field)? */
function partialMatch(expected: unknown, actual: unknown): boolean {
  if (isObject(expected)) return isObject(actual) && Object.entries(expected).every(([k, v]) => partialMatch(v, actual[k]));
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length === actual.length && expected.every((v, i) => partialMatch(v, actual[i]));
  if (typeof expected === 'number' || typeof expected === 'string') {
    if (typeof actual === 'number' || typeof actual === 'string') return String(expected) === String(actual);
  }
  return expected === actual;
}

const normalHex = (hex: string) => hex.toLowerCase().replace(/\s+/g, '').replace(/(..)(?!$)/g, '$1 ');

/** Does a key or value match its spec? */
function matches(spec: ValueSpec, v: { hex?: string; integer: string | null; formatted?: unknown }): boolean {
  if (typeof spec === 'number' || typeof spec === 'string') {
    if (v.integer !== null) return v.integer === BigInt(spec).toString();
    return typeof v.formatted === 'number' && String(v.formatted) === String(spec);
  }
  if ('hex' in spec && typeof spec.hex === 'string' && Object.keys(spec).length === 1) return v.hex !== undefined && normalHex(v.hex) === normalHex(spec.hex);
  return v.formatted !== undefined && partialMatch(spec, v.formatted);
}

function findEntry(state: MapState, key: ValueSpec): MapEntry | undefined {
  for (const entry of state.values()) if (matches(key, entry.key)) return entry;
  return undefined;
}

/** after - before of an integer (or each named BTF field); absent entries count as zero. */
function delta(before: MapEntry | undefined, after: MapEntry | undefined, expected: number | string | Record<string, number>): { actual: string; ok: boolean } {
  const b = before ? valueOf(before) : null;
  const a = after ? valueOf(after) : null;
  if (typeof expected === 'number' || typeof expected === 'string') {
    const d = BigInt(a?.integer ?? '0') - BigInt(b?.integer ?? '0');
    return { actual: signed(d), ok: a?.integer != null && d === BigInt(expected) };
  }
  const parts: string[] = [];
  let ok = a?.formatted !== undefined;
  for (const [field, want] of Object.entries(expected)) {
    const at = (x: typeof a) => (isObject(x?.formatted) && typeof x.formatted[field] === 'number' ? (x.formatted[field] as number) : 0);
    const d = at(a) - at(b);
    parts.push(`${field} ${signed(BigInt(d))}`);
    if (d !== want) ok = false;
  }
  return { actual: parts.join(', '), ok };
}

const signed = (d: bigint) => (d >= 0n ? `+${d}` : `${d}`);

function formatDelta(expected: number | string | Record<string, number>): string {
  if (typeof expected === 'number' || typeof expected === 'string') return signed(BigInt(expected));
  return Object.entries(expected)
    .map(([field, d]) => `${field} ${signed(BigInt(d))}`)
    .join(', ');
}

const sameValue = (x: MapEntry | undefined, y: MapEntry | undefined): boolean => {
  if (!x || !y) return x === y;
  if (x.value && y.value) return x.value.hex === y.value.hex;
  return JSON.stringify(x.perCpu?.map((c) => c.value.hex)) === JSON.stringify(y.perCpu?.map((c) => c.value.hex));
};

export function compareMap(name: string, expectation: MapExpectation, before: MapState, after: MapState): Mismatch[] {
  const out: Mismatch[] = [];
  const named = new Set<string>();
  const label = (key: ValueSpec, entry: MapEntry | undefined) => `${name}[${entry ? formatMapValue(entry.key) : formatSpec(key)}]`;
  for (const { key, value } of expectation.entries) {
    const entry = findEntry(after, key);
    if (entry) named.add(entry.key.hex);
    const v = entry ? valueOf(entry) : null;
    if (!v || !matches(value, v)) out.push({ what: label(key, entry), expected: formatSpec(value), actual: formatEntryValue(entry) });
  }
  for (const { key, delta: want } of expectation.deltas) {
    const a = findEntry(after, key);
    const b = findEntry(before, key);
    for (const e of [a, b]) if (e) named.add(e.key.hex);
    const got = delta(b, a, want);
    if (!got.ok) {
      out.push({
        what: `${label(key, a ?? b)} change`,
        expected: formatDelta(want),
        actual: a ? `${got.actual} (${formatEntryValue(b)} → ${formatEntryValue(a)})` : 'absent after the run',
      });
    }
  }
  for (const key of expectation.absent) {
    const entry = findEntry(after, key);
    if (entry) {
      named.add(entry.key.hex);
      out.push({ what: label(key, entry), expected: 'absent', actual: formatEntryValue(entry) });
    }
  }
  if (expectation.othersUnchanged) {
    for (const hex of new Set([...before.keys(), ...after.keys()])) {
      if (named.has(hex)) continue;
      const b = before.get(hex);
      const a = after.get(hex);
      if (sameValue(b, a)) continue;
      out.push({
        what: `${name}[${formatMapValue((a ?? b)!.key)}] (not expected to change)`,
        expected: formatEntryValue(b),
        actual: formatEntryValue(a),
      });
    }
  }
  return out;
}
