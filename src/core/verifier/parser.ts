// Streaming verifier-log parser. Feed it text in chunks of any size (split anywhere, even mid-character
// boundaries of lines); it keeps only what the model needs (bounded), runs in time linear in the input,
// and never throws: input it cannot make sense of yields verdict 'unknown'.
import type { LoaderFamily, VerifierError, VerifierLog } from './model';
import { unknownLog } from './model';
import { StringDecoder } from 'node:string_decoder';
import type { FramingEvent, LoaderLine } from './framing';
import { classifyFraming } from './framing';
import { FastLineScanner } from './fastLines';
import { classifyError } from './hints';
import { LogBody } from './logBody';
import { classifyCommonLine, classifyTraceLine, splitGlued, type TraceLine } from './traceLines';
import { unwrapLine } from './unwrap';

/** Longer lines are cut: no verifier line is that long, and an unterminated stream must stay bounded. */
const MAX_LINE = 64 * 1024;

const FAMILY_RANK: Record<LoaderFamily, number> = {
  raw: 0,
  libbpf: 1,
  libscap: 1,
  'cilium-ebpf': 2,
  bcc: 2,
  aya: 2,
  iproute2: 2,
  bpftrace: 2,
  veristat: 2,
  bpftool: 3,
};

/** Sees every kernel log line the parser sees, after the logging layers are removed (the insight collector). */
export interface LineSink {
  /** A line the fast path did not classify (trim and framing are the sink's own business). */
  line(text: string): void;
  /** A line the fast path classified: chunk[start, end), already trimmed, no framing. `c` is only valid during the call. */
  classified(c: TraceLine, chunk: string, start: number, end: number): void;
}

export interface ParserOptions {
  /** false: every line takes the full path (the fast path's tests compare the two). */
  fastPath?: boolean;
  /** Gets each line too, split and classified once for both. */
  sink?: LineSink;
}

export class VerifierLogParser {
  private partial = '';
  private decoder: StringDecoder | null = null;
  private readonly fast: FastLineScanner | null;
  private readonly sink: LineSink | null;
  private finished: VerifierLog | null = null;
  private broken = false;

  private body = new LogBody();
  /** The first log that ended in an error (else the latest with stats), kept when another log starts. */
  private committed: LogBody | null = null;
  private loader: LoaderFamily = 'raw';
  private truncated = false;
  /** Seen a line only the verifier prints: unknown lines may then be its error. */
  private evidence = false;
  private loaderFailed = false;
  private loaderMessage: string | null = null;
  private lastSpecific: string | null = null;
  private summary: { message: string; context: string[] } | null = null;
  private loaderSuccess = false;
  // Head-truncation check: does the text start mid-line (kernel >= 6.4 rotating log kept only the tail)?
  private headState: 'start' | 'fragment' | 'done' = 'start';

  constructor(options: ParserOptions = {}) {
    this.fast = options.fastPath === false ? null : new FastLineScanner();
    this.sink = options.sink ?? null;
  }

  /** Bytes are decoded as UTF-8 across chunk boundaries (a character may be split between chunks). */
  push(chunk: string | Uint8Array): void {
    if (this.finished || this.broken) return;
    try {
      if (chunk instanceof Uint8Array) {
        // StringDecoder: several times faster than TextDecoder on big logs, same replacement of invalid bytes.
        this.decoder ??= new StringDecoder('utf8');
        this.consume(this.decoder.write(chunk));
      } else {
        this.consume(String(chunk));
      }
    } catch {
      this.broken = true;
    }
  }

  end(): VerifierLog {
    if (this.finished) return this.finished;
    let result: VerifierLog;
    try {
      result = this.broken ? unknownLog() : this.finish();
    } catch {
      result = unknownLog();
    }
    this.finished = result;
    return result;
  }

  private consume(chunk: string): void {
    let start = 0;
    const fast = this.fast;
    fast?.reset(chunk);
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) {
        if (start < chunk.length) this.appendPartial(chunk.slice(start));
        return;
      }
      if (this.partial.length > 0) {
        this.appendPartial(chunk.slice(start, nl));
        const line = this.partial;
        this.partial = '';
        this.rawLine(line);
      } else if (nl > start) {
        // Blank lines do nothing; the bulk of the rest is classified in place, without cutting out the line first.
        const c = fast !== null && nl - start <= MAX_LINE ? fast.classify(start, nl) : null;
        if (c !== null) {
          this.traced(c, '');
          this.sink?.classified(c, chunk, start, nl);
        } else this.rawLine(nl - start > MAX_LINE ? chunk.slice(start, start + MAX_LINE) : chunk.slice(start, nl));
      }
      start = nl + 1;
    }
  }

  private appendPartial(piece: string): void {
    const room = MAX_LINE - this.partial.length;
    if (room > 0) this.partial += piece.length > room ? piece.slice(0, room) : piece;
  }

  private rawLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const unwrapped = unwrapLine(line);
    if (!unwrapped) {
      this.line(line, true);
      this.sink?.line(line);
      return;
    }
    for (const u of unwrapped) {
      if (u.cut) this.truncated = true;
      if (u.logrus) this.setFamily('cilium-ebpf');
      this.line(u.text, u.asLog);
      if (u.asLog) this.sink?.line(u.text);
    }
  }

  private line(text: string, asLog: boolean): void {
    const t = text.trim();
    if (t.length === 0) return;
    // Fast path: instruction, source and state lines (nearly all of a big log) are neither framing nor glued, and
    // are classified in one scan.
    if (asLog) {
      const common = classifyCommonLine(t);
      if (common) {
        this.traced(common, t);
        return;
      }
    }
    const framing = classifyFraming(t);
    if (framing) {
      // Loader output before the log: whatever came first was not a cut-off kernel line.
      this.headState = 'done';
      this.framing(framing, t);
      return;
    }
    if (!asLog) return;
    const parts = splitGlued(t);
    if (parts) for (const part of parts) this.trace(part);
    else this.trace(t);
  }

  private framing(f: FramingEvent, text: string): void {
    if (f.type !== 'summary' && f.failure) this.noteFailure(f.failure, text);
    switch (f.type) {
      case 'bodyStart':
        this.setFamily(f.family);
        this.startBody();
        if (f.success) this.loaderSuccess = true;
        if (f.rest) for (const part of splitGlued(f.rest) ?? [f.rest]) this.trace(part);
        return;
      case 'bodyEnd':
        if (f.family) this.setFamily(f.family);
        this.body.close(this.accept);
        return;
      case 'truncated':
        if (f.family) this.setFamily(f.family);
        this.truncated = true;
        return;
      case 'summary':
        this.setFamily(f.family);
        this.loaderFailed = true;
        this.summary ??= { message: f.message, context: f.context };
        if (f.truncated) this.truncated = true;
        return;
      case 'loader':
        this.setFamily(f.family);
        return;
    }
  }

  private trace(line: string): void {
    this.traced(classifyTraceLine(line), line);
  }

  /** `line` is only read for the kinds the fast path never returns ('context', 'other'). */
  private traced(c: TraceLine, line: string): void {
    switch (c.kind) {
      case 'insn':
        this.checkHead(c.idx);
        this.evidence = true;
        this.openBody().insn(c.idx, c.state, c.jumpState);
        return;
      case 'state':
        this.checkHead(c.idx);
        this.evidence = true;
        this.openBody().state(c.state, c.from);
        return;
      case 'linfo':
        this.checkHead(null);
        this.evidence = true;
        this.openBody().linfo(c);
        return;
      case 'stats':
        this.checkHead(null);
        this.evidence = true;
        this.body.addStats(c.processed, c.timeUsec, c.stackDepth);
        this.body.close(this.accept);
        return;
      case 'context':
        this.checkHead(null);
        this.body.candidate(line, true);
        return;
      case 'elision':
        this.truncated = true;
        return;
      case 'noise':
        this.checkHead(null);
        this.evidence = true;
        return;
      case 'blank':
        return;
      case 'other':
        if (this.headState === 'start') this.headState = 'fragment';
        else if (this.headState === 'fragment') this.headState = 'done';
        this.body.candidate(line, false);
        return;
    }
  }

  /** The body a trace step goes to: a new one after a stats line or end marker closed the last. */
  private openBody(): LogBody {
    return this.body.closed ? this.startBody() : this.body;
  }

  /** A log that starts with a fragment, or with a step other than insn 0, lost its head. */
  private checkHead(idx: number | null): void {
    if (this.headState === 'done') return;
    if (idx !== null && idx !== 0) this.truncated = true;
    this.headState = 'done';
  }

  private readonly accept = (message: string): boolean => this.evidence || classifyError(message) !== null;

  private startBody(): LogBody {
    const old = this.body;
    old.close(this.accept);
    if (old.hasContent() && (!this.committed || (!this.committed.error && (old.error || old.stats)))) {
      this.committed = old;
    }
    this.body = new LogBody();
    return this.body;
  }

  private noteFailure(failure: LoaderLine, text: string): void {
    if (!failure.fatal) {
      if (this.loaderMessage === null) this.lastSpecific = text;
      return;
    }
    this.loaderFailed = true;
    this.loaderMessage ??= failure.rank === 2 ? text : (this.lastSpecific ?? text);
  }

  private setFamily(family: LoaderFamily): void {
    if (FAMILY_RANK[family] > FAMILY_RANK[this.loader]) this.loader = family;
  }

  private finish(): VerifierLog {
    if (this.decoder) this.consume(this.decoder.end());
    if (this.partial.length > 0) {
      const last = this.partial;
      this.partial = '';
      this.rawLine(last);
    }
    this.body.close(this.accept);
    const current = this.body;
    let chosen = current;
    if (this.committed && (this.committed.error || (!current.error && !current.stats))) chosen = this.committed;

    let error: VerifierError | null = chosen.error;
    if (!error && this.summary) error = messageOnly(this.summary.message, this.summary.context);
    if (!error && this.loaderFailed) error = messageOnly(this.loaderMessage ?? 'the program failed to load', []);
    const verdict = error ? 'rejected' : chosen.stats || this.loaderSuccess ? 'accepted' : 'unknown';
    return {
      verdict,
      error,
      path: chosen.error ? chosen.path.path() : [],
      stats: chosen.stats,
      truncated: this.truncated,
      loader: this.loader,
    };
  }
}

function messageOnly(message: string, context: string[]): VerifierError {
  return { message, context, insn: null, file: null, line: null, sourceText: null, registers: null };
}

/** Parses a whole log held in memory (same result as streaming it). */
export function parseVerifierLog(text: string, options: ParserOptions = {}): VerifierLog {
  const parser = new VerifierLogParser(options);
  parser.push(typeof text === 'string' ? text : String(text));
  return parser.end();
}
