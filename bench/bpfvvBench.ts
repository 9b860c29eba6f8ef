// bpfvv (libbpf/bpfvv, the web app issue 15 compares with) side by side on the heat map's log. bpfvv is not on the
// npm registry (`npm view bpfvv`: 404, checked 2026-11-30), so the bench uses a checkout named by BPFVV_DIR: a small
// entry (read the file, split it into lines, processRawLines, as bpfvv's own cli does) is bundled from the checkout
// with esbuild into the work directory and run in a fresh process. Nothing of bpfvv is kept in this repository.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { runChild } from './childProcess';

export const BPFVV_MISSING = 'bpfvv: not on npm; set BPFVV_DIR=<checkout>';

export interface BpfvvPass {
  /** Whole process (start-up, read, split, processRawLines), timed from outside. */
  ms: number;
  /** processRawLines with the read and split, as the entry times it. */
  innerMs: number;
  maxRssMb: number;
  lines: number;
}

/** bpfvv's processRawLines on `log`, or null without BPFVV_DIR. */
export async function bpfvvPass(work: string, log: string): Promise<BpfvvPass | null> {
  const dir = process.env.BPFVV_DIR;
  if (!dir) return null;
  const analyzer = path.resolve(dir, 'src', 'analyzer.ts');
  if (!fs.existsSync(analyzer)) throw new Error(`BPFVV_DIR=${dir}: no src/analyzer.ts (a libbpf/bpfvv checkout?)`);
  const entry = path.join(work, 'bpfvv-entry.ts');
  fs.writeFileSync(
    entry,
    [
      "import * as fs from 'node:fs';",
      `import { processRawLines } from ${JSON.stringify(analyzer.slice(0, -'.ts'.length))};`,
      'const started = process.hrtime.bigint();',
      "const state = processRawLines(fs.readFileSync(process.argv[2]!, 'utf8').split('\\n'));",
      'const innerMs = Number(process.hrtime.bigint() - started) / 1e6;',
      'console.log(JSON.stringify({ innerMs, lines: state.lines.length }));',
      '',
    ].join('\n'),
  );
  const bundle = path.join(work, 'bpfvv.js');
  // The analyser does not need the React UI; should an import reach it, it stays a (failing) require.
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error', external: ['react', 'react-dom', 'react-window'] });
  // bpfvv keeps every line's parse and state: gigabytes on big logs.
  const run = await runChild([process.execPath, '--max-old-space-size=16384', bundle, log]);
  if (run.code !== 0) throw new Error(`bpfvv exited ${run.code}: ${run.stderr.slice(-2000)}`);
  const out = JSON.parse(run.stdout) as { innerMs: number; lines: number };
  return { ms: run.ms, innerMs: out.innerMs, maxRssMb: run.maxRssMb ?? NaN, lines: out.lines };
}
