// One heat map in a fresh process, made as the editor makes it (readInsightFile): the log streamed from disk,
// parsed with detail and analysed against the sources. Prints one JSON line (heatMapBench.ts reads it).
import { readInsightFile } from '../src/core/verifier/insight/fileReader';

export interface HeatMapPass {
  /** From the first read to the finished report. */
  ms: number;
  verdict: string;
  /** Source lines with a count (what the editor decorates). */
  lines: number;
  hottest: { file: string; line: number; processed: number } | null;
  insnsSeen: number;
}

async function pass(logFile: string, sources: string[]): Promise<HeatMapPass> {
  const started = process.hrtime.bigint();
  const read = await readInsightFile(logFile, { sources });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const insight = read?.insight ?? null;
  const top = insight?.lines[0];
  return {
    ms,
    verdict: read?.log.verdict ?? 'unknown',
    lines: insight?.lines.length ?? 0,
    hottest: top ? { file: top.file, line: top.line, processed: top.processed } : null,
    insnsSeen: insight?.insnsSeen ?? 0,
  };
}

if (require.main === module) {
  const [logFile, ...sources] = process.argv.slice(2);
  if (!logFile) {
    console.error('usage: heatMapWorker.js LOG [SOURCE...]');
    process.exit(2);
  }
  pass(logFile, sources).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
