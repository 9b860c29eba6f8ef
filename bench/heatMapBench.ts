// Heat map of a 100 MB level-2 log (issue 15: on screen in <= 3 s). The log is the slow fixture's (parseBench.ts
// generates it), cut to 100 MB at line ends: its head and its last 64 KiB (the error and the statistics). Each pass
// is a fresh process timed from outside, start-up included, doing what the editor does (heatMapWorker.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BPFVV_MISSING, bpfvvPass, type BpfvvPass } from './bpfvvBench';
import { median, runChild } from './childProcess';
import type { HeatMapPass } from './heatMapWorker';
import type { Row } from './table';

export const HEAT_MAP_BYTES = 100 * 1000 * 1000;
/** Issue 15's budget for a 100 MB log. */
export const HEAT_MAP_BUDGET_MS = 3000;
const TAIL_BYTES = 64 * 1024;
const PASSES = 3;

export interface HeatMapBenchResult {
  fileBytes: number;
  passes: number;
  /** Median whole process (start-up, read, parse, analyse), and the median of the worker's own timing. */
  ms: number;
  innerMs: number;
  maxRssMb: number;
  last: HeatMapPass;
  /** bpfvv's parser on the same log (BPFVV_DIR), else null. */
  bpfvv: BpfvvPass | null;
}

/** `src` cut to about `bytes` at line ends, keeping its last TAIL_BYTES; returns the size written. */
export function cutLog(src: string, dest: string, bytes: number): number {
  const size = fs.statSync(src).size;
  if (size <= bytes) {
    fs.copyFileSync(src, dest);
    return size;
  }
  const fd = fs.openSync(src, 'r');
  const out = fs.openSync(dest, 'w');
  try {
    const tailRead = Buffer.alloc(TAIL_BYTES);
    fs.readSync(fd, tailRead, 0, TAIL_BYTES, size - TAIL_BYTES);
    const tail = tailRead.subarray(tailRead.indexOf(10) + 1);
    const look = Buffer.alloc(TAIL_BYTES);
    const lookAt = bytes - tail.length - TAIL_BYTES;
    fs.readSync(fd, look, 0, TAIL_BYTES, lookAt);
    const headEnd = lookAt + look.lastIndexOf(10) + 1;
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < headEnd; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, headEnd - pos), pos);
      if (n <= 0) break;
      fs.writeSync(out, buf, 0, n);
      pos += n;
    }
    fs.writeSync(out, tail);
  } finally {
    fs.closeSync(out);
    fs.closeSync(fd);
  }
  return fs.statSync(dest).size;
}

export async function heatMapBench(work: string, levelTwoLog: string, sources: readonly string[]): Promise<HeatMapBenchResult> {
  const log = path.join(work, 'heat-map.log');
  const fileBytes = cutLog(levelTwoLog, log, HEAT_MAP_BYTES);
  const worker = path.join(__dirname, 'heatMapWorker.js');
  const walls: number[] = [];
  const inner: number[] = [];
  let maxRssMb = 0;
  let last: HeatMapPass | null = null;
  let bpfvv: BpfvvPass | null = null;
  try {
    for (let i = 0; i < PASSES; i++) {
      const run = await runChild([process.execPath, worker, log, ...sources]);
      if (run.code !== 0) throw new Error(`heat map worker exited ${run.code}: ${run.stderr}`);
      last = JSON.parse(run.stdout) as HeatMapPass;
      if (last.lines === 0) throw new Error(`no heat map from ${log}: ${run.stdout}`);
      walls.push(run.ms);
      inner.push(last.ms);
      maxRssMb = Math.max(maxRssMb, run.maxRssMb ?? NaN);
    }
    bpfvv = await bpfvvPass(work, log);
    if (!bpfvv) console.error(BPFVV_MISSING);
  } finally {
    fs.rmSync(log, { force: true });
  }
  return { fileBytes, passes: PASSES, ms: median(walls), innerMs: median(inner), maxRssMb, last: last!, bpfvv };
}

export function heatMapRows(heat: HeatMapBenchResult): Row[] {
  const mb = (heat.fileBytes / 1e6).toFixed(0);
  const rows: Row[] = [
    { name: `heat map, ${mb} MB level-2 log, whole process (ms)`, ours: heat.ms, baseline: HEAT_MAP_BUDGET_MS, baselineName: 'budget, issue 15', ratio: heat.ms / HEAT_MAP_BUDGET_MS },
  ];
  const b = heat.bpfvv;
  if (!b) rows.push({ name: `heat map vs bpfvv, ${mb} MB log (ms)`, ours: heat.ms, baseline: 'n/a', baselineName: BPFVV_MISSING });
  else {
    rows.push(
      { name: `heat map vs bpfvv, ${mb} MB log (ms)`, ours: heat.ms, baseline: b.ms, baselineName: 'bpfvv processRawLines', ratio: heat.ms / b.ms },
      { name: 'heat map vs bpfvv: peak RSS (MB)', ours: heat.maxRssMb, baseline: b.maxRssMb, baselineName: 'bpfvv processRawLines', ratio: heat.maxRssMb / b.maxRssMb },
    );
  }
  return rows;
}
