// The structure of a BPF verifier log that the editor features need: the `@ file:line` references of line-info
// comments, and the blocks worth folding. Pure functions over strings, with no vscode import, so that they run under
// plain mocha (test/unit/verifierLog) and stay linear in the size of the log.

/** A `file:line` reference inside one line of the log. Columns are zero-based, `end` is exclusive. */
export interface SourceRefSpan {
  /** Column of the first character of the file name. */
  start: number;
  /** Column just after the last digit of the line number. */
  end: number;
  /** The file name as the log prints it: a basename, a relative or an absolute path. */
  file: string;
  /** One-based source line (never 0: line 0 means "compiler-generated, no line"). */
  line: number;
}

const LINE_REF_TAIL = /^(.*?):(\d+)\s*$/;
const AT = ' @ ';

/**
 * The `@ file:line` reference of a line-info comment (`; <source text> @ file.c:16`, kernel 6.8+), or null.
 * Anchors on the last " @ " because the source text (and CO-RE specs such as `0:1 @ offset 8`) can contain `@` and
 * `:` too, and requires the rest of the line to be `file:<digits>`. Line 0 (`;  @ f.c:0`) and an empty file name
 * (cilium/ebpf's `; instruction poisoned by CO-RE @ :0`) are not references.
 */
export function findSourceRef(lineText: string): SourceRefSpan | null {
  let semi = 0;
  while (semi < lineText.length && (lineText[semi] === ' ' || lineText[semi] === '\t')) semi++;
  if (lineText[semi] !== ';') return null;
  const at = lineText.lastIndexOf(AT);
  if (at < semi) return null;
  const tailStart = at + AT.length;
  const match = LINE_REF_TAIL.exec(lineText.slice(tailStart));
  if (!match) return null;
  const file = match[1] ?? '';
  const digits = match[2] ?? '';
  const line = Number(digits);
  if (file.trim() === '' || !Number.isSafeInteger(line) || line <= 0) return null;
  // The file name may be preceded by extra blanks; the span starts at its first visible character.
  let start = tailStart;
  while (lineText[start] === ' ' || lineText[start] === '\t') start++;
  const fileEnd = tailStart + file.length;
  return { start, end: fileEnd + 1 + digits.length, file: file.trim(), line };
}

/** Every `@ file:line` reference in a list of lines, with its zero-based line index. */
export function findSourceRefs(lines: ArrayLike<string>): (SourceRefSpan & { lineIndex: number })[] {
  const refs: (SourceRefSpan & { lineIndex: number })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? '';
    // Cheap pre-check: only comment lines containing " @ " can hold a reference.
    if (!text.includes(AT)) continue;
    const ref = findSourceRef(text);
    if (ref) refs.push({ ...ref, lineIndex: i });
  }
  return refs;
}

export type FoldKind = 'source' | 'branch' | 'liveRegs' | 'libbpf' | 'loadLog';

/** A folding range over zero-based line indexes, `start < end`; folding hides lines start+1..end. */
export interface FoldRange {
  start: number;
  end: number;
  kind: FoldKind;
}

export interface FoldingOptions {
  /** Stop after this many ranges (VS Code itself keeps at most 5000). Default 5000. */
  maxRanges?: number;
}

export const DEFAULT_MAX_FOLDING_RANGES = 5000;

const LIBBPF = /^libbpf:/;
const BEGIN_LOG = /-- BEGIN (?:PROG LOAD |DUMP )?LOG -/;
const END_LOG = /-- END (?:PROG LOAD )?LOG -/;
const LIVE_REGS_HEADER = /^\s*Live regs before insn:/;
const LIVE_REGS_ROW = /^\s+\d+: [.0-9]+ /;
const BRANCH = /^\s*from \d+ to \d+:/;
const SOURCE_COMMENT = /^\s*;/;
/** Lines that belong to the execution trace: instructions and state lines (`12: …`), comments, indented state. */
const TRACE = /^(?:\s*\d+:|\s*;|\s)/;
/** Lines that end every open block: stats, framing, loader and veristat headers, subprogram validation. */
const BOUNDARY =
  /^(?:\s*$|processed \d+ insns?\b|verification time \d|stack depth [\d+]|PROCESSING |Validating \S+ func#|func#\d+ @|libbpf:|-- (?:BEGIN|END) )/;

/**
 * Folding ranges of a verifier log, sorted by start line and properly nested:
 *  - `source`: a line-info comment (`; text @ file:line`) and the trace lines under it, up to the next comment;
 *  - `branch`: a `from X to Y:` line and the trace of that branch, up to the next branch;
 *  - `liveRegs`: the level-2 `Live regs before insn:` table (6.18+);
 *  - `libbpf`: a run of libbpf debug lines;
 *  - `loadLog`: libbpf's `-- BEGIN PROG LOAD LOG --` … `-- END PROG LOAD LOG --` framing.
 * `source` and `branch` blocks end at a blank line, a stats line or framing, and are trimmed to their last trace
 * line, so the error message after the failing instruction stays visible when they are folded. One pass, O(lines).
 */
export function computeFoldingRanges(lines: ArrayLike<string>, options: FoldingOptions = {}): FoldRange[] {
  const maxRanges = Math.max(0, options.maxRanges ?? DEFAULT_MAX_FOLDING_RANGES);
  const ranges: FoldRange[] = [];
  const add = (start: number, end: number, kind: FoldKind) => {
    if (end > start && ranges.length < maxRanges) ranges.push({ start, end, kind });
  };

  let source: { start: number; last: number } | null = null;
  let branch: { start: number; last: number } | null = null;
  let liveRegs: { start: number; last: number } | null = null;
  let libbpfRunStart = -1;
  let loadLogStart = -1;

  const closeSource = () => {
    if (source) add(source.start, source.last, 'source');
    source = null;
  };
  const closeBranch = () => {
    closeSource();
    if (branch) add(branch.start, branch.last, 'branch');
    branch = null;
  };
  const closeLiveRegs = () => {
    if (liveRegs) add(liveRegs.start, liveRegs.last, 'liveRegs');
    liveRegs = null;
  };
  const closeLibbpf = (before: number) => {
    if (libbpfRunStart >= 0) add(libbpfRunStart, before - 1, 'libbpf');
    libbpfRunStart = -1;
  };

  const count = lines.length;
  for (let i = 0; i < count && ranges.length < maxRanges; i++) {
    const text = lines[i] ?? '';

    if (liveRegs) {
      if (LIVE_REGS_ROW.test(text)) {
        liveRegs.last = i;
        continue;
      }
      closeLiveRegs();
    }

    const isBegin = BEGIN_LOG.test(text);
    const isEnd = !isBegin && END_LOG.test(text);
    if (LIBBPF.test(text) && !isBegin && !isEnd) {
      if (libbpfRunStart < 0) libbpfRunStart = i;
    } else {
      closeLibbpf(i);
    }

    if (isBegin || isEnd || BOUNDARY.test(text)) {
      closeBranch();
      if (isBegin) {
        loadLogStart = i;
      } else if (isEnd && loadLogStart >= 0) {
        // Fold the whole log, keeping the END marker visible under the BEGIN one.
        add(loadLogStart, i - 1, 'loadLog');
        loadLogStart = -1;
      }
      continue;
    }
    if (LIVE_REGS_HEADER.test(text)) {
      closeBranch();
      liveRegs = { start: i, last: i };
      continue;
    }
    if (BRANCH.test(text)) {
      closeBranch();
      branch = { start: i, last: i };
      continue;
    }
    if (SOURCE_COMMENT.test(text)) {
      closeSource();
      source = { start: i, last: i };
      if (branch) branch.last = i;
      continue;
    }
    if (TRACE.test(text)) {
      if (source) source.last = i;
      if (branch) branch.last = i;
    }
  }
  closeLiveRegs();
  closeBranch();
  closeLibbpf(count);
  if (loadLogStart >= 0) {
    // A BEGIN marker without its END (a truncated paste): fold to the last non-blank line.
    let last = count - 1;
    while (last > loadLogStart && (lines[last] ?? '').trim() === '') last--;
    add(loadLogStart, last, 'loadLog');
  }

  // Ranges close innermost-first; VS Code wants them by start line (outer before inner on the same line).
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  return ranges;
}

/** Splits a document's text into lines the way editors count them (\n, \r\n or \r). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}
