// One streaming pass over a verifier log that yields both the parser's verdict and, with `detail`, what the
// verifier saw (insight). Text goes through the pasted-log pre-pass first (prefixes of test runners, docker
// compose, kubectl, go test; cilium/ebpf one-line errors), so the parser's fast path sees plain log lines.
import { TextDecoder } from 'node:util';
import type { VerifierLog } from '../model';
import { VerifierLogParser } from '../parser';
import { PastedLogFilter } from '../pasted';
import { unwrapLine } from '../unwrap';
import { analyzeBody, type AnalyzeOptions } from './analyze';
import { InsightCollector } from './collector';
import type { InsightReport } from './model';

const MAX_LINE = 64 * 1024;

export interface ReadResult {
  log: VerifierLog;
  /** With `detail`: what the verifier saw; null without detail, or when the log has no instruction trace. */
  insight: InsightReport | null;
}

export class DetailedLogReader {
  private readonly parser = new VerifierLogParser();
  private readonly filter = new PastedLogFilter();
  private readonly collector: InsightCollector | null;
  private decoder: TextDecoder | null = null;
  private partial = '';
  private ended: ReadResult | null = null;

  constructor(readonly options: { detail?: boolean } = {}) {
    this.collector = options.detail ? new InsightCollector() : null;
  }

  push(chunk: string | Uint8Array): void {
    if (this.ended) return;
    let text: string;
    if (chunk instanceof Uint8Array) {
      this.decoder ??= new TextDecoder('utf-8');
      text = this.decoder.decode(chunk, { stream: true });
    } else text = String(chunk);
    this.feed(this.filter.push(text));
  }

  /** The verdict, and the insight analysed with `analyze` (sources, file names, the object's line table). */
  end(analyze: Omit<AnalyzeOptions, 'error'> = {}): ReadResult {
    if (this.ended) return this.ended;
    if (this.decoder) this.feed(this.filter.push(this.decoder.decode()));
    this.feed(this.filter.end());
    if (this.partial) {
      this.collect(this.partial);
      this.partial = '';
    }
    const log = this.parser.end();
    let insight: InsightReport | null = null;
    if (this.collector) {
      try {
        const body = this.collector.result(log.error?.insn ?? null);
        if (body) insight = analyzeBody(body, { ...analyze, error: log.error ? { message: log.error.message, insn: log.error.insn } : null });
      } catch {
        insight = null;
      }
    }
    this.ended = { log, insight };
    return this.ended;
  }

  private feed(text: string): void {
    if (text.length === 0) return;
    this.parser.push(text);
    if (!this.collector) return;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) {
        const rest = text.slice(start);
        if (this.partial.length < MAX_LINE) this.partial += rest.slice(0, MAX_LINE - this.partial.length);
        return;
      }
      let line = text.slice(start, nl);
      if (this.partial) {
        line = this.partial + line;
        this.partial = '';
      }
      this.collect(line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);
      start = nl + 1;
    }
  }

  private collect(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const unwrapped = unwrapLine(line);
    if (!unwrapped) this.collector!.line(line);
    else for (const u of unwrapped) if (u.asLog) this.collector!.line(u.text);
  }
}

/** A whole log held in memory, read with detail. */
export function readDetailedLog(text: string, analyze: Omit<AnalyzeOptions, 'error'> = {}): ReadResult {
  const reader = new DetailedLogReader({ detail: true });
  reader.push(text);
  return reader.end(analyze);
}
