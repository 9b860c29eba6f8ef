// Runs a test file's cases on a Target: the header is built and verified exactly as `verify` does it
// (verifyHeaderOrObject), then one run of the verify script (verifyScript.ts) whose command is the case runner
// (runnerScript.ts) loads the program afresh for each case, seeds its maps, runs the packet through
// BPF_PROG_TEST_RUN and dumps the maps before and after. The verify script's EXIT trap removes the temporary pins and
// upload whatever happens; a run cut off before its end (cancel, timeout, dropped connection) is cleaned up from here
// through the removal helpers. Works alike locally, over SSH and in a kernel VM (one run: one boot).
import * as fs from 'node:fs';
import { buildSettingsOf, type BuildSettings } from '../build/settings';
import { KernelTarget } from '../kernels/kernelTarget';
import { removeOurDirs } from '../attach/removal';
import { resolvePinPrefix } from '../pins/pinScope';
import type { Target } from '../target/target';
import { verifyHeaderOrObject, type VerifyResult } from '../verify/verifyHeader';
import { classifyRunProblem, VerifyProblem } from '../verify/verifyErrors';
import { ranToTheEnd } from '../verify/verifyObject';
import { readVerifyScriptReport, temporaryRunName, UPLOAD_ROOT, verifyScriptArgv } from '../verify/verifyScript';
import { compareMap, mapState, type Mismatch } from './compare';
import { buildPacket, describePacket, packetFromHex } from './packet';
import { parseProgRun, parseRunnerOutput, type RunnerCaseOutput } from './runnerOutput';
import { RUNNER_OBJECT_NAME, runnerArgv, type RunnerStep } from './runnerScript';
import { skbContext } from './skbContext';
import type { TestCase, TestFile, ValueSpec } from './testFile';

export interface BenchOptions {
  /** Rounds of `repeat` runs; the median round is reported. */
  rounds: number;
  repeat: number;
}

export const DEFAULT_BENCH: BenchOptions = { rounds: 5, repeat: 100_000 };

export interface ProgTestRequest extends BuildSettings {
  testFile: TestFile;
  target: Target;
  /** Only these cases (by name); all when absent. */
  caseNames?: readonly string[];
  bench?: BenchOptions;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
}

export interface CaseBench {
  /** The median round's average, in nanoseconds per packet. */
  nsPerPacket: number;
  /** Each round's average (ns). */
  rounds: number[];
  repeat: number;
}

export interface CaseResult {
  name: string;
  /** "IPv4 UDP 106 B" (or "raw 60 B"). */
  packet: string;
  ok: boolean;
  expectedReturn: number;
  returnCode: number | null;
  mismatches: Mismatch[];
  /** The case could not run (a seed that does not fit, a failed load): what went wrong. */
  error?: string;
  bench?: CaseBench;
}

export interface ProgTestResult {
  testFile: string;
  header: string;
  target: string;
  verify: Pick<VerifyResult, 'durationMs' | 'log' | 'located'>;
  /** The verifier rejected the program: no case ran. */
  rejected?: string;
  cases: CaseResult[];
  /** Why timings are not shown (a VM without hardware virtualization), when they are not. */
  timingsHidden?: string;
  leftovers: string[];
  durationMs: number;
}

export class ProgTestInputError extends Error {}

export function selectCases(file: TestFile, names: readonly string[] | undefined): TestCase[] {
  if (!names?.length) return file.cases;
  const unknown = names.filter((n) => !file.cases.some((c) => c.name === n));
  if (unknown.length) throw new ProgTestInputError(`no case named ${unknown.map((n) => JSON.stringify(n)).join(', ')} in ${file.path} (cases: ${file.cases.map((c) => JSON.stringify(c.name)).join(', ')})`);
  return file.cases.filter((c) => names.includes(c.name));
}

/** A key or value for the runner: integers as 16 little-endian bytes (the runner fits them to the map's size). */
export function seedBytes(spec: ValueSpec): { mode: 'int' | 'hex'; hex: string } {
  if (typeof spec === 'number' || typeof spec === 'string') {
    let n = BigInt(spec);
    const bytes: string[] = [];
    for (let i = 0; i < 16; i++, n >>= 8n) bytes.push((n & 0xffn).toString(16).padStart(2, '0'));
    return { mode: 'int', hex: bytes.join(' ') };
  }
  if ('hex' in spec && typeof spec.hex === 'string') return { mode: 'hex', hex: spec.hex.replace(/\s+/g, '').replace(/(..)(?!$)/g, '$1 ').toLowerCase() };
  throw new ProgTestInputError('seed keys and values must be integers or {"hex": "..."}');
}

function casePacket(c: TestCase): { bytes: Buffer; label: string } {
  if (c.packet.kind === 'hex') {
    const bytes = packetFromHex(c.packet.hex);
    return { bytes, label: `raw ${bytes.length} B` };
  }
  return { bytes: buildPacket(c.packet.spec), label: describePacket(c.packet.spec) };
}

export async function runProgTests(request: ProgTestRequest): Promise<ProgTestResult> {
  const started = Date.now();
  const { target, testFile, signal } = request;
  const cases = selectCases(testFile, request.caseNames);
  // Packets and contexts first: a bad address fails before anything is built or loaded.
  const inputs = cases.map((c) => ({ ...casePacket(c), ctx: skbContext(c.identity, c.datapathReturn) }));
  const verified = await verifyHeaderOrObject({
    input: testFile.header,
    target,
    ...buildSettingsOf(request),
    logLevel: 'errors-only',
    signal,
    onOutput: request.onOutput,
  });
  const base = { testFile: testFile.path, header: testFile.header, target: target.name, verify: { durationMs: verified.durationMs, log: verified.log, located: verified.located } };
  if (verified.log.verdict !== 'accepted') {
    const e = verified.located?.error ?? verified.log.error;
    const where = e?.file ? `${e.file}:${e.line ?? '?'}: ` : '';
    return { ...base, rejected: `${where}${verified.log.error?.message ?? verified.log.verdict}`, cases: [], leftovers: verified.leftovers, durationMs: Date.now() - started };
  }

  // The verification booted the VM (if the target is one): its accelerator says whether timings mean anything, and
  // no bench round runs when they do not.
  const timingsHidden = request.bench ? hiddenTimings(target) : undefined;
  const benchRounds = request.bench && !timingsHidden ? request.bench.rounds : 0;
  const steps: RunnerStep[] = [];
  cases.forEach((c, index) => {
    steps.push({ step: 'case', index });
    for (const [map, entries] of Object.entries(c.seed)) for (const e of entries) steps.push({ step: 'seed', map, key: seedBytes(e.key), value: seedBytes(e.value) });
    steps.push({ step: 'run', packet: inputs[index].bytes, ctx: inputs[index].ctx, repeat: c.repeat, benchRounds, benchRepeat: request.bench?.repeat ?? 1 });
  });

  const runName = temporaryRunName();
  const pinDir = `${target.bpffsRoot.replace(/\/+$/, '')}/${runName}`;
  const uploadDir = `${UPLOAD_ROOT}/${runName}`;
  const objectOnTarget = `${uploadDir}/${RUNNER_OBJECT_NAME}`;
  const argv = verifyScriptArgv({
    bpffsRoot: target.bpffsRoot,
    pinDir,
    uploadDir,
    uploadName: RUNNER_OBJECT_NAME,
    bpftoolArgv: runnerArgv({ bpftool: target.bpftool, objectPath: objectOnTarget, pinDir, uploadDir, steps }),
  });
  const benchBudgetMs = request.bench ? cases.length * benchRounds * request.bench.repeat * 0.02 : 0;
  const run = await target.run(argv, {
    privileged: true,
    signal,
    timeoutMs: (request.timeoutMs ?? 300_000) + benchBudgetMs,
    input: await fs.promises.readFile(verified.objectPath),
    maxBuffer: 64 * 1024 * 1024,
  });
  const report = readVerifyScriptReport(run.stderr);
  const leftovers = [...verified.leftovers, ...report.left];
  if (!ranToTheEnd(run)) leftovers.push(...(await removeRunDirs(target, pinDir, uploadDir)));
  // A run that failed as a whole still says what it could not clean up.
  const fail = (problem: VerifyProblem): never => {
    if (leftovers.length) problem.noteLeftovers(target.name, leftovers);
    throw problem;
  };
  if (signal?.aborted || run.cancelled) fail(new VerifyProblem('cancelled', 'The test run was cancelled.', ''));
  const environment = classifyRunProblem(run, target, 'Running the test cases');
  if (environment) fail(environment);
  if (report.failed) fail(new VerifyProblem('target', `Running the test cases failed on ${target.name} (${report.failed.step}): ${report.failed.detail}`, ''));
  const output = parseRunnerOutput(`${run.stdout}\n${run.stderr}`);
  if (!output.complete && output.cases.length < cases.length) {
    const last = (target.describeFailure?.(run) ?? run.stderr.trim().split('\n').at(-1)) || `exit code ${run.exitCode}`;
    fail(new VerifyProblem('target', `The test run on ${target.name} ended early: ${last}`, ''));
  }
  const results = cases.map((c, i) => caseResult(c, inputs[i].label, output.cases.find((o) => o.index === i), request.bench?.repeat ?? 0));
  return { ...base, cases: results, ...(timingsHidden ? { timingsHidden } : {}), leftovers, durationMs: Date.now() - started };
}

/**
 * A run cut off before its end (killed, timed out, connection lost): its EXIT trap may not have run, so its pin and
 * upload directories are removed from here, by the removal that checks they hold our layout. A kernel VM gets a plain
 * `rm`, which its target answers without booting when no VM is up (nothing a VM made outlives it).
 */
async function removeRunDirs(target: Target, pinDir: string, uploadDir: string): Promise<string[]> {
  if (target instanceof KernelTarget) {
    const removed = await target.run(['rm', '-rf', '--', pinDir, uploadDir], { privileged: true, timeoutMs: 30_000 });
    return removed.exitCode === 0 ? [] : [pinDir, uploadDir];
  }
  const removal = await removeOurDirs(target, [{ kind: 'pins', path: pinDir }, { kind: 'upload', path: uploadDir }], resolvePinPrefix(target, undefined));
  return [...removal.refused, ...removal.failed];
}

/** Timings from an emulated CPU say nothing about a real one. */
function hiddenTimings(target: Target): string | undefined {
  if (!(target instanceof KernelTarget)) return undefined;
  const accel = target.boots.at(-1)?.accel;
  if (accel === 'kvm') return undefined;
  return `no timings: ${target.label} ran under QEMU's TCG emulation, where a nanosecond count says nothing about a real CPU`;
}

function caseResult(c: TestCase, packet: string, out: RunnerCaseOutput | undefined, benchRepeat: number): CaseResult {
  const result: CaseResult = { name: c.name, packet, ok: false, expectedReturn: c.expectReturn, returnCode: null, mismatches: [] };
  if (!out) return { ...result, error: 'the case did not run' };
  if (out.failures.length) {
    const f = out.failures[0];
    const detail = f.what === 'load' ? `the program did not load: ${lastLines(f.output)}` : `${f.what}${f.output ? ` (${lastLines(f.output)})` : ''}`;
    return { ...result, error: detail };
  }
  const ran = parseProgRun(out.run);
  if ('error' in ran) return { ...result, error: `bpftool prog run failed: ${ran.error}` };
  result.returnCode = ran.retval;
  // The kernel reports the return value as a u32; a test file may give a negative code.
  if (ran.retval !== c.expectReturn >>> 0) result.mismatches.push({ what: 'return code', expected: String(c.expectReturn), actual: String(ran.retval) });
  for (const [map, expectation] of Object.entries(c.maps)) {
    const before = mapState(out.before.get(map));
    const after = mapState(out.after.get(map));
    if (typeof after === 'string' || typeof before === 'string') {
      const names = [...out.after.keys()].join(', ') || 'none';
      const why = !out.after.has(map) ? `the program has no map ${map} (its maps: ${names})` : `${map}: ${typeof after === 'string' ? after : before}`;
      return { ...result, error: why };
    }
    result.mismatches.push(...compareMap(map, expectation, before, after));
  }
  const rounds = out.bench.map(parseProgRun).flatMap((r) => ('error' in r ? [] : [r.durationNs]));
  if (rounds.length) result.bench = { nsPerPacket: median(rounds), rounds, repeat: benchRepeat };
  result.ok = result.mismatches.length === 0;
  return result;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
}

function lastLines(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').slice(-3).join(' / ') || 'no output';
}
