// The parser's fast path: classifies the bulk of a big level-2 log (instruction lines `12: (0f) ...`, source lines
// `; ...`, states `12: R1=...`, branch states `from 3 to 7: ...`, `12: safe`) straight from the decoded chunk, by
// position, without the per-line work of the full path (unwrapping logging layers, trimming, loader framing,
// splitting glued lines). It only answers where the full path would give the same result; for any other line
// (a possible logging prefix, leading or trailing whitespace, a glued stats line, anything it does not know) it
// returns null and the full path decides. Searches that would run on every line (`level=`, `processed `) are done
// once per chunk, through cursors that only move forward.
import type { TraceLine } from './traceLines';
import { JUMP_STATE, parseLinfo } from './traceLines';

/** Distinct `;` lines remembered (a program's source lines); the cache starts over when full. */
const LINFO_CACHE = 4096;
/** The most recent distinct `;` lines, compared in place (no substring, no hash): a loop repeats a few. */
const RECENT_LINFO = 16;

const NOISE: TraceLine = { kind: 'noise' };

const isDigit = (c: number) => c >= 48 && c <= 57;
const isLowerHex = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102);

/** A copy that does not keep its (large) parent chunk alive. */
function own(text: string): string {
  return (' ' + text).slice(1);
}

export class FastLineScanner {
  private chunk = '';
  // Next occurrence at or after the line being looked at (-1: none left in the chunk).
  private levelAt = -1;
  private processedAt = -1;
  private semiAt = -1;
  // Line terminators other than '\n' (a regex's `.` stops at them): '\r', U+2028, U+2029.
  private crAt = -1;
  private lsAt = -1;
  private psAt = -1;
  private readonly linfo = new Map<string, TraceLine>();
  private readonly recentText: string[] = [];
  private readonly recentLine: TraceLine[] = [];
  private recentHit = 0;
  /** Returned for every instruction line (no object per line): read it before the next classify(). */
  private readonly insnOut: { kind: 'insn'; idx: number; state: string | null; jumpState: { idx: number; state: string } | null } = {
    kind: 'insn',
    idx: 0,
    state: null,
    jumpState: null,
  };

  /** Starts a new chunk: lines are then chunk[start, end) with increasing starts. */
  reset(chunk: string): void {
    this.chunk = chunk;
    this.levelAt = chunk.indexOf('level=');
    this.processedAt = nextProcessed(chunk, 0);
    this.semiAt = chunk.indexOf(';');
    this.crAt = chunk.indexOf('\r');
    this.lsAt = chunk.indexOf('\u2028');
    this.psAt = chunk.indexOf('\u2029');
  }

  /** What the full path would make of the line chunk[s, e), or null to let it decide. An instruction line's result
   * is reused by the next call. */
  classify(s: number, e: number): TraceLine | null {
    const chunk = this.chunk;
    const last = chunk.charCodeAt(e - 1);
    // Trailing whitespace or '\r' (trim), a non-ASCII end (Unicode whitespace): the full path.
    if (e <= s || last <= 32 || last >= 127) return null;
    // unwrap.ts: a logrus record (`level=`); journald and logrus TTY prefixes are excluded below by character.
    if (this.levelAt >= 0 && this.levelAt < e) {
      if (this.levelAt >= s) return null;
      this.levelAt = chunk.indexOf('level=', s);
      if (this.levelAt >= 0 && this.levelAt < e) return null;
    }
    if (this.mayBeGlued(s, e)) return null;
    const c = chunk.charCodeAt(s);
    if (c === 59 /* ; */) return chunk.charCodeAt(s + 4) === 91 /* [ */ ? null : this.linfoLine(s, e);
    if (isDigit(c)) {
      // `NNNN-` may be a journald ISO date, `XXXX[` a logrus TTY level.
      const c4 = chunk.charCodeAt(s + 4);
      if (c4 === 45 || c4 === 91) return null;
      return this.numbered(s, e);
    }
    if (c === 102 /* f */ && chunk.startsWith('from ', s)) return this.fromLine(s, e);
    return null;
  }

  /** FROM (`from 3 to 7: <state>`), matched by position. */
  private fromLine(s: number, e: number): TraceLine | null {
    const chunk = this.chunk;
    // Framing never starts with "from " unless it carries one of these (classifyFraming's includes()).
    const line = chunk.slice(s, e);
    if (line.includes('BPF_PROG_LOAD syscall failed') || line.includes('load program: ')) return null;
    const fromEnd = digitsEnd(chunk, s + 5);
    if (fromEnd === s + 5 || !chunk.startsWith(' to ', fromEnd)) return null;
    const toEnd = digitsEnd(chunk, fromEnd + 4);
    if (toEnd === fromEnd + 4 || chunk.charCodeAt(toEnd) !== 58 /* : */) return null;
    const rest = chunk.charCodeAt(toEnd + 1) === 32 ? toEnd + 2 : toEnd + 1;
    if (this.terminatorIn(rest, e)) return null;
    const state = rest >= e ? '' : chunk.slice(rest, e);
    return { kind: 'state', idx: number(chunk, fromEnd + 4, toEnd), state: state === 'safe' ? '' : state, from: number(chunk, s + 5, fromEnd) };
  }

  /** STATE_AT's `(?:frame\d+: )?(?:R\d+|fp-?\d+)[_a-zA-Z]*=.*$` from `p` (after "N: "), matched by position. */
  private stateAt(p: number, e: number): boolean {
    const chunk = this.chunk;
    let q = p;
    if (chunk.startsWith('frame', q)) {
      const d = digitsEnd(chunk, q + 5);
      if (d === q + 5 || chunk.charCodeAt(d) !== 58 || chunk.charCodeAt(d + 1) !== 32) return false;
      q = d + 2;
    }
    const c = chunk.charCodeAt(q);
    if (c === 82 /* R */) q++;
    else if (c === 102 /* f */ && chunk.charCodeAt(q + 1) === 112 /* p */) q += chunk.charCodeAt(q + 2) === 45 /* - */ ? 3 : 2;
    else return false;
    const d = digitsEnd(chunk, q);
    if (d === q) return false;
    q = d;
    for (let k = chunk.charCodeAt(q); k === 95 || (k >= 65 && k <= 90) || (k >= 97 && k <= 122); k = chunk.charCodeAt(++q));
    return chunk.charCodeAt(q) === 61 /* = */ && !this.terminatorIn(q + 1, e);
  }

  /** Whether chunk[p, e) holds a '\r', U+2028 or U+2029 (the line's '\n' is at e). */
  private terminatorIn(p: number, e: number): boolean {
    const chunk = this.chunk;
    if (this.crAt >= 0 && this.crAt < e) {
      if (this.crAt < p) this.crAt = chunk.indexOf('\r', p);
      if (this.crAt >= 0 && this.crAt < e) return true;
    }
    if (this.lsAt >= 0 && this.lsAt < e) {
      if (this.lsAt < p) this.lsAt = chunk.indexOf('\u2028', p);
      if (this.lsAt >= 0 && this.lsAt < e) return true;
    }
    if (this.psAt >= 0 && this.psAt < e) {
      if (this.psAt < p) this.psAt = chunk.indexOf('\u2029', p);
      if (this.psAt >= 0 && this.psAt < e) return true;
    }
    return false;
  }

  /** splitGlued() could split the line at a glued stats line (`processed ` or `verification time ` after its start). */
  private mayBeGlued(s: number, e: number): boolean {
    const chunk = this.chunk;
    if (this.processedAt >= 0 && this.processedAt < e) {
      if (this.processedAt > s) return true;
      this.processedAt = nextProcessed(chunk, s + 1);
      if (this.processedAt >= 0 && this.processedAt < e) return true;
    }
    // startsWith() at a position costs more than a look at the last character first.
    if (chunk.charCodeAt(e - 1) !== 99 /* c */ || !chunk.startsWith(' usec', e - 5)) return false;
    const v = chunk.indexOf('verification time ', s + 1);
    return v >= 0 && v < e;
  }

  /** `; source text @ file:line`, parsed once per distinct line. */
  private linfoLine(s: number, e: number): TraceLine {
    const chunk = this.chunk;
    const n = this.recentText.length;
    // A loop prints its source lines in the same order: try the one after the last hit first.
    for (let k = 0, i = this.recentHit + 1; k < n; k++, i++) {
      if (i >= n) i = 0;
      const text = this.recentText[i]!;
      if (text.length === e - s && chunk.slice(s, e) === text) {
        this.recentHit = i;
        return this.recentLine[i]!;
      }
    }
    const line = own(chunk.slice(s, e));
    let c = this.linfo.get(line);
    if (c === undefined) {
      c = parseLinfo(line);
      if (this.linfo.size >= LINFO_CACHE) this.linfo.clear();
      this.linfo.set(line, c);
    }
    const slot = n < RECENT_LINFO ? n : (this.recentHit + 1) % RECENT_LINFO;
    this.recentText[slot] = line;
    this.recentLine[slot] = c;
    this.recentHit = slot;
    return c;
  }

  /** `NNN: (xx) ...`, `NNN: R1=...`, `NNN: safe`. */
  private numbered(s: number, e: number): TraceLine | null {
    const chunk = this.chunk;
    let i = s + 1;
    let n = chunk.charCodeAt(s) - 48;
    for (let d = chunk.charCodeAt(i); i < e && isDigit(d); d = chunk.charCodeAt(++i)) n = n * 10 + (d - 48);
    if (chunk.charCodeAt(i) !== 58 /* : */ || chunk.charCodeAt(i + 1) !== 32) return null;
    const k = chunk.charCodeAt(i + 2);
    if (k === 40 /* ( */) {
      if (!isLowerHex(chunk.charCodeAt(i + 3)) || !isLowerHex(chunk.charCodeAt(i + 4)) || chunk.charCodeAt(i + 5) !== 41 /* ) */) return null;
      // Up to 15 digits the sum is exact; beyond, Number() rounds as the full path does.
      return this.insn(s, e, i, i - s <= 15 ? n : Number(chunk.slice(s, i)));
    }
    if (k === 82 /* R */ || k === 102 /* f */) {
      if (!this.stateAt(i + 2, e) || this.gluedInsn(s, e)) return null;
      return { kind: 'state', idx: i - s <= 15 ? n : Number(chunk.slice(s, i)), state: chunk.slice(i + 2, e), from: null };
    }
    if (k === 115 /* s */ && e === i + 6 && chunk.startsWith('safe', i + 2)) return NOISE;
    return null;
  }

  private insn(s: number, e: number, colon: number, idx: number): TraceLine {
    const chunk = this.chunk;
    // The state comment starts at the first " ; " (instruction text has no ';').
    let semi = -1;
    if (this.semiAt >= 0 && this.semiAt <= s) this.semiAt = chunk.indexOf(';', s + 1);
    while (this.semiAt >= 0 && this.semiAt < e) {
      const p = this.semiAt;
      if (chunk.charCodeAt(p - 1) === 32 && chunk.charCodeAt(p + 1) === 32 && p - 1 > s) {
        semi = p - 1;
        break;
      }
      this.semiAt = chunk.indexOf(';', p + 1);
    }
    const end = semi >= 0 ? semi : e;
    // A jump's state follows " N: " after the leading "idx: ": only then is it worth a regex.
    let jumpState: { idx: number; state: string } | null = null;
    const next = chunk.indexOf(': ', colon + 1);
    if (next >= 0 && next <= end - 2) {
      const j = JUMP_STATE.exec(chunk.slice(s, end));
      if (j) jumpState = { idx: Number(j[1]), state: j[2] ?? '' };
    }
    const out = this.insnOut;
    out.idx = idx;
    // The line's end is no whitespace (classify()): only whitespace after " ; " needs the trim.
    const first = chunk.charCodeAt(semi + 3);
    out.state = semi < 0 ? null : first > 32 && first < 127 ? chunk.slice(semi + 3, e) : chunk.slice(semi + 3, e).trim();
    out.jumpState = jumpState;
    return out;
  }

  /** splitGlued()'s / (\d+): \([0-9a-f]{2}\) / within the line (4.14: a state with the next instruction glued on). */
  private gluedInsn(s: number, e: number): boolean {
    const chunk = this.chunk;
    for (let p = chunk.indexOf(': (', s); p >= 0 && p + 6 < e; p = chunk.indexOf(': (', p + 1)) {
      if (!isLowerHex(chunk.charCodeAt(p + 3)) || !isLowerHex(chunk.charCodeAt(p + 4))) continue;
      if (chunk.charCodeAt(p + 5) !== 41 || chunk.charCodeAt(p + 6) !== 32) continue;
      let d = p - 1;
      while (d >= s && isDigit(chunk.charCodeAt(d))) d--;
      if (d < p - 1 && d >= s && chunk.charCodeAt(d) === 32) return true;
    }
    return false;
  }
}

/** The end of the run of decimal digits at `p`. */
function digitsEnd(chunk: string, p: number): number {
  while (isDigit(chunk.charCodeAt(p))) p++;
  return p;
}

/** The decimal number chunk[s, e): summed up to 15 digits (exact), else Number() (rounded as the full path). */
function number(chunk: string, s: number, e: number): number {
  if (e - s > 15) return Number(chunk.slice(s, e));
  let n = 0;
  for (let i = s; i < e; i++) n = n * 10 + (chunk.charCodeAt(i) - 48);
  return n;
}

/** chunk.indexOf('processed ', from), through `essed`: a short pattern is searched from its first character (memchr),
 * and in a log 'e' starts fewer false hits than 'p' does (`pc+`, `fp-8`, `map_ptr`); measured several times faster. */
function nextProcessed(chunk: string, from: number): number {
  for (let q = chunk.indexOf('essed', from + 4); q >= 0; q = chunk.indexOf('essed', q + 1)) {
    if (chunk.charCodeAt(q + 5) === 32 && chunk.startsWith('proc', q - 4)) return q - 4;
  }
  return -1;
}

