// `npm run bench`: parser throughput, local verify overhead, remote (SSH) connection reuse, map paging, Watch Map's sampler CPU and the CLI, as a table with
// ratios; the same numbers go to bench-results/latest.json. Needs root, bpftool, clang, a mounted bpffs and sshd
// (the remote part is skipped without sshd). Everything it makes (temp files, pins, sshd) is removed at the end.
//
//   node out/bench/run.js [--runs N] [--quick] [--markdown]
//     --runs N      verifications per measured series (default 15 local, N/1.5 remote)
//     --quick       skip timing the whole pipeline on the slow fixture against bpftool alone (~45 s)
//     --markdown    also print the table as Markdown (README.md's table is that, pasted)
//
// Series are measured interleaved with their baselines (medians), children's peak RSS from outside (/proc), and the
// machine's load is printed at the end, with a warning when other processes used more than 20% of a core.
// Also: the CLI as a user runs it (cliBench.ts): start-up, build over make, and verify over SSH on a kept connection.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildHeader } from '../src/core/build/build';
import { LocalTarget } from '../src/core/target';
import { verifyHeaderOrObject } from '../src/core/verify/verifyHeader';
import { VerifyProblem } from '../src/core/verify/verifyErrors';
import { REPO, SDK_DIR } from '../test/system/helpers/fixtures';
import { bpffsMounted, hasCommand, isRoot } from '../test/system/helpers/require';
import { sshdAvailable } from '../test/system/helpers/sshd';
import { bpftoolLogToFile, buildSlowObject, parseBench, type ParseBenchResult } from './parseBench';
import { heatMapBench, heatMapRows, type HeatMapBenchResult } from './heatMapBench';
import { mapPagingBench, mapPagingRows, type MapPagingResult } from './mapPaging';
import { progTestBench, progTestRows, type ProgTestBenchResult } from './progTestBench';
import { watchBenchInChild, watchRows, type WatchBenchResult } from './watchBench';
import { serverLatencyBench, type ServerLatencyResult } from './serverLatency';
import { formatMarkdown, formatTable, type Row } from './table';
import { cliBuildBench, cliStartBench, type CliBuildResult, type CliStartResult } from './cliBench';
import { formatLoad, MachineLoad } from './machineLoad';
import { localVerifyBench, remoteVerifyBench, type LocalVerifyResult, type RemoteVerifyResult } from './verifyBench';
import { kernelsBench, kernelsRows, type KernelsBenchResult } from './kernelsBench';

const BPFFS = '/sys/fs/bpf';
const MB = 1000 * 1000;

interface SlowResult {
  pipelineMs: number;
  bpftoolMs: number;
}

async function slowBench(work: string): Promise<SlowResult> {
  const object = await buildSlowObject(work);
  const bpftoolMs = await bpftoolLogToFile(object, path.join(BPFFS, `ccp-bench-slow-${process.pid}`), '/dev/null');
  const started = Date.now();
  const result = await verifyHeaderOrObject({ input: object, target: new LocalTarget(), bundledSdkDir: SDK_DIR }).catch((e: unknown) => {
    throw e instanceof VerifyProblem ? new Error(e.full) : e;
  });
  if (result.log.verdict !== 'rejected') throw new Error(`slow fixture: verdict ${result.log.verdict}`);
  return { pipelineMs: Date.now() - started, bpftoolMs };
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<number> {
  const missing = [
    !isRoot() && 'root',
    !hasCommand('bpftool') && 'bpftool',
    !hasCommand('clang') && 'clang',
    !bpffsMounted(BPFFS) && `bpffs at ${BPFFS}`,
  ].filter(Boolean);
  if (missing.length) {
    console.error(`bench: needs ${missing.join(', ')}`);
    return 1;
  }
  const runs = Number(option('--runs') ?? 15);
  const started = Date.now();
  const load = new MachineLoad();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-bench-'));
  const cleanup = () => fs.rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  let parse: ParseBenchResult;
  let heat: HeatMapBenchResult;
  let local: LocalVerifyResult;
  let remote: RemoteVerifyResult | null = null;
  let slow: SlowResult | null = null;
  let paging: MapPagingResult;
  let progTests: ProgTestBenchResult;
  let watch: WatchBenchResult;
  let server: ServerLatencyResult;
  let cliStart: CliStartResult;
  let cliBuild: CliBuildResult;
  let kernels: KernelsBenchResult | undefined;
  try {
    console.error('bench: CLI start-up...');
    cliStart = await cliStartBench(runs);

    console.error('bench: language-server diagnostics after edits in a 2,000-line header...');
    server = await serverLatencyBench({ edits: 200 });

    console.error('bench: generating a level-2 log of the slow fixture and parsing it...');
    parse = await parseBench(work, BPFFS);
    console.error('bench: heat map of a 100 MB level-2 log, as the editor makes it...');
    heat = await heatMapBench(work, parse.logFile, [parse.header]);

    const examples = path.join(work, 'examples');
    fs.cpSync(path.join(SDK_DIR, 'examples'), examples, { recursive: true });
    const header = path.join(examples, 'bytecount.h');
    fs.rmSync(path.join(examples, 'bytecount.o'), { force: true });
    const build = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
    if (!build.ok) throw new Error(build.output);

    console.error('bench: CLI build against make alone...');
    cliBuild = await cliBuildBench(header, SDK_DIR, Math.max(5, Math.round(runs / 2)));

    console.error('bench: ns/packet of each bundled example (BPF_PROG_TEST_RUN)...');
    progTests = await progTestBench(examples, work);

    console.error('bench: paging a 100k-entry BTF hash map...');
    paging = await mapPagingBench(work, BPFFS);

    console.error('bench: Watch Map sampling a 1,000-entry map at 1 Hz for 30 s...');
    watch = await watchBenchInChild();

    console.error(`bench: local verify x${runs}...`);
    local = await localVerifyBench(header, build.objectPath, BPFFS, runs);

    console.error('bench: kernel VMs (cold, warm, the 4-kernel matrix)...');
    kernels = await kernelsBench(build.objectPath, Math.max(5, Math.round(runs / 2)));

    if (sshdAvailable() && hasCommand('ssh')) {
      console.error('bench: remote verify through a throwaway sshd...');
      remote = await remoteVerifyBench(build.objectPath, BPFFS, Math.max(3, Math.round(runs / 1.5)));
    } else {
      console.error('bench: no sshd: remote part skipped');
    }
    if (!process.argv.includes('--quick')) {
      console.error('bench: whole pipeline on the slow fixture...');
      slow = await slowBench(work);
    }
  } finally {
    cleanup();
  }

  const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
  const parseMbps = mbps(parse.parse.bytes, parse.parse.ms);
  const splitMbps = mbps(parse.split.bytes, parse.split.ms);
  const rows: Row[] = [
    {
      name: `parse ${(parse.fileBytes / MB).toFixed(0)} MB level-2 log (MB/s)`,
      ours: parseMbps,
      baseline: splitMbps,
      baselineName: 'line split',
      ratio: parseMbps / splitMbps,
    },
    { name: 'parse: peak RSS (outside) / heap (MB)', ours: `${parse.parse.maxRssMb.toFixed(0)} / ${parse.parse.peakHeapMb.toFixed(0)}`, baseline: `${parse.split.maxRssMb.toFixed(0)} / ${parse.split.peakHeapMb.toFixed(0)}`, baselineName: 'line split' },
    { name: `CLI --help, median of ${cliStart.runs} (ms)`, ours: cliStart.helpMs, baseline: cliStart.nodeMs, baselineName: 'node -e 0', ratio: cliStart.helpMs / cliStart.nodeMs },
    { name: `CLI build, median of ${cliBuild.runs} (ms)`, ours: cliBuild.cliMs, baseline: cliBuild.makeMs, baselineName: 'make -B alone', ratio: cliBuild.cliMs / cliBuild.makeMs },
    {
      name: `verify local, median of ${local.runs} (ms)`,
      ours: local.pipelineMedianMs,
      baseline: local.byHandMedianMs,
      baselineName: 'bpftool + rm -rf',
      ratio: local.pipelineMedianMs / local.byHandMedianMs,
    },
  ];
  if (remote) {
    rows.push(
      { name: 'verify ssh: first (connects) vs later (ms)', ours: remote.firstMs, baseline: remote.laterMedianMs, baselineName: `later, median of ${remote.runs}`, ratio: remote.firstMs / remote.laterMedianMs },
      { name: 'verify ssh: later vs raw ssh x3 (ms)', ours: remote.laterMedianMs, baseline: remote.rawThreeMedianMs, baselineName: 'upload; load; rm', ratio: remote.laterMedianMs / remote.rawThreeMedianMs },
      { name: 'verify ssh: later vs raw ssh x1 (ms)', ours: remote.laterMedianMs, baseline: remote.rawOneMedianMs, baselineName: 'all in one ssh', ratio: remote.laterMedianMs / remote.rawOneMedianMs },
      {
        name: `CLI verify --ssh, 2nd+ run, median of ${remote.cli.runs} (ms)`,
        ours: remote.cli.laterMs,
        baseline: remote.cli.nodeMs + remote.cli.rawKeptMs,
        baselineName: `node -e 0 ${remote.cli.nodeMs.toFixed(0)} + kept-conn ssh ${remote.cli.rawKeptMs.toFixed(0)}`,
        ratio: remote.cli.laterMs / (remote.cli.nodeMs + remote.cli.rawKeptMs),
      },
      { name: 'CLI verify --ssh: first run vs 2nd+ (ms)', ours: remote.cli.firstMs, baseline: remote.cli.laterMs, baselineName: '2nd+ run', ratio: remote.cli.firstMs / remote.cli.laterMs },
      { name: 'CLI verify --ssh: --ssh-persist 0 vs kept (ms)', ours: remote.cli.noKeepMs, baseline: remote.cli.laterMs, baselineName: 'kept connection', ratio: remote.cli.noKeepMs / remote.cli.laterMs },
    );
  }
  if (kernels) rows.push(...kernelsRows(kernels));
  rows.push(...heatMapRows(heat));
  rows.push(...mapPagingRows(paging));
  rows.push(...progTestRows(progTests));
  rows.push(...watchRows(watch));
  rows.push({
    name: `LS diagnostics after an edit, ${server.lines} lines (median ms)`,
    ours: server.editToDiagnostics.medianMs,
    baseline: server.fullParseAndRules.medianMs,
    baselineName: 'full parse + rules',
    ratio: server.editToDiagnostics.medianMs / server.fullParseAndRules.medianMs,
  });
  if (slow) {
    rows.push({ name: 'verify slow fixture, 130 MB log (ms)', ours: slow.pipelineMs, baseline: slow.bpftoolMs, baselineName: 'bpftool > file', ratio: slow.pipelineMs / slow.bpftoolMs });
  }
  const totalMs = Date.now() - started;
  const loadReport = load.report();
  console.log(formatTable(rows));
  console.log(`\n${formatLoad(loadReport)}`);
  if (process.argv.includes('--markdown')) console.log(`\n${formatMarkdown(rows)}`);
  console.log(`\n(log: ${(parse.logBytes / MB).toFixed(0)} MB from bpftool in ${parse.generateMs} ms, x${parse.copies}; bench took ${(totalMs / 1000).toFixed(0)} s)`);

  const results = {
    date: new Date().toISOString(),
    kernel: os.release(),
    node: process.version,
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    load: loadReport,
    totalMs,
    cliStart,
    cliBuild,
    parse: { ...parse, parseMbps, splitMbps, ratio: parseMbps / splitMbps },
    local: { ...local, ratio: local.pipelineMedianMs / local.byHandMedianMs },
    remote,
    kernels,
    slow,
    heat,
    paging,
    progTests,
    watch,
    server,
    table: rows,
  };
  const outDir = path.join(REPO, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), path.join(outDir, 'latest.json')) || 'bench-results/latest.json'}`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
