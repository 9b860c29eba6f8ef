// The source locations of the path being verified, in a bounded window. When the verifier pops a pushed
// branch (`from X to Y:`), the window is cut back to the location that executed X, so what remains at the
// error is (an approximation of) the one path that reached it, not everything explored before.
import type { SourceLocation } from './model';

interface Entry {
  file: string | null;
  line: number | null;
  text: string;
  insns: number[];
}

const WINDOW = 256;
const INSNS_PER_ENTRY = 32;
export const PATH_LIMIT = 50;

export class PathTracker {
  private entries: Entry[] = [];

  /** A line-info comment: the instructions that follow belong to it. */
  enter(file: string | null, line: number | null, text: string): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.file === file && last.line === line && last.text === text) return;
    if (this.entries.length >= WINDOW) this.entries.splice(0, WINDOW / 2);
    this.entries.push({ file, line, text, insns: [] });
  }

  insn(idx: number): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.insns.length < INSNS_PER_ENTRY && last.insns[last.insns.length - 1] !== idx) last.insns.push(idx);
  }

  /** A branch popped at instruction `from`: drop what was explored after the location that ran `from`. */
  branch(from: number): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]?.insns.includes(from)) {
        this.entries.length = i + 1;
        return;
      }
    }
    this.entries.length = 0;
  }

  /** Newest last; each location once (its latest visit), so loops do not flood the list. */
  path(): SourceLocation[] {
    const seen = new Set<string>();
    const out: SourceLocation[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < PATH_LIMIT; i--) {
      const e = this.entries[i];
      if (!e || (e.line === null && e.text === '')) continue;
      const key = `${e.file ?? ''}\u0000${e.line ?? ''}\u0000${e.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ file: e.file, line: e.line, text: e.text, insn: e.insns[0] ?? null });
    }
    return out.reverse();
  }
}
