// Runs the kernel verifier on an object through `bpftool prog load`, on any Target, under temporary pins that are
// removed afterwards whatever happens (success, rejection, cancellation, a dropped connection).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { VerifierLogParser } from '../verifier/parser';
import type { VerifierLog } from '../verifier/model';
import type { RunResult } from '../process';
import type { Target } from '../target/target';
import { classifyRunProblem, VerifyProblem } from './verifyErrors';

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
}

export interface VerifyObjectResult {
  log: VerifierLog;
  /** bpftool's exit status: 0 when the program loaded. */
  exitCode: number | null;
  durationMs: number;
  /** Temporary pins that could not be removed (should be empty; reported so nothing is left silently). */
  leftovers: string[];
}

/** Where temporary pins go: a directory of our own on the target's bpffs, unique per run. */
export function temporaryPinDir(bpffsRoot: string): string {
  return `${bpffsRoot.replace(/\/+$/, '')}/cilium-custom-verify-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

export async function verifyObject(target: Target, objectPath: string, options: VerifyObjectOptions = {}): Promise<VerifyObjectResult> {
  const started = Date.now();
  if (!fs.existsSync(objectPath)) {
    throw new VerifyProblem('object-missing', `Object file not found: ${objectPath}.`, 'Build the header first (Cilium Custom: Build Custom Program).');
  }
  const signal = options.signal;
  await checkBpffs(target, signal);

  const remoteDir = target.isRemote ? await target.makeTempDir(signal) : undefined;
  const pinDir = temporaryPinDir(target.bpffsRoot);
  let pinDirMade = false;
  const leftovers: string[] = [];
  let failure: unknown;
  try {
    const objectOnTarget = await target.upload(objectPath, remoteDir ?? '', signal);
    const mkdir = await target.run(['mkdir', '-m', '0700', '--', pinDir], { privileged: true, signal, timeoutMs: 30_000 });
    failOnProblem(mkdir, target, 'Creating a temporary bpffs directory');
    pinDirMade = true;

    const parser = new VerifierLogParser();
    const logStream = options.logFile ? fs.createWriteStream(options.logFile) : undefined;
    // A log file that cannot be written (full disk, no permission) must not crash the process with an unhandled
    // 'error' event: the error is kept and reported once bpftool is done and the pins are gone.
    let logError: Error | undefined;
    logStream?.on('error', (error) => (logError ??= error));
    const onChunk = (chunk: string) => {
      parser.push(chunk);
      if (!logError) logStream?.write(chunk);
      options.onLog?.(chunk);
    };
    const argv = [
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
    // The log streams into the parser and the log file; the result keeps only a tail (for error classification).
    const run = await target.run(argv, { privileged: true, signal, timeoutMs: options.timeoutMs, maxBuffer: LOG_TAIL_CHARS, onStdout: onChunk, onStderr: onChunk });
    if (logStream && !logError) await new Promise<void>((resolve) => logStream.end(() => resolve()));
    logStream?.destroy();
    const log = parser.end();
    if (run.exitCode !== 0) failOnProblem(run, target, 'Loading the program');
    if (run.exitCode !== 0 && log.verdict === 'unknown') {
      // bpftool failed without a verifier verdict (a broken object, a crash): not a rejection by the verifier.
      const last = run.stderr.trim().split('\n').filter((line) => line.trim() !== '').at(-1) ?? `exit code ${run.exitCode}`;
      throw new VerifyProblem('target', `bpftool on ${target.name} failed without a verifier verdict: ${last}`, 'See the verifier log for bpftool\'s output.');
    }
    if (logError) {
      throw new VerifyProblem('target', `Could not write the verifier log to ${options.logFile}: ${logError.message}.`, 'Free some space there or choose another log file.');
    }
    if (run.exitCode === 0 && log.verdict !== 'rejected') log.verdict = 'accepted';
    return { log, exitCode: run.exitCode, durationMs: Date.now() - started, leftovers };
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    if (pinDirMade) {
      const removed = await target.run(['rm', '-rf', '--', pinDir], { privileged: true, timeoutMs: 30_000 });
      if (removed.exitCode !== 0) leftovers.push(pinDir);
    }
    if (remoteDir && !(await target.removeTempDir(remoteDir))) leftovers.push(remoteDir);
    // A failed run must still say what it could not clean up.
    if (failure instanceof VerifyProblem && leftovers.length) failure.noteLeftovers(target.name, leftovers);
  }
}

async function checkBpffs(target: Target, signal?: AbortSignal): Promise<void> {
  const run = await target.run(['stat', '-f', '-c', '%T', target.bpffsRoot], { signal, timeoutMs: 30_000 });
  failOnProblem(run, target, 'Checking bpffs');
  if (run.exitCode !== 0 || run.stdout.trim() !== 'bpf_fs') {
    const where = target.isRemote ? ` on ${target.name}` : '';
    throw new VerifyProblem(
      'bpffs-not-mounted',
      `bpffs is not mounted at ${target.bpffsRoot}${where}.`,
      `Mount it (as root): mount -t bpf bpf ${target.bpffsRoot}`,
    );
  }
}

/** Throws the environment problem a failed run shows (missing tool, no permission, dropped connection...). */
function failOnProblem(run: RunResult, target: Target, what: string): void {
  if (run.exitCode === 0) return;
  const problem = classifyRunProblem(run, target, what);
  if (problem) throw problem;
  const remote = run as { phase?: string; connectionLost?: boolean };
  if (target.isRemote && (remote.phase === 'connect' || remote.connectionLost)) {
    const described = target.describeFailure?.(run) ?? run.stderr.trim().split('\n').at(-1) ?? '';
    throw new VerifyProblem('connection', `${what} failed: ${described}`, 'Check the target in ciliumCustom.targets (or --ssh) and that the host is reachable.');
  }
  if (what !== 'Loading the program') {
    throw new VerifyProblem('target', `${what} failed on ${target.name}: ${run.stderr.trim() || target.describeFailure?.(run) || `exit code ${run.exitCode}`}`, '');
  }
}
