// The source locations of the path being verified, in a bounded window. When the verifier pops a pushed
// branch (`from X to Y:`), the window is cut back to the location that executed X, so what remains at the
// error is (an approximation of) the one path that reached it, not everything explored before.
import type { SourceLocation } from './model';

/** A power of two: slots wrap with a mask. */
const WINDOW = 256;
const INSNS_PER_ENTRY = 32;
/** Slots at first (a log of a few lines, repeated by the thousand, should not pay for the whole window). */
const FIRST_CAPACITY = 8;
export const PATH_LIMIT = 50;

/**
 * Entries live in a ring of reused slots (a big log enters millions of locations: no object per entry), which
 * doubles up to WINDOW slots. Entry i (0 = oldest of `count`) is slot (first + i) & mask; its instructions are
 * insns[slot * INSNS_PER_ENTRY ...].
 */
export class PathTracker {
  private mask = FIRST_CAPACITY - 1;
  private files: (string | null)[] = new Array<string | null>(FIRST_CAPACITY).fill(null);
  private lines: (number | null)[] = new Array<number | null>(FIRST_CAPACITY).fill(null);
  private texts: string[] = new Array<string>(FIRST_CAPACITY).fill('');
  private insns = new Float64Array(FIRST_CAPACITY * INSNS_PER_ENTRY);
  private insnCount = new Uint8Array(FIRST_CAPACITY);
  private first = 0;
  private count = 0;

  /** A line-info comment: the instructions that follow belong to it. */
  enter(file: string | null, line: number | null, text: string): void {
    if (this.count > 0) {
      const last = (this.first + this.count - 1) & this.mask;
      if (this.files[last] === file && this.lines[last] === line && this.texts[last] === text) return;
    }
    if (this.count > this.mask) {
      if (this.count < WINDOW) this.grow();
      else {
        // Drop the older half at once (amortised), as the window always did.
        this.first = (this.first + WINDOW / 2) & this.mask;
        this.count -= WINDOW / 2;
      }
    }
    const slot = (this.first + this.count) & this.mask;
    this.files[slot] = file;
    this.lines[slot] = line;
    this.texts[slot] = text;
    this.insnCount[slot] = 0;
    this.count++;
  }

  insn(idx: number): void {
    if (this.count === 0) return;
    const slot = (this.first + this.count - 1) & this.mask;
    const n = this.insnCount[slot]!;
    const base = slot * INSNS_PER_ENTRY;
    if (n < INSNS_PER_ENTRY && (n === 0 || this.insns[base + n - 1] !== idx)) {
      this.insns[base + n] = idx;
      this.insnCount[slot] = n + 1;
    }
  }

  /** A branch popped at instruction `from`: drop what was explored after the location that ran `from`. */
  branch(from: number): void {
    for (let i = this.count - 1; i >= 0; i--) {
      const slot = (this.first + i) & this.mask;
      const base = slot * INSNS_PER_ENTRY;
      const n = this.insnCount[slot]!;
      for (let k = 0; k < n; k++) {
        if (this.insns[base + k] === from) {
          this.count = i + 1;
          return;
        }
      }
    }
    this.count = 0;
  }

  /** Twice the slots, the entries moved to the start in order. */
  private grow(): void {
    const size = (this.mask + 1) * 2;
    const files = new Array<string | null>(size).fill(null);
    const lines = new Array<number | null>(size).fill(null);
    const texts = new Array<string>(size).fill('');
    const insns = new Float64Array(size * INSNS_PER_ENTRY);
    const insnCount = new Uint8Array(size);
    for (let i = 0; i < this.count; i++) {
      const slot = (this.first + i) & this.mask;
      files[i] = this.files[slot] ?? null;
      lines[i] = this.lines[slot] ?? null;
      texts[i] = this.texts[slot] ?? '';
      insnCount[i] = this.insnCount[slot]!;
      insns.set(this.insns.subarray(slot * INSNS_PER_ENTRY, (slot + 1) * INSNS_PER_ENTRY), i * INSNS_PER_ENTRY);
    }
    this.mask = size - 1;
    this.first = 0;
    this.files = files;
    this.lines = lines;
    this.texts = texts;
    this.insns = insns;
    this.insnCount = insnCount;
  }

  /** Newest last; each location once (its latest visit), so loops do not flood the list. */
  path(): SourceLocation[] {
    const seen = new Set<string>();
    const out: SourceLocation[] = [];
    for (let i = this.count - 1; i >= 0 && out.length < PATH_LIMIT; i--) {
      const slot = (this.first + i) & this.mask;
      const file = this.files[slot] ?? null;
      const line = this.lines[slot] ?? null;
      const text = this.texts[slot] ?? '';
      if (line === null && text === '') continue;
      const key = `${file ?? ''}\u0000${line ?? ''}\u0000${text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ file, line, text, insn: this.insnCount[slot]! > 0 ? this.insns[slot * INSNS_PER_ENTRY]! : null });
    }
    return out.reverse();
  }
}
