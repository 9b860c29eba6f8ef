// The state of one kernel log (one BEGIN/END block, or the whole text for a raw log): where the trace is,
// and the lines printed since its last step, which become the error when the log ends.
import type { VerifierError, VerifierStats } from './model';
import { emptyStats } from './model';
import { PathTracker } from './pathTracker';
import { RegisterTracker } from './registers';
import type { ProcessedLine } from './traceLines';
import { insnFromMessage } from './traceLines';

const BLOCK_LINES = 16;
const CONTEXT_LINES = 10;
const MAX_TEXT = 4096;

interface Location {
  file: string | null;
  line: number | null;
  text: string;
}

export class LogBody {
  readonly path = new PathTracker();
  readonly regs = new RegisterTracker();
  stats: VerifierStats | null = null;
  error: VerifierError | null = null;
  /** A stats line or end marker ended the log: later unknown lines are someone else's output. */
  closed = false;
  sawTrace = false;
  private lastInsn: number | null = null;
  private loc: Location | null = null;
  private lastRealLoc: Location | null = null;
  // Lines printed since the last trace step; the first one is the error if the log ends here.
  private block: string[] = [];
  private blockInsn: number | null = null;
  private blockLoc: Location | null = null;
  private blockRegs: Record<string, string> | null = null;

  hasContent(): boolean {
    return this.sawTrace || this.stats !== null || this.block.length > 0 || this.error !== null;
  }

  /** Any execution step: whatever unknown lines came before it were not the error. */
  step(): void {
    this.sawTrace = true;
    if (this.block.length > 0) this.block = [];
  }

  insn(idx: number, state: string | null, jump: { idx: number; state: string } | null): void {
    this.step();
    this.lastInsn = idx;
    this.path.insn(idx);
    if (state) this.regs.merge(state);
    if (jump) this.regs.replace(jump.state);
  }

  state(state: string, from: number | null): void {
    this.step();
    if (from !== null) this.path.branch(from);
    if (state) this.regs.replace(state);
  }

  /** `c` is kept as the location when its text needs no clipping (the fast path's objects are shared, never changed). */
  linfo(c: Readonly<Location> & { hasAt: boolean }): void {
    this.step();
    const { line, text, hasAt } = c;
    const loc: Location = text.length <= MAX_TEXT ? c : { file: c.file, line, text: clip(text) };
    this.loc = loc;
    // `;  @ f.c:0` and a bare `;` mean "compiler-generated": keep the last real line for the error.
    if (line !== null || (!hasAt && text !== '')) this.lastRealLoc = loc;
    this.path.enter(loc.file, loc.line, loc.text);
  }

  /** An unclassified line: a candidate error message (or the explanation after one). */
  candidate(text: string, contextOnly: boolean): void {
    if (this.closed) return;
    if (this.block.length === 0) {
      if (contextOnly) return;
      this.blockInsn = this.sawTrace ? this.lastInsn : null;
      this.blockLoc = this.currentLoc();
      this.blockRegs = this.sawTrace ? this.regs.snapshot() : null;
    }
    if (this.block.length < BLOCK_LINES) this.block.push(clip(text));
  }

  addStats(p: ProcessedLine | undefined, timeUsec: number | undefined, stackDepth: string | undefined): void {
    const s = (this.stats ??= emptyStats());
    if (p) {
      s.insnsProcessed = p.insns;
      s.insnLimit = p.limit;
      s.maxStatesPerInsn = p.maxStatesPerInsn;
      s.totalStates = p.totalStates;
      s.peakStates = p.peakStates;
      s.markRead = p.markRead;
      if (p.stackDepth !== null) s.stackDepth = p.stackDepth;
    }
    if (timeUsec !== undefined) s.verificationTimeUsec = timeUsec;
    if (stackDepth !== undefined) s.stackDepth = stackDepth;
  }

  /** Ends the log: the first pending line becomes the error when `accept` agrees it is one. */
  close(accept: (message: string) => boolean): void {
    if (this.closed) return;
    this.closed = true;
    const [message, ...context] = this.block;
    this.block = [];
    if (message === undefined || this.error || !accept(message)) return;
    const loc = this.sawTrace ? this.blockLoc : null;
    this.error = {
      message,
      context: context.slice(0, CONTEXT_LINES),
      insn: insnFromMessage(message) ?? this.blockInsn,
      file: loc?.file ?? null,
      line: loc?.line ?? null,
      sourceText: loc && loc.text !== '' ? loc.text : null,
      registers: this.blockRegs,
    };
  }

  private currentLoc(): Location | null {
    if (!this.loc) return null;
    return this.loc.line === null && this.loc.text === '' ? this.lastRealLoc : this.loc;
  }
}

/** Stored text is bounded: a hostile line must not pin megabytes. */
function clip(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}
