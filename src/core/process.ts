// The one way this project starts a process: an argv array (never a shell string), cancellable through an
// AbortSignal, killed as a whole process group so that `make` takes its `clang` children with it.
// It never throws: callers get a result object and decide what a failure means.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';

export interface RunOptions {
  cwd?: string;
  /** Extra environment variables, merged over the current environment. */
  env?: Record<string, string | undefined>;
  /** Set LANG/LC_ALL=C so that output meant for parsing is not translated. Default true. */
  cLocale?: boolean;
  signal?: AbortSignal;
  /** Kill the process (group) after this many milliseconds. */
  timeoutMs?: number;
  /**
   * Written to the process's standard input, then closed. Default: standard input is closed at once. A stream stays
   * open until it ends, which is how a lock holder on a target knows that its owner is still there (nodeLock.ts).
   */
  input?: string | Buffer | Readable;
  /** Called with each chunk of output as it arrives (for output channels and streaming parsers). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /**
   * Most output kept per stream in the result, in characters; past it the head is dropped and the tail kept (the
   * process is never killed for talking too much). Default 256 Mi. Streaming callbacks always see everything, so a
   * caller that streams a huge log (the verifier's) keeps a small tail here.
   */
  maxBuffer?: number;
}

export interface RunResult {
  argv: readonly string[];
  /** null when the process was killed by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  cancelled: boolean;
  timedOut: boolean;
  /** Set when the process could not be started at all (ENOENT: the program is not installed, EACCES, ...). */
  spawnError?: { code: string; message: string };
}

export function succeeded(result: RunResult): boolean {
  return result.exitCode === 0 && !result.spawnError && !result.cancelled && !result.timedOut;
}

/** Grace period between SIGTERM and SIGKILL when a run is cancelled or times out. */
const KILL_GRACE_MS = 2000;

export async function runProcess(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) throw new Error('runProcess: empty argv');
  const started = Date.now();
  const [file, ...args] = argv;
  const env: Record<string, string | undefined> = { ...options.env };
  if (options.cLocale !== false) {
    env.LANG = 'C';
    env.LC_ALL = 'C';
  }

  const base: Omit<RunResult, 'exitCode' | 'signal' | 'stdout' | 'stderr' | 'durationMs'> = {
    argv,
    cancelled: false,
    timedOut: false,
  };
  if (options.signal?.aborted) {
    return { ...base, exitCode: null, signal: null, stdout: '', stderr: '', durationMs: 0, cancelled: true };
  }

  const child = execa(file, args, {
    cwd: options.cwd,
    env,
    extendEnv: true,
    reject: false,
    stripFinalNewline: false,
    // Its own process group, so cancellation can kill the whole tree (make -> clang, ssh -> ...).
    detached: true,
    cleanup: true,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    // Output is collected below, bounded, so that a huge log neither fills memory nor kills the process.
    buffer: false,
  });

  let cancelled = false;
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = () => {
    signalGroup(child.pid, 'SIGTERM');
    killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const onAbort = () => {
    cancelled = true;
    killGroup();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timeout =
    options.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          killGroup();
        }, options.timeoutMs)
      : undefined;

  const limit = options.maxBuffer ?? 256 * 1024 * 1024;
  const stdout = collect(child.stdout, limit, options.onStdout);
  const stderr = collect(child.stderr, limit, options.onStderr);

  try {
    const result = await child;
    const failure = result.failed && !cancelled && !timedOut ? spawnFailure(result) : undefined;
    return {
      ...base,
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
      signal: result.signal ?? null,
      stdout: stdout.text(),
      stderr: stderr.text(),
      durationMs: Date.now() - started,
      cancelled,
      timedOut,
      ...(failure ? { spawnError: failure } : {}),
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (timeout) clearTimeout(timeout);
    if (killTimer) {
      // The leader has exited; make sure stragglers in its group do not outlive the run.
      signalGroup(child.pid, 'SIGKILL');
      clearTimeout(killTimer);
    }
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Decodes a stream as UTF-8 (never splitting a character across chunks) and keeps at most `limit` characters. */
function collect(stream: NodeJS.ReadableStream | null, limit: number, onChunk?: (chunk: string) => void): { text(): string } {
  const decoder = new StringDecoder('utf8');
  let parts: string[] = [];
  let size = 0;
  const keep = (text: string) => {
    if (text === '') return;
    onChunk?.(text);
    parts.push(text);
    size += text.length;
    if (size > 2 * limit) {
      const joined = parts.join('').slice(-limit);
      parts = [joined];
      size = joined.length;
    }
  };
  stream?.on('data', (chunk: Buffer) => keep(decoder.write(chunk)));
  stream?.on('end', () => keep(decoder.end()));
  return {
    text: () => {
      const joined = parts.join('');
      return joined.length > limit ? joined.slice(-limit) : joined;
    },
  };
}

/** Distinguishes "could not start" (no exit code at all) from an ordinary non-zero exit. */
function spawnFailure(result: { exitCode?: number; signal?: string; code?: string; message?: string; originalMessage?: string }):
  | { code: string; message: string }
  | undefined {
  if (typeof result.exitCode === 'number' || result.signal) return undefined;
  return { code: result.code ?? 'ESPAWN', message: result.originalMessage ?? result.message ?? 'failed to start' };
}

/** A short human description of why a run failed, for error messages. */
export function describeFailure(result: RunResult): string {
  const program = result.argv[0];
  if (result.spawnError?.code === 'ENOENT') return `${program} is not installed or not on PATH`;
  if (result.spawnError) return `${program} could not be started: ${result.spawnError.message}`;
  if (result.cancelled) return `${program} was cancelled`;
  if (result.timedOut) return `${program} timed out after ${Math.round(result.durationMs / 1000)} s`;
  if (result.signal) return `${program} was killed by ${result.signal}`;
  return `${program} exited with code ${result.exitCode}`;
}
