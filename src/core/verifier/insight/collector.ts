// Streaming collector of what the verifier saw, from a level-2 log (every instruction it processed, with the
// registers it changed). Memory is bounded whatever the log's size:
//  - per instruction index (bounded by the program's size): times processed, its source location, its text, and
//    the last state printed after it;
//  - the path being explored, as a window of its last PATH_WINDOW steps with their states. A popped branch
//    (`from X to Y:`) cuts the path back to the conditional jump X that pushed it, so at the error what remains is
//    the one path that reached it (the verifier explores depth first).
// Lines come in after the loader framing and logging layers are gone (see reader.ts); `line()` never throws.
import { classifyFraming } from '../framing';
import type { LineSink } from '../parser';
import { classifyTraceLine, type TraceLine } from '../traceLines';
import { insnEffect, insnText } from './insn';

/** Steps of the current path kept (its newest); older ones are dropped and counted. */
export const PATH_WINDOW = 1 << 16;
/** Instruction indices above this are not a real program's (BPF_COMPLEXITY_LIMIT_INSNS is 1M): ignored. */
const MAX_INSN = 1 << 22;
const MAX_LOCS = 1 << 16;
const MAX_MARKS = 1 << 16;
const MAX_STATE = 2048;
const MAX_TEXT = 512;

export interface Loc {
  file: string | null;
  line: number | null;
  text: string;
}

/** Copies a substring out of its (large) parent chunk, so that keeping it does not keep the chunk alive. */
function own(text: string, max: number): string {
  const t = text.length > max ? text.slice(0, max) : text;
  return (' ' + t).slice(1);
}

/** One kernel log (one program's verification). */
export class InsightBody {
  readonly locs: Loc[] = [];
  private readonly locIds = new Map<string, number>();
  private readonly locByObject = new Map<object, number>();
  private curLoc = -1;

  /** Per instruction index. */
  readonly counts: number[] = [];
  readonly insnLoc: number[] = [];
  readonly texts: (string | undefined)[] = [];
  readonly lastState: (string | undefined)[] = [];
  private readonly conditional: (boolean | undefined)[] = [];
  /** Instruction steps seen (the verifier's "processed" count, summed over all paths). */
  processed = 0;
  maxIdx = -1;

  // The current path: absolute positions [start, end); position p is kept in slot p % PATH_WINDOW.
  readonly stepIdx = new Int32Array(PATH_WINDOW);
  readonly stepLoc = new Int32Array(PATH_WINDOW);
  readonly stepPre: (string | null)[] = new Array<string | null>(PATH_WINDOW).fill(null);
  readonly stepPost: (string | null)[] = new Array<string | null>(PATH_WINDOW).fill(null);
  /** 1: the pre-state replaces everything known (a popped branch's full state). */
  readonly stepFull = new Uint8Array(PATH_WINDOW);
  start = 0;
  end = 0;
  /** The window lost steps at its start (a path longer than PATH_WINDOW, or a pop behind the window). */
  cut = false;
  /** Branch points on the path: conditional jumps that continued to the next instruction. */
  private marks: { pos: number; idx: number }[] = [];
  /** The marks' positions by instruction (each list increasing, like the stack). */
  private marksByIdx = new Map<number, number[]>();
  private pendingPre: string | null = null;
  private pendingFull = false;
  private lastCond = -1;
  private afterFrameHeader = false;
  pops = 0;

  /** A line that is no step came after the last step: the log may end in an error. */
  trailing = false;
  closed = false;

  hasContent(): boolean {
    return this.processed > 0;
  }

  linfo(file: string | null, line: number | null, text: string, cached: object | null = null): void {
    // The parser's fast path hands out one object per distinct `;` line: found by identity, no key string.
    let id = cached ? this.locByObject.get(cached) : undefined;
    if (id !== undefined) {
      this.curLoc = id;
      return;
    }
    const key = `${file ?? ''}\u0000${line ?? ''}\u0000${text}`;
    id = this.locIds.get(key);
    if (id === undefined) {
      if (this.locs.length >= MAX_LOCS) return;
      id = this.locs.length;
      this.locs.push({ file: file === null ? null : own(file, MAX_TEXT), line, text: own(text, MAX_TEXT) });
      this.locIds.set(key, id);
    }
    if (cached) {
      if (this.locByObject.size >= MAX_LOCS) this.locByObject.clear();
      this.locByObject.set(cached, id);
    }
    this.curLoc = id;
  }

  insn(idx: number, raw: string, state: string | null, jumpState: string | null): void {
    if (idx < 0 || idx > MAX_INSN) return;
    this.trailing = false;
    this.afterFrameHeader = false;
    this.processed++;
    if (idx > this.maxIdx) this.maxIdx = idx;
    this.counts[idx] = (this.counts[idx] ?? 0) + 1;
    if (this.curLoc >= 0 || this.insnLoc[idx] === undefined) this.insnLoc[idx] = this.curLoc;
    let text = this.texts[idx];
    if (text === undefined) {
      text = own(insnText(raw), MAX_TEXT);
      this.texts[idx] = text;
    }
    // The previous step was a conditional jump that fell through: the verifier may have pushed the other branch.
    const prev = this.end > this.start ? this.stepIdx[(this.end - 1) % PATH_WINDOW] : -1;
    if (this.lastCond >= 0 && prev === this.lastCond && idx === prev + 1) this.mark(this.end - 1, prev);
    let cond = this.conditional[idx];
    if (cond === undefined) this.conditional[idx] = cond = insnEffect(text).conditional === true;
    this.lastCond = cond ? idx : -1;

    const post = state ? own(state, MAX_STATE) : null;
    if (post !== null) this.lastState[idx] = post;
    const slot = this.end % PATH_WINDOW;
    if (this.end - this.start >= PATH_WINDOW) {
      this.start++;
      this.cut = true;
    }
    this.stepIdx[slot] = idx;
    this.stepLoc[slot] = this.curLoc;
    this.stepPre[slot] = this.pendingPre;
    this.stepFull[slot] = this.pendingFull ? 1 : 0;
    this.stepPost[slot] = post;
    this.end++;
    this.pendingPre = null;
    this.pendingFull = false;
    // A known-taken jump prints the target's state on its own line: it is the next step's pre-state.
    if (jumpState) this.pendingPre = own(jumpState, MAX_STATE);
  }

  /** `N: R1=...` (6.x: the registers that changed; 5.x: all of them) or a bare state line. */
  state(text: string, bare: boolean): void {
    this.trailing = false;
    if (bare && this.afterFrameHeader) return;
    this.pendingPre = this.pendingPre && !this.pendingFull ? `${this.pendingPre} ${own(text, MAX_STATE)}` : own(text, MAX_STATE);
    if (this.pendingPre.length > MAX_STATE * 2) this.pendingPre = this.pendingPre.slice(-MAX_STATE);
  }

  /** `from X to Y: <state>`: a pushed branch popped (or, 6.x, a return from a subprogram to its caller). */
  pop(from: number, text: string): void {
    this.trailing = false;
    this.afterFrameHeader = false;
    this.lastCond = -1;
    const at = this.marksByIdx.get(from);
    const pos = at?.[at.length - 1];
    if (pos !== undefined) {
      // The newest branch point at `from`; every mark after it was a jump that did not branch (or was explored).
      for (;;) {
        const m = this.marks.pop();
        if (!m) break;
        const list = this.marksByIdx.get(m.idx)!;
        list.pop();
        if (list.length === 0) this.marksByIdx.delete(m.idx);
        if (m.pos === pos) break;
      }
      this.pops++;
      if (pos < this.start) {
        // The branch point fell out of the window: the path so far is unknown.
        this.cut = true;
        this.start = this.end;
      } else {
        this.end = pos + 1;
      }
    }
    this.pendingPre = text ? own(text, MAX_STATE) : null;
    this.pendingFull = text !== '';
  }

  /** `N: safe`: the state at N was proven safe before (pruned). The kernel counts N as processed. */
  safe(idx: number): void {
    if (idx < 0 || idx > MAX_INSN) return;
    this.trailing = false;
    this.processed++;
    if (idx > this.maxIdx) this.maxIdx = idx;
    this.counts[idx] = (this.counts[idx] ?? 0) + 1;
    if (this.insnLoc[idx] === undefined) this.insnLoc[idx] = this.curLoc;
    this.lastCond = -1;
  }

  frameHeader(): void {
    this.afterFrameHeader = true;
  }

  other(): void {
    if (this.processed > 0) this.trailing = true;
  }

  private mark(pos: number, idx: number): void {
    if (this.marks.length >= MAX_MARKS) {
      this.marks.splice(0, MAX_MARKS / 2);
      this.marksByIdx.clear();
      for (const m of this.marks) {
        const list = this.marksByIdx.get(m.idx);
        if (list) list.push(m.pos);
        else this.marksByIdx.set(m.idx, [m.pos]);
      }
    }
    this.addMark({ pos, idx });
  }

  private addMark(m: { pos: number; idx: number }): void {
    this.marks.push(m);
    const list = this.marksByIdx.get(m.idx);
    if (list) list.push(m.pos);
    else this.marksByIdx.set(m.idx, [m.pos]);
  }
}

const SAFE = /^(\d+): safe$/;
const SCC = /^SCC (?:enter|exit) \(\d+\)$/;
const FRAME_HEADER = /^(?:caller:|callee:|returning from callee:|to caller at \d+:)$/;

/**
 * Feeds lines (framing and logging layers already removed by the caller, or not: loader framing is recognised
 * here too) into per-log bodies, and keeps the body the parser reports: the first that ended in an error, else
 * the latest.
 */
export class InsightCollector implements LineSink {
  private body = new InsightBody();
  private committed: InsightBody | null = null;
  private latest: InsightBody | null = null;

  line(raw: string): void {
    try {
      this.lineUnsafe(raw.trim());
    } catch {
      // Never throws: a line it cannot read is skipped.
    }
  }

  /** A line the parser's fast path classified (trimmed, no framing): what trace() does, without classifying it
   * again or cutting it out of its chunk unless its text is needed. */
  classified(k: TraceLine, chunk: string, start: number, end: number): void {
    try {
      this.step(k, chunk, start, end, true);
    } catch {
      // Never throws, as line().
    }
  }

  private lineUnsafe(t: string): void {
    if (t.length === 0) return;
    const c = t.charCodeAt(0);
    // Trace lines start with a digit, ';', 'R', 'f'(rom / frame) or 'p'(rocessed); anything else may be framing.
    if (c !== 59 && !(c >= 48 && c <= 57)) {
      const f = classifyFraming(t);
      if (f) {
        if (f.type === 'bodyStart') this.newBody();
        else if (f.type === 'bodyEnd') this.close();
        if (f.type === 'bodyStart' && f.rest) this.trace(f.rest);
        return;
      }
    }
    this.trace(t);
  }

  private trace(t: string): void {
    this.step(classifyTraceLine(t), t, 0, t.length, false);
  }

  /** The line text[start, end), classified as `k` (`shared`: the fast path's object for its line, the same each time). */
  private step(k: TraceLine, text: string, start: number, end: number, shared: boolean): void {
    switch (k.kind) {
      case 'insn': {
        if (this.body.closed) this.newBody();
        // The body keeps the first text of each instruction only.
        const raw = this.body.texts[k.idx] === undefined ? text.slice(start, end) : '';
        this.body.insn(k.idx, raw, k.state, k.jumpState?.state ?? null);
        return;
      }
      case 'state':
        if (this.body.closed) return;
        if (k.from !== null) this.body.pop(k.from, k.state);
        else this.body.state(k.state, k.idx === null);
        return;
      case 'linfo':
        if (this.body.closed) this.newBody();
        this.body.linfo(k.file, k.line, k.text, shared ? k : null);
        return;
      case 'stats':
        if (k.processed) this.close();
        return;
      case 'noise': {
        const t = text.slice(start, end);
        const safe = SAFE.exec(t);
        if (safe) this.body.safe(Number(safe[1]));
        else if (FRAME_HEADER.test(t)) this.body.frameHeader();
        return;
      }
      case 'other':
        // 6.18 narrates loop (strongly connected component) tracking: `SCC enter (1)`, `SCC exit (1)`.
        if (!SCC.test(text.slice(start, end))) this.body.other();
        return;
      default:
        return;
    }
  }

  private close(): void {
    const b = this.body;
    if (b.closed) return;
    b.closed = true;
    if (!b.hasContent()) return;
    if (b.trailing && !this.committed) this.committed = b;
    this.latest = b;
  }

  private newBody(): void {
    this.close();
    this.body = new InsightBody();
  }

  /**
   * The body to report. `errorInsn` (the parser's failing instruction) picks the body whose path ends there when
   * the heuristics disagree with the parser.
   */
  result(errorInsn: number | null = null): InsightBody | null {
    const open = this.body.hasContent() ? this.body : null;
    const candidates = [this.committed, open, this.latest].filter((b): b is InsightBody => b !== null);
    if (errorInsn !== null) {
      const hit = candidates.find((b) => b.end > b.start && b.stepIdx[(b.end - 1) % PATH_WINDOW] === errorInsn);
      if (hit) return hit;
    }
    if (this.committed) return this.committed;
    if (open && open.trailing) return open;
    return open ?? this.latest;
  }
}
