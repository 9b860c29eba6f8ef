// Parser throughput: a real level-2 log of a program the verifier gives up on (one million processed
// instructions, ~130 MB from `bpftool -d prog load`), repeated into one file of at least TARGET_BYTES, streamed from
// disk through VerifierLogParser vs a plain line split of the same file, each pass in its own process (peak RSS
// measured from outside: /proc/PID/status of the child).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHeader } from '../src/core/build/build';
import { HEADER_FIXTURES, SDK_DIR } from '../test/system/helpers/fixtures';
import { runChild } from './childProcess';
import type { PassResult } from './parseWorker';

export const TARGET_BYTES = 300 * 1000 * 1000;
const PASSES = 3;

function medianPass(passes: PassResult[]): PassResult {
  const sorted = [...passes].sort((a, b) => a.ms - b.ms);
  const mid = sorted[Math.floor(sorted.length / 2)];
  return { ...mid, maxRssMb: Math.max(...passes.map((p) => p.maxRssMb)) };
}

export interface ParseBenchResult {
  /** The slow fixture's level-2 log (kept in the work directory for the heat map bench) and its header. */
  logFile: string;
  header: string;
  logBytes: number;
  fileBytes: number;
  copies: number;
  /** bpftool -d prog load of the slow fixture, output to a file (kernel verification + printing). */
  generateMs: number;
  parse: PassResult;
  split: PassResult;
  /** Passes of each kind (the median one by time is reported; peak RSS is the largest seen). */
  passes: number;
}

/** Builds the slow fixture in `dir` and returns its object. */
export async function buildSlowObject(dir: string): Promise<string> {
  const header = path.join(dir, 'too_many_insns.h');
  fs.copyFileSync(path.join(HEADER_FIXTURES, 'slow', 'too_many_insns.h'), header);
  const build = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
  if (!build.ok) throw new Error(`cannot build the slow fixture: ${build.output}`);
  return build.objectPath;
}

/** `bpftool -d prog load OBJ` with stdout+stderr into `logFile`, under a pin dir removed afterwards. */
export async function bpftoolLogToFile(object: string, pinDir: string, logFile: string): Promise<number> {
  fs.mkdirSync(pinDir);
  const fd = fs.openSync(logFile, 'w');
  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('bpftool', ['-d', 'prog', 'load', object, `${pinDir}/prog`, 'type', 'classifier', 'pinmaps', `${pinDir}/maps`], {
        stdio: ['ignore', fd, fd],
      });
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
    return Date.now() - started;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(pinDir, { recursive: true, force: true });
  }
}

/** One pass in its own process; its peak RSS is measured from outside (childProcess.ts), not by the worker. */
async function runPass(mode: 'parse' | 'split', file: string): Promise<PassResult> {
  const worker = path.join(__dirname, 'parseWorker.js');
  const run = await runChild([process.execPath, worker, mode, file]);
  if (run.code !== 0) throw new Error(`parse worker (${mode}) exited ${run.code}: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as PassResult;
  return { ...result, maxRssMb: run.maxRssMb ?? NaN };
}

export async function parseBench(work: string, bpffsRoot: string): Promise<ParseBenchResult> {
  const object = await buildSlowObject(work);
  const log = path.join(work, 'too_many_insns.log');
  const generateMs = await bpftoolLogToFile(object, path.join(bpffsRoot, `ccp-bench-${process.pid}`), log);
  const logBytes = fs.statSync(log).size;
  if (logBytes < 10_000_000) throw new Error(`the generated log is only ${logBytes} bytes: ${fs.readFileSync(log, 'utf8').slice(-500)}`);
  const big = path.join(work, 'big.log');
  const copies = Math.ceil(TARGET_BYTES / logBytes);
  fs.copyFileSync(log, big);
  for (let i = 1; i < copies; i++) fs.appendFileSync(big, fs.readFileSync(log));
  const fileBytes = fs.statSync(big).size;
  // Warm the page cache once so that both passes read from memory; then pairs of passes, interleaved, and the
  // median pass of each (by time) reported.
  await runPass('split', big);
  const splits: PassResult[] = [];
  const parses: PassResult[] = [];
  for (let i = 0; i < PASSES; i++) {
    splits.push(await runPass('split', big));
    parses.push(await runPass('parse', big));
  }
  fs.rmSync(big);
  return { logFile: log, header: path.join(work, 'too_many_insns.h'), logBytes, fileBytes, copies, generateMs, parse: medianPass(parses), split: medianPass(splits), passes: PASSES };
}
