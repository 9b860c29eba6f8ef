// One element of `bpftool -j map dump`, read for a chart and nothing more: the key's identity (its bytes in hex,
// taken from bpftool's "0x07" strings without parsing them) and the value's numbers (from BTF's `formatted` when
// present). The sampler calls this for every entry of every sample, so the usual case avoids parseDumpEntry's
// byte-by-byte checks; anything unusual goes through parseDumpEntry and numericValue, which the unit tests hold
// this to.
import { parseDumpEntry, type HexEntry } from '../bpftoolJson';
import { numericValue, numericLeaves, type NumericValue } from './numericFields';

export interface DecodedElement {
  /** The key's bytes in hex (`07000000`). */
  id: string;
  value: NumericValue;
}

/** `0x07`-style byte strings joined as hex; undefined unless every item is one. */
function hexKey(key: unknown): string | undefined {
  if (!Array.isArray(key) || key.length === 0) return undefined;
  let id = '';
  for (const b of key) {
    if (typeof b !== 'string' || b.length !== 4 || b.charCodeAt(0) !== 0x30 || (b.charCodeAt(1) | 0x20) !== 0x78) return undefined;
    id += b.slice(2).toLowerCase();
  }
  return /^[0-9a-f]*$/.test(id) ? id : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fast path: BTF-formatted plain or per-CPU values. */
function fromFormatted(raw: Record<string, unknown>): NumericValue | undefined {
  const f = raw.formatted;
  if (!isObject(f)) return undefined;
  if ('value' in f && Array.isArray(raw.value)) {
    const n = numericLeaves(f.value);
    return n.fields.length ? { fields: n.fields, values: n.values } : undefined;
  }
  if (Array.isArray(f.values) && Array.isArray(raw.values) && f.values.length === raw.values.length) {
    let fields: string[] | undefined;
    const cpus: number[] = [];
    const values: number[][] = [];
    for (const item of f.values) {
      if (!isObject(item) || typeof item.cpu !== 'number') return undefined;
      const n = numericLeaves(item.value);
      if (fields === undefined) fields = n.fields;
      else if (n.fields.length !== fields.length) return undefined;
      cpus.push(item.cpu);
      values.push(n.values);
    }
    return fields?.length ? { fields, perCpu: { cpus, values } } : undefined;
  }
  return undefined;
}

/** The key and numbers of one parsed element; undefined when it is no map entry. `entry` is the full parse, if made. */
export function decodeDumpElement(raw: unknown): (DecodedElement & { entry?: HexEntry }) | undefined {
  if (!isObject(raw)) return undefined;
  const id = hexKey(raw.key);
  const fast = id !== undefined ? fromFormatted(raw) : undefined;
  if (id !== undefined && fast) return { id, value: fast };
  const parsed = parseDumpEntry(raw);
  if (!parsed.ok) return undefined;
  return { id: parsed.value.key.map((b) => b.toString(16).padStart(2, '0')).join(''), value: numericValue(parsed.value), entry: parsed.value };
}
