// What the editor's heat map, hovers and Verifier Path view are made from: a verifier log file read with detail,
// streamed (a level-2 log can be hundreds of MB: never one string), then analysed against the header and the
// sources next to it. The bench times this same function (bench/heatMapBench.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DetailedLogReader, type ReadResult } from './reader';

/** Bytes per read: fewer, larger reads cost less per byte than a stream's 64 KiB default. */
const CHUNK_BYTES = 256 * 1024;

export interface InsightFileOptions {
  /** Source files the log's file names resolve to (by base name) and whose text plain `; source` lines match. */
  sources: readonly string[];
  /** Checked once the log is read: true drops the result (a newer log replaced this one meanwhile). */
  abandoned?: () => boolean;
}

/** The log's verdict and insight, or null when `abandoned()` said so. */
export async function readInsightFile(logFile: string, options: InsightFileOptions): Promise<ReadResult | null> {
  const reader = new DetailedLogReader({ detail: true });
  for await (const chunk of fs.createReadStream(logFile, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) reader.push(chunk);
  if (options.abandoned?.()) return null;
  const byBase = new Map(options.sources.map((f) => [path.basename(f), f]));
  return reader.end({
    resolveFile: (name) => byBase.get(path.basename(name)) ?? name,
    sources: options.sources.filter((f) => fs.existsSync(f)).map((f) => ({ name: f, content: fs.readFileSync(f, 'utf8') })),
  });
}
