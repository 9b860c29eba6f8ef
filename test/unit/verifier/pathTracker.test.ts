// PathTracker keeps its window in a growing ring of reused slots; this holds it to the plain list it replaced (kept
// here as the reference) over random walks long enough to wrap, grow and drop halves of the window.
import * as assert from 'node:assert/strict';
import type { SourceLocation } from '../../../src/core/verifier/model';
import { PATH_LIMIT, PathTracker } from '../../../src/core/verifier/pathTracker';
import { rng } from './corpus';

class ReferencePath {
  private entries: { file: string | null; line: number | null; text: string; insns: number[] }[] = [];

  enter(file: string | null, line: number | null, text: string): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.file === file && last.line === line && last.text === text) return;
    if (this.entries.length >= 256) this.entries.splice(0, 128);
    this.entries.push({ file, line, text, insns: [] });
  }

  insn(idx: number): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.insns.length < 32 && last.insns[last.insns.length - 1] !== idx) last.insns.push(idx);
  }

  branch(from: number): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]?.insns.includes(from)) {
        this.entries.length = i + 1;
        return;
      }
    }
    this.entries.length = 0;
  }

  path(): SourceLocation[] {
    const seen = new Set<string>();
    const out: SourceLocation[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < PATH_LIMIT; i--) {
      const e = this.entries[i]!;
      if (e.line === null && e.text === '') continue;
      const key = `${e.file ?? ''}\u0000${e.line ?? ''}\u0000${e.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ file: e.file, line: e.line, text: e.text, insn: e.insns[0] ?? null });
    }
    return out.reverse();
  }
}

describe('verifier path tracker', () => {
  it('gives the reference list’s path through random walks that wrap, grow and drop', () => {
    const rand = rng(256);
    for (let walk = 0; walk < 40; walk++) {
      const ring = new PathTracker();
      const ref = new ReferencePath();
      const lines = 1 + Math.floor(rand() * 400);
      const steps = Math.floor(rand() * 20000);
      const seen: number[] = [];
      for (let s = 0; s < steps; s++) {
        const op = rand();
        if (op < 0.3) {
          const line = Math.floor(rand() * lines);
          const file = line % 7 === 0 ? null : `f${line % 3}.h`;
          const text = line % 11 === 0 ? '' : `text ${line}`;
          const no = line % 5 === 0 ? null : line;
          ring.enter(file, no, text);
          ref.enter(file, no, text);
        } else if (op < 0.99) {
          const idx = Math.floor(rand() * 3000);
          seen.push(idx);
          ring.insn(idx);
          ref.insn(idx);
        } else {
          // Mostly an instruction on the path (a real pop), sometimes one that is not.
          const from = rand() < 0.8 && seen.length ? seen[Math.floor(rand() * seen.length)]! : Math.floor(rand() * 3000);
          ring.branch(from);
          ref.branch(from);
        }
        if (s % 97 === 0) assert.deepEqual(ring.path(), ref.path(), `walk ${walk}, step ${s}`);
      }
      assert.deepEqual(ring.path(), ref.path(), `walk ${walk}, end`);
    }
  });
});
