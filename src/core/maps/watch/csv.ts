// A watched map's samples as CSV, one row per sample, key, field and CPU (long format: a 1,000-key map stays a
// readable file instead of 2,000 columns). Per-CPU maps have a `sum` row and one row per CPU; `rate_per_s` is the
// change since the sample before. Pure.
import { SCALAR_FIELD } from './numericFields';
import type { Column, KeySeries, SampleStore } from './sampleStore';

export const CSV_HEADER = 'time,time_ms,key,field,cpu,value,rate_per_s';

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. Text cells that a spreadsheet would
 * run as a formula (`=`, `+`, `-`, `@`, tab, CR first) get a leading `'`: key labels come from the kernel.
 */
export function csvCell(text: string, isNumber = false): string {
  const safe = !isNumber && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const number = (n: number | null): string => (n === null ? '' : String(n));

function columnsOf(key: KeySeries): { column: Column; field: string; cpu: string }[] {
  const out: { column: Column; field: string; cpu: string }[] = [];
  key.fields.forEach((name, field) => {
    const fieldName = name === SCALAR_FIELD ? 'value' : name;
    if (key.cpus.length === 0) out.push({ column: { field }, field: fieldName, cpu: '' });
    else {
      out.push({ column: { field }, field: fieldName, cpu: 'sum' });
      key.cpus.forEach((cpu, i) => out.push({ column: { field, cpu: i }, field: fieldName, cpu: String(cpu) }));
    }
  });
  return out;
}

/** Every held sample of every key, oldest first, as CSV text with a header line. */
export function samplesToCsv(store: SampleStore): string {
  const times = store.timeline();
  const lines = [CSV_HEADER];
  const series = [...store.keys].flatMap((key) => columnsOf(key).map((c) => ({ key, ...c, values: store.values(key, c.column), rates: store.rates(key, c.column) })));
  times.forEach((t, i) => {
    const time = new Date(t).toISOString();
    for (const s of series) {
      const v = s.values[i];
      if (v === null) continue;
      lines.push([time, String(t), csvCell(s.key.label), csvCell(s.field), s.cpu, number(v), number(s.rates[i])].join(','));
    }
  });
  return `${lines.join('\n')}\n`;
}
