// One pass over a log file in a fresh process (parseBench.ts measures its peak RSS from outside: getrusage's maxRSS
// here would start from the parent's RSS at fork): `parse` streams the file through
// VerifierLogParser, `split` only splits it into lines (the floor any line-oriented reader pays). Both read the
// file in 64 KiB chunks. Prints one JSON line: { mode, bytes, lines?, ms, maxRssMb, peakHeapMb, verdict? }.
import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { VerifierLogParser } from '../src/core/verifier/parser';

export interface PassResult {
  mode: 'parse' | 'split';
  bytes: number;
  ms: number;
  maxRssMb: number;
  peakHeapMb: number;
  lines?: number;
  verdict?: string;
  insnsProcessed?: number | null;
}

const CHUNK = 64 * 1024;

async function pass(mode: 'parse' | 'split', file: string): Promise<PassResult> {
  let bytes = 0;
  let chunks = 0;
  let peakHeap = process.memoryUsage().heapUsed;
  const sample = () => {
    if (++chunks % 64 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  };
  const started = process.hrtime.bigint();
  const stream = fs.createReadStream(file, { highWaterMark: CHUNK });
  let extra: Partial<PassResult> = {};
  if (mode === 'parse') {
    const parser = new VerifierLogParser();
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      parser.push(chunk as Buffer);
      sample();
    }
    const log = parser.end();
    extra = { verdict: log.verdict, insnsProcessed: log.stats?.insnsProcessed ?? null };
  } else {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let lines = 0;
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      const parts = (rest + decoder.write(chunk as Buffer)).split('\n');
      rest = parts.pop() ?? '';
      lines += parts.length;
      sample();
    }
    rest += decoder.end();
    if (rest !== '') lines++;
    extra = { lines };
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  return { mode, bytes, ms, maxRssMb: process.resourceUsage().maxRSS / 1024, peakHeapMb: peakHeap / 1024 / 1024, ...extra };
}

if (require.main === module) {
  const [mode, file] = process.argv.slice(2);
  if ((mode !== 'parse' && mode !== 'split') || !file) {
    console.error('usage: parseWorker.js parse|split FILE');
    process.exit(2);
  }
  pass(mode, file).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
