// One streaming pass over a verifier log that yields both the parser's verdict and, with `detail`, what the
// verifier saw (insight). Text goes through the pasted-log pre-pass first (prefixes of test runners, docker
// compose, kubectl, go test; cilium/ebpf one-line errors), so the parser's fast path sees plain log lines.
import { StringDecoder } from 'node:string_decoder';
import type { VerifierLog } from '../model';
import { VerifierLogParser } from '../parser';
import { PastedLogFilter } from '../pasted';
import { analyzeBody, type AnalyzeOptions } from './analyze';
import { InsightCollector } from './collector';
import type { InsightReport } from './model';

export interface ReadResult {
  log: VerifierLog;
  /** With `detail`: what the verifier saw; null without detail, or when the log has no instruction trace. */
  insight: InsightReport | null;
}

export class DetailedLogReader {
  private readonly parser: VerifierLogParser;
  private readonly filter = new PastedLogFilter();
  private readonly collector: InsightCollector | null;
  private decoder: StringDecoder | null = null;
  private ended: ReadResult | null = null;

  /** `fastPath: false` is for tests (see ParserOptions). */
  constructor(readonly options: { detail?: boolean; fastPath?: boolean } = {}) {
    this.collector = options.detail ? new InsightCollector() : null;
    // The collector gets its lines from the parser: one split and one classification of each line for both.
    this.parser = new VerifierLogParser({ fastPath: options.fastPath, sink: this.collector ?? undefined });
  }

  push(chunk: string | Uint8Array): void {
    if (this.ended) return;
    let text: string;
    if (chunk instanceof Uint8Array) {
      // Decoded once, here (StringDecoder: several times faster than TextDecoder).
      this.decoder ??= new StringDecoder('utf8');
      text = this.decoder.write(chunk);
    } else text = String(chunk);
    this.feed(this.filter.push(text));
  }

  /** The verdict, and the insight analysed with `analyze` (sources, file names, the object's line table). */
  end(analyze: Omit<AnalyzeOptions, 'error'> = {}): ReadResult {
    if (this.ended) return this.ended;
    if (this.decoder) this.feed(this.filter.push(this.decoder.end()));
    this.feed(this.filter.end());
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
    if (text.length > 0) this.parser.push(text);
  }
}

/** A whole log held in memory, read with detail. */
export function readDetailedLog(text: string, analyze: Omit<AnalyzeOptions, 'error'> = {}): ReadResult {
  const reader = new DetailedLogReader({ detail: true });
  reader.push(text);
  return reader.end(analyze);
}
