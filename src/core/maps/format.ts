// How a map entry reads in the Pinned Maps view: keys and values by their BTF names (`identity 12345 → bytes
// 2840` for structs, `__u32 12345 → __u64 2840` for scalars, with the type names the map was declared with), hex
// without BTF; and map rows labelled by their pin folder (`bytecount/bytecount_map`). Pure functions: no bpftool,
// no vscode.
import type { MapEntry, MapValue } from './maps';

/** The BTF type names of a map's key and value (`__u32`, `struct tail_context`), when the map has them. */
export interface MapTypeNames {
  key?: string;
  value?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function scalar(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** A nested BTF value: structs in braces, arrays in brackets. */
function inner(value: unknown): string {
  if (isObject(value)) return `{${fields(value)}}`;
  if (Array.isArray(value)) return `[${value.map(inner).join(', ')}]`;
  return scalar(value);
}

const fields = (value: Record<string, unknown>): string =>
  Object.entries(value)
    .map(([name, v]) => `${name} ${inner(v)}`)
    .join(', ');

/**
 * A BTF-formatted key or value (bpftool's `formatted`): a struct as its fields by name (`identity 12345, bytes
 * 2840`), a scalar after its type name when known (`__u32 12345`), an array in brackets.
 */
export function formatBtf(value: unknown, typeName?: string): string {
  if (isObject(value)) return fields(value);
  const text = inner(value);
  return typeName ? `${typeName} ${text}` : text;
}

/**
 * One key or value: by BTF when bpftool formatted it (a number that JSON could not hold exactly, above 2^53, is
 * taken from the bytes instead), else its bytes in hex, with the little-endian integer when it is 1, 2, 4 or 8
 * bytes (`39 30 00 00 (12345)`). `nested`: a struct in braces, for lists of values.
 */
export function formatMapValue(v: MapValue, typeName?: string, nested = false): string {
  if (v.formatted !== undefined) {
    const exact = typeof v.formatted === 'number' && v.integer !== null && !Number.isSafeInteger(v.formatted) && Number(v.integer) === v.formatted;
    const value = exact ? BigInt(v.integer!) : v.formatted;
    return nested ? inner(value) : formatBtf(value, typeName);
  }
  return v.integer !== null ? `${v.hex} (${v.integer})` : v.hex;
}

export interface EntryText {
  /** `key → value` (per-CPU maps: `key → Σ sum`). */
  label: string;
  /** Per-CPU maps: each CPU's value (`cpu0 3, cpu1 5`; structs in braces). */
  description?: string;
}

/** How an entry reads in the tree: `identity 12345 → bytes 2840`, `__u32 12345 → __u64 2840`, hex without BTF. */
export function formatEntry(entry: MapEntry, names: MapTypeNames = {}): EntryText {
  const key = formatMapValue(entry.key, names.key);
  if (!entry.perCpu) return { label: `${key} → ${entry.value ? formatMapValue(entry.value, names.value) : '?'}` };
  const sum = entry.sum
    ? entry.sum.formatted !== undefined
      ? formatBtf(entry.sum.formatted, names.value)
      : (entry.sum.integer ?? '?')
    : '?';
  return {
    label: `${key} → Σ ${sum}`,
    description: entry.perCpu.map((c) => `cpu${c.cpu} ${formatMapValue(c.value, undefined, true)}`).join(', '),
  };
}

/** True when some entry has a BTF scalar key or value, the only case where the type names add anything. */
export function needsTypeNames(entries: readonly MapEntry[]): boolean {
  const scalarFormatted = (v: { formatted?: unknown } | undefined | null) => v?.formatted !== undefined && !isObject(v.formatted) && !Array.isArray(v.formatted);
  return entries.some((e) => scalarFormatted(e.key) || scalarFormatted(e.value) || scalarFormatted(e.sum) || (e.perCpu ?? []).some((c) => scalarFormatted(c.value)));
}

/**
 * The type name of the first type in `bpftool -j btf dump map pinned P key|value` output: `__u32` for a typedef,
 * `unsigned int` for an int, `struct tail_context` for a struct; undefined for anonymous types, errors and garbage.
 */
export function parseBtfTypeName(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.trim());
  } catch {
    return undefined;
  }
  const first = isObject(parsed) && Array.isArray(parsed.types) ? parsed.types[0] : undefined;
  if (!isObject(first) || typeof first.name !== 'string' || typeof first.kind !== 'string') return undefined;
  const name = first.name;
  if (name === '' || name === '(anon)') return undefined;
  switch (first.kind) {
    case 'TYPEDEF':
    case 'INT':
    case 'FLOAT':
      return name;
    case 'STRUCT':
      return `struct ${name}`;
    case 'UNION':
      return `union ${name}`;
    case 'ENUM':
    case 'ENUM64':
      return `enum ${name}`;
    default:
      return undefined;
  }
}

/**
 * Row labels for pinned maps: the pin's folder and name (`bytecount/bytecount_map` for
 * `<bpffs>/cilium-custom/bytecount/maps/bytecount_map`, whose `maps/` folder says nothing), so that two maps of one
 * name read apart; where two labels are still equal, more of the path is shown until they differ.
 */
export function mapLabels(paths: readonly string[]): Map<string, string> {
  const parts = new Map(paths.map((p) => [p, p.split('/').filter((s) => s !== '')]));
  const labelOf = (p: string, depth: number): string => {
    const segments = parts.get(p)!;
    const name = segments[segments.length - 1] ?? p;
    const folders = segments.slice(0, -1).filter((s, i, all) => !(s === 'maps' && i === all.length - 1 && all.length > 1));
    const shown = folders.slice(Math.max(0, folders.length - depth));
    return [...shown, name].join('/');
  };
  const labels = new Map<string, string>();
  for (const p of paths) {
    let depth = 1;
    const max = parts.get(p)!.length;
    while (depth < max && paths.some((q) => q !== p && labelOf(q, depth) === labelOf(p, depth))) depth++;
    labels.set(p, depth >= max ? p : labelOf(p, depth));
  }
  return labels;
}

/** The label of one pin on its own (`bytecount/bytecount_map`). */
export const mapLabel = (pinPath: string): string => mapLabels([pinPath]).get(pinPath)!;
