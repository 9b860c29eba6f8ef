// Runs the kernel verifier on an object through `bpftool prog load`, on any Target, under temporary pins that are
// removed afterwards whatever happens (success, rejection, cancellation, a dropped connection). The steps on the
// target are one script run (verifyScript.ts); this side streams the log into the parser and names the problem.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VerifierLogParser } from '../verifier/parser';
import type { VerifierLog } from '../verifier/model';
import type { RunResult } from '../process';
import { bpffsNotMounted } from '../target/bpffs';
import type { Target } from '../target/target';
import { LoaderOutputScanner, loaderFailure } from './loaderFailure';
import { classifyRunProblem, VerifyProblem } from './verifyErrors';
import { readVerifyScriptReport, temporaryRunName, UPLOAD_ROOT, verifyScriptArgv, withoutScriptLines, type VerifyScriptReport, type VerifyScriptStep } from './verifyScript';

/** How much of bpftool's output a verify keeps in memory besides what the parser keeps: a level-2 log can be GBs. */
const LOG_TAIL_CHARS = 1024 * 1024;

export type VerifierLogLevel = 'verbose' | 'errors-only';

export interface VerifyObjectOptions {
  /** verbose: `bpftool -d` (the full log with statistics); errors-only: the log only when the load fails. */
  logLevel?: VerifierLogLevel;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The whole log is written here as it arrives (the parser keeps only what it needs). */
  logFile?: string;
  onLog?: (chunk: string) => void;
  /**
   * Load for good (attach): pin under `pinDir` (made in `parentDir`, which is made when missing) and keep the pins
   * when the program loads; without it the pins are temporary and always removed.
   */
  keepPins?: { pinDir: string; parentDir: string };
}

export interface VerifyObjectResult {
  log: VerifierLog;
  /** bpftool's exit status: 0 when the program loaded. */
  exitCode: number | null;
  durationMs: number;
  /** Temporary directories (pins, upload) that could not be removed: normally none; reported so none stays silently. */
  leftovers: string[];
}

export async function verifyObject(target: Target, objectPath: string, options: VerifyObjectOptions = {}): Promise<VerifyObjectResult> {
  const started = Date.now();
  if (!fs.existsSync(objectPath)) {
    throw new VerifyProblem('object-missing', `Object file not found: ${objectPath}.`, 'Build the header first (Cilium Custom: Build Custom Program).');
  }
  const signal = options.signal;
  // Temporary pins go to a directory of our own on the target's bpffs; remote targets get the object on the
  // script's stdin, into a directory of the same name in /tmp.
  const runName = temporaryRunName();
  const pinDir = options.keepPins?.pinDir ?? `${target.bpffsRoot.replace(/\/+$/, '')}/${runName}`;
  const uploadDir = target.isRemote ? `${UPLOAD_ROOT}/${runName}` : undefined;
  const uploadName = path.basename(objectPath);
  const objectOnTarget = uploadDir ? `${uploadDir}/${uploadName}` : path.resolve(objectPath);
  const input = uploadDir ? await fs.promises.readFile(objectPath) : undefined;
  const bpftoolArgv = [
    target.bpftool,
    ...(options.logLevel === 'errors-only' ? [] : ['-d']),
    'prog',
    'load',
    objectOnTarget,
    `${pinDir}/prog`,
    'type',
    'classifier',
    'pinmaps',
    `${pinDir}/maps`,
  ];

  const parser = new VerifierLogParser();
  const loader = new LoaderOutputScanner();
  const logStream = options.logFile ? fs.createWriteStream(options.logFile) : undefined;
  // A log file that cannot be written (full disk, no permission) must not crash the process with an unhandled
  // 'error' event: the error is kept and reported once bpftool is done and the pins are gone.
  let logError: Error | undefined;
  logStream?.on('error', (error) => (logError ??= error));
  const onChunk = (chunk: string) => {
    parser.push(chunk);
    loader.push(chunk);
    if (!logError) logStream?.write(chunk);
    options.onLog?.(chunk);
  };
  // The log streams into the parser and the log file; the result keeps only a tail (for error classification).
  const run = await target.run(verifyScriptArgv({ bpffsRoot: target.bpffsRoot, pinDir, uploadDir, uploadName, keepUnder: options.keepPins?.parentDir, bpftoolArgv }), {
    privileged: true,
    signal,
    timeoutMs: options.timeoutMs,
    maxBuffer: LOG_TAIL_CHARS,
    input,
    onStdout: onChunk,
    onStderr: onChunk,
  });
  if (logStream && !logError) await new Promise<void>((resolve) => logStream.end(() => resolve()));
  logStream?.destroy();
  const log = parser.end();
  loader.end();
  const report = readVerifyScriptReport(run.stderr);
  const leftovers = [...report.left];
  if (!ranToTheEnd(run)) {
    // Killed (cancel, timeout) or cut off: the script's EXIT trap may not have run. Make sure, where we still can.
    const made = uploadDir ? [pinDir, uploadDir] : [pinDir];
    const removed = await target.run(['rm', '-rf', '--', ...made], { privileged: true, timeoutMs: 30_000 });
    if (removed.exitCode !== 0) leftovers.push(...made);
  }
  try {
    if (run.exitCode !== 0) failOnProblem(run, target, report);
    // libbpf gave up without the kernel refusing a program: a loader failure, whatever the parser made of it.
    const notTheVerifier = run.exitCode !== 0 ? loaderFailure(loader, path.basename(objectPath)) : undefined;
    if (notTheVerifier) throw notTheVerifier;
    if (run.exitCode !== 0 && log.verdict === 'unknown') {
      // bpftool failed without a verifier verdict (a broken object, a crash): not a rejection by the verifier.
      const last = withoutScriptLines(run.stderr).trim().split('\n').filter((line) => line.trim() !== '').at(-1) ?? `exit code ${run.exitCode}`;
      throw new VerifyProblem('target', `bpftool on ${target.name} failed without a verifier verdict: ${last}`, 'See the verifier log for bpftool\'s output.');
    }
    if (logError) {
      throw new VerifyProblem('target', `Could not write the verifier log to ${options.logFile}: ${logError.message}.`, 'Free some space there or choose another log file.');
    }
  } catch (error) {
    // A failed run must still say what it could not clean up. After a lost connection the script still cleans up by
    // itself, unless it was to keep the pins of a good load.
    if (error instanceof VerifyProblem && leftovers.length) error.noteLeftovers(target.name, leftovers, connectionLost(run) && !options.keepPins);
    throw error;
  }
  // bpftool loaded and pinned every program: the kernel accepted them, whatever a line of the log looked like (a
  // new kernel's new trace line once read as an error here).
  if (run.exitCode === 0) {
    log.verdict = 'accepted';
    log.error = null;
  }
  return { log, exitCode: run.exitCode, durationMs: Date.now() - started, leftovers };
}

/** The script ended by itself (with any status), so its EXIT trap ran; or it never started and made nothing. */
export function ranToTheEnd(run: RunResult): boolean {
  const remote = run as { phase?: string };
  if (remote.phase === 'connect' || run.spawnError) return true;
  return !run.cancelled && !run.timedOut && run.signal === null && run.exitCode !== null && !connectionLost(run);
}

function connectionLost(run: RunResult): boolean {
  return (run as { connectionLost?: boolean }).connectionLost === true;
}

/** Throws the problem a failed run shows: cancellation, a step of the script, a missing tool, no permission, a dropped connection. */
function failOnProblem(run: RunResult, target: Target, report: VerifyScriptReport): void {
  const what = report.failed ? STEP_TITLES[report.failed.step] : 'Loading the program';
  if (run.cancelled || run.timedOut) throw classifyRunProblem(run, target, what) as VerifyProblem;
  const failed = report.failed;
  if (failed?.step === 'bpffs') {
    const { message, fix } = bpffsNotMounted(target, failed.detail);
    throw new VerifyProblem('bpffs-not-mounted', message, fix);
  }
  const problem = classifyRunProblem(run, target, what);
  // A step that failed before bpftool ran says nothing about bpftool being there.
  if (problem && !(failed && problem.kind === 'bpftool-missing')) throw problem;
  // ssh's own failure (exit 255 before any remote command started) is a connection problem too.
  const neverStarted = run.exitCode === 255 && (run as { remotePid?: number }).remotePid === undefined;
  if (target.isRemote && ((run as { phase?: string }).phase === 'connect' || connectionLost(run) || neverStarted)) {
    const described = target.describeFailure?.(run) ?? run.stderr.trim().split('\n').at(-1) ?? '';
    throw new VerifyProblem('connection', `${what} failed: ${described}`, 'Check the target in ciliumCustom.targets (or --ssh) and that the host is reachable.');
  }
  if (failed) throw new VerifyProblem('target', `${what} failed on ${target.name}: ${failed.detail}`, '');
  if (run.spawnError) {
    const described = target.describeFailure?.(run) ?? run.spawnError.message;
    throw new VerifyProblem('target', `Starting the verification failed on ${target.name}: ${described}`, '');
  }
}

const STEP_TITLES: Record<VerifyScriptStep, string> = {
  bpffs: 'Checking bpffs',
  upload: 'Uploading the object',
  pins: 'Creating the pin directory',
};
