// Pre-pass for verifier logs as users paste them, run before the parser so its fast path only ever sees log lines:
//  - a prefix on every line, detected on the first lines and stripped: a test runner's line numbers (`12: `), docker
//    compose (`cilium-agent-1  | `), `kubectl logs --timestamps` (RFC 3339). journalctl and logrus wrappers are
//    left to unwrap.ts, which the parser applies per line;
//  - cilium/ebpf's one-line error string (`load program: permission denied: 112: (61) r1 = *(u32 *)(r2 +0): R2
//    invalid mem access 'scalar' (12 line(s) omitted)`), plain or inside a logrus field: rewritten as the log lines it
//    summarises (the failing instruction, then the error), unless a fuller log of it follows (go test's
//    `Verifier error tail:`), which has the line info.
// Streaming, bounded (one partial line and the head lines until the form is known), never throws; text it does not
// recognise passes through unchanged.
import { parseCiliumSummary } from './ciliumSummary';
import type { VerifierLog } from './model';
import { VerifierLogParser } from './parser';
import { unwrapLine } from './unwrap';

/** Lines looked at to detect a prefix. */
const HEAD_LINES = 32;
const HEAD_BYTES = 64 * 1024;
/** A line longer than this without a newline is passed on as it is (the parser cuts it). */
const MAX_CARRY = 1024 * 1024;

interface PrefixForm {
  name: string;
  re: RegExp;
}

const LINE_NUMBER: PrefixForm = { name: 'line-number', re: /^\s*(\d+): ?/ };
const COMPOSE: PrefixForm = { name: 'docker-compose', re: /^[A-Za-z0-9][\w.-]*\s+\| ?/ };
const KUBECTL: PrefixForm = { name: 'kubectl-timestamps', re: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) / };
const FORMS = [KUBECTL, COMPOSE, LINE_NUMBER];
// What the verifier's own numbered lines continue with: an opcode, a state, `safe`. A log whose "prefixes" are
// followed by these is a raw log, not a numbered paste.
const OWN_NUMBERED = /^(?:\([0-9a-f]{2}\) |<[^>]*>|(?:frame\d+: )?(?:R\d+|fp-?\d+)[_a-z]*=|safe$)/;
// journalctl -o short-iso looks like a kubectl timestamp followed by `host prog[pid]: `: unwrap.ts handles it.
const JOURNALD_REST = /^\S+ [^\s[:]+(?:\[\d+\])?: /;

const SUMMARY = /(?:^|: )load program: /;
const OMITTED = /\s*\((?:truncated(?:, \d+ line\(s\) omitted)?|\d+ line\(s\) omitted)\)/;
const LEADING_INSN = /^(\d+): (?:\([0-9a-f]{2}\)|<[^>]*>) /;
const ERRNO = /^([a-z][a-z ]*?): /;
// A fuller log of the error follows the one-line form: its own lines say more (line info, states).
const FULL_LOG = /Verifier error tail:|load program: [a-z][a-z ]*:$|^\s*\d+: \([0-9a-f]{2}\) |-- BEGIN PROG LOAD LOG --/;

/** The log lines a cilium/ebpf one-line error stands for, or null when `text` holds none. */
export function expandCiliumOneLine(text: string): string[] | null {
  const m = SUMMARY.exec(text);
  if (!m) return null;
  let rest = text.slice(m.index + m[0].length);
  // The omission marker ends the error string: what follows (`(BTF disabled)`, other fields) is not the log.
  const omitted = OMITTED.exec(rest);
  let marker: string | null = null;
  if (omitted) {
    marker = omitted[0].trim();
    rest = rest.slice(0, omitted.index);
  }
  rest = rest.replace(/\s*\(BTF disabled\)\s*$/, '').trim();
  const errno = ERRNO.exec(rest);
  if (!errno) return null;
  rest = rest.slice(errno[0].length).trim();
  if (rest === '' || rest.endsWith(':')) return null;
  const out = [`load program: ${errno[1]}:`];
  if (marker) out.push(marker);
  const insn = LEADING_INSN.exec(rest);
  if (insn) {
    const end = rest.indexOf(': ', insn[0].length);
    if (end < 0) return null;
    out.push(rest.slice(0, end));
    rest = rest.slice(end + 2).trim();
  }
  // "<error>: <explanation>" is split as the kernel printed it (ciliumSummary knows the explanations).
  const s = parseCiliumSummary(`load program: ${errno[1]}: ${rest}`);
  out.push(s ? s.message : rest, ...(s?.context ?? []));
  return out;
}

export class PastedLogFilter {
  private carry = '';
  /** Complete lines held until the form is known. */
  private head: string[] | null = [];
  private headBytes = 0;
  private prefix: PrefixForm | null = null;
  /** The expansion of the first one-line error, emitted at the end unless a fuller log follows it. */
  private pendingOneLine: string[] | null = null;
  private broken = false;

  /** The prefix form detected (for tests and reports), or null. */
  get form(): string | null {
    return this.prefix?.name ?? null;
  }

  /** Text in (any chunking), text out (whole lines, possibly rewritten). */
  push(chunk: string): string {
    if (this.broken) return chunk;
    try {
      return this.pushUnsafe(chunk);
    } catch {
      this.broken = true;
      return chunk;
    }
  }

  end(): string {
    if (this.broken) return '';
    try {
      let out = '';
      if (this.carry) {
        const last = this.carry;
        this.carry = '';
        if (this.head) this.head.push(last);
        else out += this.lines(`${last}\n`);
      }
      if (this.head) out += this.decide();
      if (this.pendingOneLine) out += `${this.pendingOneLine.join('\n')}\n`;
      this.pendingOneLine = null;
      return out;
    } catch {
      this.broken = true;
      return '';
    }
  }

  private pushUnsafe(chunk: string): string {
    const text = this.carry + chunk;
    const lastNl = text.lastIndexOf('\n');
    if (lastNl < 0) {
      this.carry = text;
      if (this.carry.length > MAX_CARRY) {
        // No line end in sight: pass it on as it is.
        const out = this.carry;
        this.carry = '';
        return this.head ? this.flushHead() + out : out;
      }
      return '';
    }
    this.carry = text.slice(lastNl + 1);
    const complete = text.slice(0, lastNl + 1);
    if (this.head) {
      for (const line of complete.slice(0, -1).split('\n')) {
        this.head.push(line);
        this.headBytes += line.length + 1;
      }
      if (this.head.filter((l) => l.trim() !== '').length >= HEAD_LINES || this.headBytes >= HEAD_BYTES) return this.decide();
      return '';
    }
    return this.lines(complete);
  }

  /** Decides the form from the head lines, then passes them through. */
  private decide(): string {
    const head = this.head ?? [];
    this.head = null;
    this.prefix = detectPrefix(head);
    return head.length ? this.lines(`${head.join('\n')}\n`) : '';
  }

  private flushHead(): string {
    return this.decide();
  }

  /** Whole lines (ending in '\n'): the common case, no prefix and no one-line error, returns them unchanged. */
  private lines(text: string): string {
    if (!this.prefix && !text.includes('load program: ') && !(this.pendingOneLine && FULL_LOG.test(text))) return text;
    const out: string[] = [];
    const lines = text.slice(0, -1).split('\n');
    for (const raw of lines) {
      const cr = raw.endsWith('\r');
      let line = cr ? raw.slice(0, -1) : raw;
      if (this.prefix) {
        const m = this.prefix.re.exec(line);
        if (m) line = line.slice(m[0].length);
      }
      if (this.pendingOneLine && FULL_LOG.test(line)) this.pendingOneLine = null;
      if (line.includes('load program: ')) this.oneLine(line);
      out.push(line);
    }
    return `${out.join('\n')}\n`;
  }

  /** A line with a cilium/ebpf error string, plain or in logrus fields: remember what it expands to. */
  private oneLine(line: string): void {
    if (this.pendingOneLine) return;
    const values = line.includes('level=') ? (unwrapLine(line)?.map((u) => u.text) ?? [line]) : [line];
    for (const v of values) {
      if (v.includes('\n') || !v.includes('load program: ')) continue;
      const expanded = expandCiliumOneLine(v);
      if (expanded && expanded.length > 2) {
        this.pendingOneLine = expanded;
        return;
      }
    }
  }
}

/** The prefix every (or nearly every) head line carries, or null. */
export function detectPrefix(head: readonly string[]): PrefixForm | null {
  const lines = head.filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  for (const form of FORMS) {
    const matches = lines.map((l) => form.re.exec(l));
    const hit = matches.filter((m) => m !== null).length;
    if (hit < Math.max(1, Math.ceil(lines.length * 0.9))) continue;
    const rests = lines.map((l, i) => (matches[i] ? l.slice(matches[i]![0].length) : l));
    if (form === KUBECTL && rests.filter((r) => JOURNALD_REST.test(r)).length >= hit * 0.9) continue;
    if (form === LINE_NUMBER) {
      // A test runner counts its lines: consecutive numbers, followed by whole log lines (not opcodes or states).
      if (lines.length < 2) continue;
      let consecutive = 0;
      const nums = head.map((l) => LINE_NUMBER.re.exec(l)?.[1]).filter((n): n is string => n !== undefined).map(Number);
      for (let i = 1; i < nums.length; i++) if (nums[i] === nums[i - 1]! + 1) consecutive++;
      if (consecutive < (nums.length - 1) * 0.9) continue;
      if (rests.filter((r) => OWN_NUMBERED.test(r)).length > rests.length * 0.2) continue;
    }
    return form;
  }
  return null;
}

/** Parses a whole pasted log held in memory: the pre-pass, then the parser (same result as streaming both). */
export function parsePastedLog(text: string): VerifierLog {
  const filter = new PastedLogFilter();
  const parser = new VerifierLogParser();
  parser.push(filter.push(typeof text === 'string' ? text : String(text)));
  parser.push(filter.end());
  return parser.end();
}
