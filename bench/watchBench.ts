// Watch Map's sampler cost: a 1,000-entry BTF hash map (bytecount's shape: __u32 -> __u64) sampled at 1 Hz for 30 s
// through MapSampler, as the editor does. CPU is this process's (process.cpuUsage) plus that of its children,
// counted when they are reaped (/proc/self/stat cutime + cstime: the dump loop's shell and every bpftool it ran), so
// the sampler is stopped and its loop reaped before the second reading. The budget is 1% of one core. Baseline: the
// CPU of `bpftool -j map dump` alone, per sample. Needs root, clang, bpftool and a bpffs; removes its pins.
//
//   node out/bench/watchBench.js [--seconds N] [--json]   (also part of `npm run bench`, in a child of its own)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MapSampler } from '../src/core/maps/watch/sampler';
import { LocalTarget } from '../src/core/target';
import { cpuTimeMs, leHex, loadBtfMap, privateBpffsDir, updateMap } from '../test/system/helpers/watchMaps';
import { runChild } from './childProcess';
import { formatTable, type Row } from './table';

export const WATCH_BUDGET_PERCENT = 1;
const WARM_UP = 5;

export interface WatchBenchResult {
  entries: number;
  seconds: number;
  intervalMs: number;
  samples: number;
  errors: number;
  /** CPU of this process and of the reaped children over the run (ms). */
  selfMs: number;
  childrenMs: number;
  /** (self + children) / wall time, in % of one core. */
  sharePercent: number;
  /**
   * The same after the first WARM_UP samples (Node compiling the parsing code, the first labels): this process as
   * measured, the children's share prorated by samples (they are counted only once the loop is reaped).
   */
  steadySharePercent: number;
  perSampleMs: number;
  /** CPU of one `bpftool -j map dump` of the same map, run on its own (median of 10, ms). */
  bpftoolAloneMs: number;
}

function bpftoolAloneMs(pin: string): number {
  const runs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const before = cpuTimeMs().children;
    spawnSync('bpftool', ['-j', 'map', 'dump', 'pinned', pin], { stdio: ['ignore', 'ignore', 'ignore'] });
    runs.push(cpuTimeMs().children - before);
  }
  // Children's times come in clock ticks (10 ms): the mean says more than the median here.
  return runs.reduce((a, b) => a + b, 0) / runs.length;
}

export async function watchBench(seconds = 30, entries = 1000, intervalMs = 1000): Promise<WatchBenchResult> {
  const bpffs = privateBpffsDir('ccp-bench-watch-');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-bench-watch-'));
  const target = new LocalTarget();
  try {
    const pin = loadBtfMap(work, bpffs.dir, 'watch_bench', `struct { __uint(type, 1); __uint(max_entries, ${entries}); __type(key, __u32); __type(value, __u64); } watch_bench SEC(".maps");`);
    updateMap(work, pin, Array.from({ length: entries }, (_, i) => [leHex(i, 4), leHex(i * 1500, 8)] as const));
    let samples = 0;
    let errors = 0;
    let warm: { self: number; at: number } | undefined;
    const sampler = new MapSampler(target, pin, {
      intervalMs,
      onSample: (r) => {
        if (r.error) errors++;
        else if (++samples === WARM_UP) warm = { self: cpuTimeMs().self, at: performance.now() };
      },
    });
    await sampler.open();
    const before = cpuTimeMs();
    const started = performance.now();
    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    await sampler.stop();
    const wallMs = performance.now() - started;
    const after = cpuTimeMs();
    if (sampler.store.keyCount !== entries) throw new Error(`watch bench: ${sampler.store.keyCount} keys sampled, expected ${entries}`);
    const selfMs = after.self - before.self;
    const childrenMs = after.children - before.children;
    if (!warm) throw new Error(`watch bench: only ${samples} samples`);
    const steadyChildrenMs = (childrenMs * (samples - WARM_UP)) / samples;
    const steadyMs = started + wallMs - warm.at;
    return {
      entries,
      seconds,
      intervalMs,
      samples,
      errors,
      selfMs,
      childrenMs,
      sharePercent: ((selfMs + childrenMs) / wallMs) * 100,
      steadySharePercent: ((after.self - warm.self + steadyChildrenMs) / steadyMs) * 100,
      perSampleMs: (selfMs + childrenMs) / Math.max(1, samples),
      bpftoolAloneMs: bpftoolAloneMs(pin),
    };
  } finally {
    await target.dispose();
    bpffs.remove();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function watchRows(r: WatchBenchResult): Row[] {
  const k = `${Math.round(r.entries / 1000)}k`;
  return [
    {
      name: `Watch Map, ${k} entries at ${1000 / r.intervalMs} Hz for ${r.seconds} s: CPU (% of a core)`,
      ours: r.sharePercent.toFixed(2),
      baseline: WATCH_BUDGET_PERCENT,
      baselineName: 'budget',
      ratio: r.sharePercent / WATCH_BUDGET_PERCENT,
    },
    {
      name: `Watch Map, ${k} entries at ${1000 / r.intervalMs} Hz, after ${WARM_UP} samples: CPU (% of a core)`,
      ours: r.steadySharePercent.toFixed(2),
      baseline: WATCH_BUDGET_PERCENT,
      baselineName: 'budget',
      ratio: r.steadySharePercent / WATCH_BUDGET_PERCENT,
    },
    { name: `Watch Map, ${k} entries: CPU per sample (ms)`, ours: r.perSampleMs, baseline: r.bpftoolAloneMs, baselineName: 'bpftool -j map dump alone', ratio: r.perSampleMs / r.bpftoolAloneMs },
  ];
}

/**
 * The same in a fresh node process, as `npm run bench` runs it: this process's CPU is the sampler's alone, not that
 * of a bench process whose heap the earlier rows (the 390 MB parse, the 100k-entry map) left large for V8 to keep.
 */
export async function watchBenchInChild(): Promise<WatchBenchResult> {
  const run = await runChild([process.execPath, __filename, '--json']);
  if (run.code !== 0) throw new Error(`watch bench: exit ${run.code}: ${run.stderr.trim()}`);
  return JSON.parse(run.stdout) as WatchBenchResult;
}

if (require.main === module) {
  const i = process.argv.indexOf('--seconds');
  watchBench(i > 0 ? Number(process.argv[i + 1]) : 30)
    .then((result) => {
      if (process.argv.includes('--json')) return console.log(JSON.stringify(result));
      console.log(formatTable(watchRows(result)));
      console.log(`\n(${result.samples} samples, ${result.errors} errors; this process ${result.selfMs.toFixed(0)} ms, bpftool and shell ${result.childrenMs.toFixed(0)} ms of CPU)`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
