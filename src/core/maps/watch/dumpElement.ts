// One element of `bpftool -j map dump`, read for a chart and nothing more: the key's identity (its bytes in hex,
// taken from bpftool's "0x07" strings without parsing them) and the value's numbers (from BTF's `formatted` when
// present). The sampler calls this for every entry of every sample, so the usual case avoids parseDumpEntry's
// byte-by-byte checks; anything unusual goes through parseDumpEntry and numericValue, which the unit tests hold
// this to.
import { parseDumpEntry, type HexEntry } from '../bpftoolJson';
import { numericValue, numericLeaves, SCALAR_FIELD, type NumericValue } from './numericFields';

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

/** Shared by every scalar value the text path reads (the store copies the numbers, and never changes a key's fields). */
const SCALAR_FIELDS: string[] = [SCALAR_FIELD];
const KEY_OPEN = '{"key":[';
const VALUE_AT_END = '"value":';
const NUMBER = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * The commonest element, read from bpftool's compact text without JSON.parse: a plain (not per-CPU) value that BTF
 * formats as one number, `{"key":["0x07",...],"value":[...],"formatted":{"key":...,"value":100}}`. Parsing every
 * element of every sample made most of the sampler's garbage; this path makes only the key's hex. Anything else
 * (structs, per-CPU values, no BTF, other spacing) is undefined: the caller parses it in full.
 */
export function decodeScalarElementText(text: string): DecodedElement | undefined {
  if (!text.startsWith(KEY_OPEN) || !text.endsWith('}}') || !text.includes('"formatted":{')) return undefined;
  let id = '';
  let at = KEY_OPEN.length;
  for (;;) {
    // Each byte is exactly "0xHH" (6 characters), then a comma or the closing bracket.
    if (text.charCodeAt(at) !== 0x22 || text.charCodeAt(at + 1) !== 0x30 || (text.charCodeAt(at + 2) | 0x20) !== 0x78 || text.charCodeAt(at + 5) !== 0x22) return undefined;
    const hi = hexDigit(text.charCodeAt(at + 3));
    const lo = hexDigit(text.charCodeAt(at + 4));
    if (hi < 0 || lo < 0) return undefined;
    id += HEX[hi] + HEX[lo];
    at += 6;
    const next = text.charCodeAt(at++);
    if (next === 0x5d) break; // ]
    if (next !== 0x2c) return undefined; // ,
  }
  if (!text.startsWith(',"value":[', at)) return undefined;
  const last = text.lastIndexOf(VALUE_AT_END);
  if (last < at) return undefined;
  const number = text.slice(last + VALUE_AT_END.length, text.length - 2);
  if (!NUMBER.test(number)) return undefined;
  return { id, value: { fields: SCALAR_FIELDS, values: [Number(number)] } };
}

const HEX = '0123456789abcdef';

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}
