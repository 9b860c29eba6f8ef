// The numbers a map value holds, for charts: a scalar value is one number, a BTF struct is one number per numeric
// field (`bytes`, `stats.packets`, `slots[2]`), per-CPU values are that per CPU. Pure; fed by bpftoolJson's HexEntry.
import { littleEndian, type HexEntry } from '../bpftoolJson';

/** The field of a scalar value (no BTF struct around it). */
export const SCALAR_FIELD = '';

export interface NumericValue {
  /** Field names, in the order of `values` (SCALAR_FIELD alone for a scalar). */
  fields: string[];
  /** Plain maps: one number per field. */
  values?: number[];
  /** Per-CPU maps: per CPU (in bpftool's order), one number per field. */
  perCpu?: { cpus: number[]; values: number[][] };
}

/** Numeric leaves of a BTF-formatted value, with their paths; strings and booleans are no series. */
function leaves(value: unknown, prefix: string, out: { fields: string[]; values: number[] }): void {
  if (typeof value === 'number') {
    out.fields.push(prefix);
    out.values.push(value);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => leaves(item, `${prefix}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, item] of Object.entries(value)) leaves(item, prefix === '' ? name : `${prefix}.${name}`, out);
  }
}

/** The numeric leaves of a BTF-formatted value (a number alone is the scalar field). */
export function numericLeaves(value: unknown): { fields: string[]; values: number[] } {
  const out = { fields: [] as string[], values: [] as number[] };
  leaves(value, SCALAR_FIELD, out);
  return out;
}

/** One value's numbers: by BTF when bpftool formatted it, else the little-endian integer of a 1/2/4/8-byte value. */
function numbersOf(bytes: readonly number[] | undefined, formatted: unknown, hasFormatted: boolean): { fields: string[]; values: number[] } {
  const out = { fields: [] as string[], values: [] as number[] };
  if (hasFormatted) leaves(formatted, SCALAR_FIELD, out);
  if (out.fields.length === 0 && bytes && [1, 2, 4, 8].includes(bytes.length)) {
    out.fields.push(SCALAR_FIELD);
    out.values.push(Number(littleEndian(bytes)));
  }
  return out;
}

/** The numbers of one dump entry; fields is empty when the value has none (then nothing of it can be charted). */
export function numericValue(entry: HexEntry): NumericValue {
  const f = entry.formatted;
  if (entry.perCpu) {
    const byCpu = new Map((f?.perCpu ?? []).map((p) => [p.cpu, p.value]));
    const cpus: number[] = [];
    const values: number[][] = [];
    let fields: string[] | undefined;
    for (const p of entry.perCpu) {
      const n = numbersOf(p.value, byCpu.get(p.cpu), byCpu.has(p.cpu));
      // Every CPU holds the same type; a CPU whose value reads otherwise (garbage) is left out rather than misaligned.
      if (fields === undefined) fields = n.fields;
      else if (n.fields.length !== fields.length || n.fields.some((name, i) => name !== fields![i])) continue;
      cpus.push(p.cpu);
      values.push(n.values);
    }
    return { fields: fields ?? [], perCpu: { cpus, values } };
  }
  const n = numbersOf(entry.value, f?.value, f !== undefined && 'value' in f);
  return { fields: n.fields, values: n.values };
}

/** Per field, the sum over CPUs. */
export function sumOverCpus(values: readonly (readonly number[])[], fieldCount: number): number[] {
  const sums = new Array<number>(fieldCount).fill(0);
  for (const cpu of values) for (let i = 0; i < fieldCount; i++) sums[i] += cpu[i];
  return sums;
}
