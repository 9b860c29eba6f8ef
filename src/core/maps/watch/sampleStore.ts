// The samples of a watched map: one time ring shared by all keys, and per key a ring of its numbers in the same
// slots (NaN where the key was absent), so every series lines up with the times as a chart wants them. Memory is
// bounded twice: `capacity` samples, and a cell budget that caps how many keys are kept (a per-CPU map on a big node
// has one column per CPU and field); keys beyond it are counted, not stored. Pure: no bpftool, no timers.
import { sumOverCpus, type NumericValue } from './numericFields';

export const DEFAULT_CAPACITY = 300;
/** At most this many numbers (8 bytes each) across all keys' rings: 32 MB. */
export const DEFAULT_CELL_BUDGET = 4_000_000;

export interface KeySeries {
  /** The key's bytes in hex: what identifies it from one dump to the next. */
  readonly id: string;
  /** The key as the Pinned Maps view writes it (BTF-formatted when the map has BTF). */
  readonly label: string;
  readonly fields: readonly string[];
  /** Per-CPU maps: the CPUs in column order; empty for plain maps. */
  readonly cpus: readonly number[];
  /** (capacity + 1) x width numbers. Columns per field: plain maps its value; per-CPU maps the sum, then each CPU. */
  readonly cells: Float64Array;
  readonly width: number;
  /** Sequence number of the last sample that held the key. */
  lastSeen: number;
  /** lastSeen before the sample being written (so that an abandoned sample can be undone). */
  seenBefore: number;
}

/** Which number of a key: a field's value (per-CPU maps: the sum), or one CPU's value of a field. */
export interface Column {
  field: number;
  /** Index into KeySeries.cpus; undefined: the value (per-CPU maps: the sum over CPUs). */
  cpu?: number;
}

export function columnIndex(key: Pick<KeySeries, 'cpus'>, column: Column): number {
  const stride = key.cpus.length === 0 ? 1 : 1 + key.cpus.length;
  return column.field * stride + (column.cpu === undefined ? 0 : 1 + column.cpu);
}

export class SampleStore {
  /** Slots: one more than the samples held, so the sample being written never overwrites a held one. */
  private readonly ring: number;
  private readonly times: Float64Array;
  /** Samples added since the last clear; the next one goes to slot seq % ring. */
  private seq = 0;
  private cellsUsed = 0;
  private readonly byId = new Map<string, KeySeries>();
  /** Keys seen in the last sample that the cell budget left out. */
  untracked = 0;
  private untrackedNow = 0;
  /** Between begin() and commit()/abandon(): the keys written so far. */
  private writing = false;
  private touched: KeySeries[] = [];

  constructor(
    readonly capacity = DEFAULT_CAPACITY,
    private readonly cellBudget = DEFAULT_CELL_BUDGET,
  ) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`capacity ${capacity}: expected an integer >= 2`);
    this.ring = capacity + 1;
    this.times = new Float64Array(this.ring);
  }

  /** Samples held (at most capacity). */
  get length(): number {
    return Math.min(this.seq, this.capacity);
  }

  get keys(): IterableIterator<KeySeries> {
    return this.byId.values();
  }

  get keyCount(): number {
    return this.byId.size;
  }

  key(id: string): KeySeries | undefined {
    return this.byId.get(id);
  }

  /** The ring slot of the i-th held sample, oldest first. */
  private slot(i: number): number {
    return (this.seq - this.length + i) % this.ring;
  }

  /** Times of the held samples (ms since the epoch), oldest first. */
  timeline(): number[] {
    return Array.from({ length: this.length }, (_, i) => this.times[this.slot(i)]);
  }

  /**
   * Adds one sample: every key the dump held, with its numbers. `label` is called only for keys not seen before,
   * so a steady map costs no formatting.
   */
  add(timeMs: number, entries: Iterable<{ id: string; label: () => string; value: NumericValue }>): void {
    this.begin(timeMs);
    for (const entry of entries) this.put(entry.id, entry.label, entry.value);
    this.commit();
  }

  /** Starts a sample (then put() each entry as it is read, and commit(), or abandon() when the dump fails). */
  begin(timeMs: number): void {
    this.abandon();
    this.writing = true;
    this.times[this.seq % this.ring] = timeMs;
    this.untrackedNow = 0;
    this.touched = [];
  }

  /** One entry of the sample begun. */
  put(id: string, label: () => string, value: NumericValue): void {
    // Outside a sample (cleared meanwhile): nothing to write to.
    if (!this.writing || value.fields.length === 0) return;
    const slot = this.seq % this.ring;
    let key = this.byId.get(id);
    if (!key) {
      const cpus = value.perCpu?.cpus ?? [];
      const width = value.fields.length * (value.perCpu ? 1 + cpus.length : 1);
      if (this.cellsUsed + width * this.ring > this.cellBudget) {
        this.untrackedNow++;
        return;
      }
      key = { id, label: label(), fields: value.fields, cpus, cells: new Float64Array(width * this.ring).fill(NaN), width, lastSeen: -1, seenBefore: -1 };
      this.byId.set(id, key);
      this.cellsUsed += key.cells.length;
    }
    if (key.lastSeen === this.seq) return; // A key twice in one dump: the first stays.
    key.seenBefore = key.lastSeen;
    key.lastSeen = this.seq;
    this.touched.push(key);
    const base = slot * key.width;
    if (value.values) {
      for (let f = 0; f < key.fields.length; f++) key.cells[base + f] = value.values[f] ?? NaN;
      return;
    }
    const perCpu = value.perCpu!;
    const sums = sumOverCpus(perCpu.values, key.fields.length);
    const stride = 1 + key.cpus.length;
    for (let f = 0; f < key.fields.length; f++) {
      key.cells[base + f * stride] = sums[f];
      for (let c = 0; c < key.cpus.length; c++) key.cells[base + f * stride + 1 + c] = perCpu.values[c]?.[f] ?? NaN;
    }
  }

  /** Ends the sample begun: keys it did not hold get a gap, keys absent for a whole ring are forgotten. */
  commit(): void {
    if (!this.writing) return;
    this.writing = false;
    const slot = this.seq % this.ring;
    this.untracked = this.untrackedNow;
    for (const [id, key] of this.byId) {
      if (key.lastSeen === this.seq) continue;
      if (this.seq - key.lastSeen >= this.capacity) {
        this.byId.delete(id);
        this.cellsUsed -= key.cells.length;
      } else key.cells.fill(NaN, slot * key.width, (slot + 1) * key.width);
    }
    this.touched = [];
    this.seq++;
  }

  /** Forgets the sample begun, as if it had never been started (keys it brought in are dropped). */
  abandon(): void {
    if (!this.writing) return;
    this.writing = false;
    for (const key of this.touched) {
      key.lastSeen = key.seenBefore;
      if (key.lastSeen < 0) {
        this.byId.delete(key.id);
        this.cellsUsed -= key.cells.length;
      }
    }
    this.touched = [];
  }

  /** One column of a key over the held samples, oldest first (null where the key was absent). */
  values(key: KeySeries, column: Column): (number | null)[] {
    const col = columnIndex(key, column);
    return Array.from({ length: this.length }, (_, i) => {
      const v = key.cells[this.slot(i) * key.width + col];
      return Number.isNaN(v) ? null : v;
    });
  }

  /** Per second between each sample and the one before it (null for the first, and around gaps). */
  rates(key: KeySeries, column: Column): (number | null)[] {
    const values = this.values(key, column);
    const times = this.timeline();
    return values.map((v, i) => (i === 0 ? null : rate(values[i - 1], v, times[i - 1], times[i])));
  }

  /** The newest value of a column, and its rate against the sample before (null when absent). */
  latest(key: KeySeries, column: Column): { value: number | null; rate: number | null } {
    const n = this.length;
    if (n === 0) return { value: null, rate: null };
    const col = columnIndex(key, column);
    const at = (i: number) => {
      const v = key.cells[this.slot(i) * key.width + col];
      return Number.isNaN(v) ? null : v;
    };
    const value = at(n - 1);
    return { value, rate: n < 2 ? null : rate(at(n - 2), value, this.times[this.slot(n - 2)], this.times[this.slot(n - 1)]) };
  }

  clear(): void {
    this.writing = false;
    this.touched = [];
    this.byId.clear();
    this.seq = 0;
    this.cellsUsed = 0;
    this.untracked = 0;
  }
}

/** Change per second from (t0, a) to (t1, b); null when either is missing or no time passed. */
export function rate(a: number | null, b: number | null, t0: number, t1: number): number | null {
  if (a === null || b === null || !(t1 > t0)) return null;
  return ((b - a) * 1000) / (t1 - t0);
}
