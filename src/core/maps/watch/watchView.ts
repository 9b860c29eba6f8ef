// What the Watch Map webview draws, built from a SampleStore: the messages between the panel and its webview (one
// module, so both sides agree), and the pure function that turns samples into one state message. The webview
// gets a complete state each time (it may be recreated whenever it was hidden), never the whole store: a table of
// the top series and the samples of the few it charts.
import { SCALAR_FIELD } from './numericFields';
import type { KeySeries, SampleStore } from './sampleStore';

/** Series shown in the table, largest value first. */
export const MAX_ROWS = 200;
/** Series charted when none are chosen: the largest values. */
export const DEFAULT_CHARTED = 5;
export const MAX_CHARTED = 12;

export type WatchStatus = 'starting' | 'sampling' | 'paused' | 'hidden' | 'error';

export interface SeriesRow {
  /** `<key hex>/<field index>`. */
  id: string;
  label: string;
  latest: number | null;
  rate: number | null;
}

export interface ChartedSeries {
  id: string;
  label: string;
  values: (number | null)[];
  rates: (number | null)[];
}

export interface PerCpuChart {
  id: string;
  label: string;
  cpus: { cpu: number; values: (number | null)[] }[];
  sum: (number | null)[];
}

export interface WatchState {
  type: 'state';
  title: string;
  path: string;
  mapType: string;
  perCpu: boolean;
  status: WatchStatus;
  error?: string;
  intervalMs: number;
  samples: number;
  capacity: number;
  keys: number;
  /** Keys left out by the memory budget. */
  untracked: number;
  lastDumpMs: number | null;
  /** Sample times, seconds since the epoch (uPlot's x axis). */
  times: number[];
  rows: SeriesRow[];
  /** True when the user chose the charted series (else: the largest, following the data). */
  chosen: boolean;
  charted: ChartedSeries[];
  /** Per-CPU maps: the first charted series per CPU, with the sum. */
  perCpuChart?: PerCpuChart;
}

/** What the webview reports after drawing: how many points it drew, and each series' first and last value. */
export interface RenderReport {
  type: 'rendered';
  samples: number;
  points: number;
  series: { id: string; label: string; first: number | null; last: number | null; points: number }[];
  perCpuLines: number;
}

export type FromWebview =
  | { type: 'ready' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'clear' }
  | { type: 'exportCsv' }
  | { type: 'select'; ids: string[] | null }
  | RenderReport;

export type ViewOptions = Pick<WatchState, 'title' | 'path' | 'mapType' | 'perCpu' | 'status' | 'error' | 'intervalMs' | 'lastDumpMs'> & {
  /** Series ids the user chose to chart; null: the largest. */
  selected: readonly string[] | null;
};

export function seriesId(key: KeySeries, field: number): string {
  return `${key.id}/${field}`;
}

function seriesLabel(key: KeySeries, field: number): string {
  const name = key.fields[field];
  return name === SCALAR_FIELD ? key.label : `${key.label} · ${name}`;
}

/** The state message for the current samples. */
export function watchState(store: SampleStore, options: ViewOptions): WatchState {
  const all: (SeriesRow & { key: KeySeries; field: number })[] = [];
  for (const key of store.keys) {
    for (let field = 0; field < key.fields.length; field++) {
      const { value, rate } = store.latest(key, { field });
      all.push({ id: seriesId(key, field), label: seriesLabel(key, field), latest: value, rate, key, field });
    }
  }
  all.sort((a, b) => (b.latest ?? -Infinity) - (a.latest ?? -Infinity) || a.label.localeCompare(b.label));
  const byId = new Map(all.map((s) => [s.id, s]));
  const chosen = options.selected !== null;
  const picked = chosen
    ? options.selected!.map((id) => byId.get(id)).filter((s): s is (typeof all)[number] => s !== undefined).slice(0, MAX_CHARTED)
    : all.filter((s) => s.latest !== null).slice(0, DEFAULT_CHARTED);
  const charted = picked.map((s) => ({ id: s.id, label: s.label, values: store.values(s.key, { field: s.field }), rates: store.rates(s.key, { field: s.field }) }));
  const state: WatchState = {
    type: 'state',
    title: options.title,
    path: options.path,
    mapType: options.mapType,
    perCpu: options.perCpu,
    status: options.status,
    intervalMs: options.intervalMs,
    samples: store.length,
    capacity: store.capacity,
    keys: store.keyCount,
    untracked: store.untracked,
    lastDumpMs: options.lastDumpMs,
    times: store.timeline().map((t) => t / 1000),
    rows: all.slice(0, MAX_ROWS).map(({ id, label, latest, rate }) => ({ id, label, latest, rate })),
    chosen,
    charted,
  };
  if (options.error !== undefined) state.error = options.error;
  const first = picked[0];
  if (options.perCpu && first && first.key.cpus.length > 0) {
    state.perCpuChart = {
      id: first.id,
      label: first.label,
      cpus: first.key.cpus.map((cpu, i) => ({ cpu, values: store.values(first.key, { field: first.field, cpu: i }) })),
      sum: charted[0].values,
    };
  }
  return state;
}
