// Classifies one line of a kernel verifier log (loader framing already removed). Every regex is anchored and
// free of nested quantifiers, so classification stays linear in the line length.

export type TraceLine =
  | { kind: 'insn'; idx: number; state: string | null; jumpState: { idx: number; state: string } | null }
  | { kind: 'state'; idx: number | null; state: string; from: number | null }
  | { kind: 'linfo'; text: string; file: string | null; line: number | null; hasAt: boolean }
  | { kind: 'stats'; processed?: ProcessedLine; timeUsec?: number; stackDepth?: string }
  | { kind: 'context' }
  | { kind: 'elision' }
  | { kind: 'noise' }
  | { kind: 'blank' }
  | { kind: 'other' };

export interface ProcessedLine {
  insns: number;
  limit: number | null;
  maxStatesPerInsn: number | null;
  totalStates: number | null;
  peakStates: number | null;
  markRead: number | null;
  stackDepth: string | null;
}

// `12: (0f) r3 += r2`, or libbpf's rewritten `1: <invalid CO-RE relocation>`.
const INSN = /^(\d+): (?:\([0-9a-f]{2}\)|<[^>]*>)/;
// Rows of the level-2 "Live regs before insn:" table: `  7: 0......... (79) r1 = ...` (not execution steps).
const LIVE_ROW = /^\d+: [.0-9]{8,} \(/;
// A state printed for a known-direction jump on the same line: `if r2 == 0xa goto pc+3 24: R0=...`.
export const JUMP_STATE = / (\d+): ((?:frame\d+: )?(?:R\d+|fp-?\d+)[_a-zA-Z]*=.*)$/;
export const STATE_AT = /^(\d+): ((?:frame\d+: )?(?:R\d+|fp-?\d+)[_a-zA-Z]*=.*)$/;
const STATE_BARE = /^(?:frame\d+: )?(?:R\d+|fp-?\d+)[_a-zA-Z]*=\S/;
export const FROM = /^from (\d+) to (\d+): ?(.*)$/;
const SAFE = /^\d+: safe$/;
const PROCESSED = /^processed (\d+) insns?(?: \(limit (\d+)\))?(.*)$/;
const VERIFICATION_TIME = /^verification time (\d+) usec/;
const STACK_DEPTH = /^stack depth (\S+)/;
const LINE_REF = /^(\S*):(\d+)$/;

// Lines the verifier prints while exploring that are neither steps nor errors. Precision backtracking
// (`regs=4 stack=0 before 5: ...`, `mark_precise: ...`) looks like instructions and must land here.
const NOISE: RegExp[] = [
  /^func#\d+ @\d+$/,
  /^Live regs before insn:$/,
  /^Validating .* func#\d+\.\.\.$/,
  /^Func#\d+ .* is global and assumed valid\.$/,
  /^(?:caller|callee|returning from callee):$/,
  /^to caller at \d+:$/,
  /^\(\d+(?:,\d+)*\) (?:frame \d+ insn \d+ [+-](?:live|written)\b|live stack update)/,
  /^mark_precise: /,
  /^last_idx \d+ first_idx \d+/,
  /^regs=\S* stack=\S* before \d+: /,
  /^parent (?:didn't have|already had) regs=/,
  /^propagating (?:r\d+|fp-?\d+)/,
  /^frame \d+: propagating /,
  // 6.18: strongly connected components (loops) entered and left; an accepted program with a loop prints them.
  /^SCC (?:enter|exit) \(\d+\)$/,
];

/** Splits lines the kernel glued together: a message without its newline followed by a stats line
 * (6.18: `expected prog array map for tail callprocessed 4 insns ...`, or `...tail callverification time 58 usec`
 * at log level 4), and 4.14's state + next insn. */
export function splitGlued(line: string): string[] | null {
  const p = line.indexOf('processed ', 1);
  if (p > 0 && /^processed \d+ insns?[ ,(]/.test(line.slice(p))) return [line.slice(0, p), line.slice(p)];
  const v = line.indexOf('verification time ', 1);
  if (v > 0 && /^verification time \d+ usec$/.test(line.slice(v))) return [line.slice(0, v), line.slice(v)];
  const c = line.charCodeAt(0);
  if (((c >= 48 && c <= 57) || c === 82 /* R */ || c === 102 /* f */) && (STATE_AT.test(line) || STATE_BARE.test(line))) {
    const m = / (\d+): \([0-9a-f]{2}\) /.exec(line);
    if (m && m.index > 0) return [line.slice(0, m.index), line.slice(m.index + 1)];
  }
  return null;
}

/** Whether splitGlued() could split `line` at a glued stats line (a superset: it then decides). */
function mayBeGlued(line: string): boolean {
  // A glued "verification time N usec" ends the line: only then is it worth a search.
  return line.indexOf('processed ', 1) > 0 || (line.endsWith(' usec') && line.indexOf('verification time ', 1) > 0);
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isLowerHex = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
// splitGlued's test for a 4.14 state line with the next instruction glued on.
const GLUED_INSN = / (\d+): \([0-9a-f]{2}\) /;

/**
 * The bulk of a big log in one pass: instruction lines (`12: (0f) ...`), source lines (`; ...`), states at an index
 * (`12: R1=...`) and branch states (`from 3 to 7: ...`). Returns what classifyTraceLine() would, for a trimmed line on
 * which classifyFraming() and splitGlued() return null; null when the line is anything else or could be (a glued
 * stats line, a loader's line), and the full path decides. Each line is scanned once, with at most one regex.
 */
export function classifyCommonLine(line: string): TraceLine | null {
  const c = line.charCodeAt(0);
  if (c === 59 /* ; */) return mayBeGlued(line) ? null : parseLinfo(line);
  if (isDigit(c)) {
    const n = line.length;
    let i = 1;
    while (i < n && isDigit(line.charCodeAt(i))) i++;
    if (line.charCodeAt(i) !== 58 /* : */ || line.charCodeAt(i + 1) !== 32) return null;
    const k = line.charCodeAt(i + 2);
    if (k === 40 /* ( */) {
      if (!isLowerHex(line.charCodeAt(i + 3)) || !isLowerHex(line.charCodeAt(i + 4)) || line.charCodeAt(i + 5) !== 41 /* ) */) return null;
      return mayBeGlued(line) ? null : insnLine(line, Number(line.slice(0, i)), i);
    }
    if (k === 82 /* R */ || k === 102 /* f */) {
      if (mayBeGlued(line)) return null;
      const s = STATE_AT.exec(line);
      if (!s || GLUED_INSN.test(line)) return null;
      return { kind: 'state', idx: Number(s[1]), state: s[2] ?? '', from: null };
    }
    return null;
  }
  if (c === 102 /* f */ && line.startsWith('from ')) {
    // Framing never starts with "from " unless it carries one of these (classifyFraming's includes()).
    if (line.includes('BPF_PROG_LOAD syscall failed') || line.includes('load program: ') || mayBeGlued(line)) return null;
    const f = FROM.exec(line);
    if (!f) return null;
    return { kind: 'state', idx: Number(f[2]), state: f[3] === 'safe' ? '' : (f[3] ?? ''), from: Number(f[1]) };
  }
  return null;
}

export function classifyTraceLine(line: string): TraceLine {
  if (line.length === 0) return { kind: 'blank' };
  const c = line.charCodeAt(0);
  if (c === 59 /* ; */) return parseLinfo(line);
  if (c >= 48 && c <= 57) {
    const m = INSN.exec(line);
    if (m) return insnLine(line, Number(m[1]));
    if (LIVE_ROW.test(line) || SAFE.test(line)) return { kind: 'noise' };
    const s = STATE_AT.exec(line);
    if (s) return { kind: 'state', idx: Number(s[1]), state: s[2] ?? '', from: null };
  }
  if (c === 102 /* f */) {
    const f = FROM.exec(line);
    if (f) return { kind: 'state', idx: Number(f[2]), state: f[3] === 'safe' ? '' : (f[3] ?? ''), from: Number(f[1]) };
  }
  if (STATE_BARE.test(line)) return { kind: 'state', idx: null, state: line, from: null };
  if (c === 112 /* p */ || c === 118 /* v */ || c === 115 /* s */) {
    const stats = parseStats(line);
    if (stats) return stats;
  }
  if (line.startsWith('cur state:') || line.startsWith('old state:')) return { kind: 'context' };
  // Human elisions in pasted logs.
  if (line === '...' || line === '.' || line === '\u2026') return { kind: 'elision' };
  for (const re of NOISE) if (re.test(line)) return { kind: 'noise' };
  return { kind: 'other' };
}

function insnLine(line: string, idx: number, colon = line.indexOf(': ')): TraceLine {
  // The per-instruction state comment starts at the first " ; " (instruction text has no ';').
  const semi = indexOfSpacedSemicolon(line);
  const end = semi >= 0 ? semi : line.length;
  // A jump's state follows " N: " after the leading "idx: ": without another ": " before the comment, the regex
  // cannot match, and the body is not even cut out.
  const j = line.lastIndexOf(': ', end - 2) > colon ? JUMP_STATE.exec(semi >= 0 ? line.slice(0, semi) : line) : null;
  return {
    kind: 'insn',
    idx,
    state: semi >= 0 ? line.slice(semi + 3).trim() : null,
    jumpState: j ? { idx: Number(j[1]), state: j[2] ?? '' } : null,
  };
}

/** line.indexOf(' ; '), found through the ';' alone: a one-character search is several times faster on lines full of
 * spaces, where a search for " ; " keeps starting over. */
function indexOfSpacedSemicolon(line: string): number {
  for (let p = line.indexOf(';', 1); p > 0; p = line.indexOf(';', p + 1)) {
    if (line.charCodeAt(p - 1) === 32 && line.charCodeAt(p + 1) === 32) return p - 1;
  }
  return -1;
}

/** line.lastIndexOf(' @ '), through the '@' alone (as indexOfSpacedSemicolon). */
function lastIndexOfSpacedAt(line: string): number {
  for (let p = line.lastIndexOf('@'); p > 0; p = line.lastIndexOf('@', p - 1)) {
    if (line.charCodeAt(p - 1) === 32 && line.charCodeAt(p + 1) === 32) return p - 1;
  }
  return -1;
}

/** `; text @ file:line` (6.8+), `; text` (older), `;` or `;  @ file:0` (no line). Anchors on the last " @ "
 * because the source text and CO-RE specs (`0:1 @ offset 8`) contain '@' and ':' too. */
export function parseLinfo(line: string): TraceLine {
  // Positions in `line`, past its ';' (index 0, so never part of " @ ").
  const at = lastIndexOfSpacedAt(line);
  if (at >= 1) {
    const ref = LINE_REF.exec(line.slice(at + 3).trim());
    if (ref) {
      const lineNo = Number(ref[2]);
      return {
        kind: 'linfo',
        text: line.slice(1, at).trim(),
        file: ref[1] ? ref[1] : null,
        line: lineNo > 0 ? lineNo : null,
        hasAt: true,
      };
    }
  }
  return { kind: 'linfo', text: line.slice(1).trim(), file: null, line: null, hasAt: false };
}

function parseStats(line: string): TraceLine | null {
  const p = PROCESSED.exec(line);
  if (p) {
    const rest = p[3] ?? '';
    return {
      kind: 'stats',
      processed: {
        insns: Number(p[1]),
        limit: p[2] !== undefined ? Number(p[2]) : null,
        maxStatesPerInsn: field(rest, /max_states_per_insn (\d+)/),
        totalStates: field(rest, /total_states (\d+)/),
        peakStates: field(rest, /peak_states (\d+)/),
        markRead: field(rest, /mark_read (\d+)/),
        // 4.x: "processed 39 insns (limit 131072), stack depth 0"
        stackDepth: /stack depth (\S+)/.exec(rest)?.[1] ?? null,
      },
    };
  }
  const t = VERIFICATION_TIME.exec(line);
  if (t) return { kind: 'stats', timeUsec: Number(t[1]) };
  const s = STACK_DEPTH.exec(line);
  if (s) return { kind: 'stats', stackDepth: s[1] ?? '' };
  return null;
}

function field(text: string, re: RegExp): number | null {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

// Errors that name the instruction themselves; pre-pass errors have no trace, so this is their only index.
const INSN_IN_MESSAGE: RegExp[] = [
  /^unreachable insn (\d+)/,
  /infinite loop detected at insn (\d+)/,
  /^back-edge from insn (\d+)/,
  /^jump out of range from insn (\d+)/,
  /^insn (\d+) /,
];

export function insnFromMessage(message: string): number | null {
  for (const re of INSN_IN_MESSAGE) {
    const m = re.exec(message);
    if (m) return Number(m[1]);
  }
  return null;
}
