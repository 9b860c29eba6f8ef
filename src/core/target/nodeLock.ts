// An exclusive lock on a target node, held for as long as a piece of work runs here. Two of our processes on one
// node (two CLIs, the editor and a CLI, two machines over SSH) that change slots, pins or a sandbox take the same
// lock, so neither can lose the other's update.
//
// The lock is `flock` on a file under /run on the node, held by a small process there whose standard input is a
// pipe from this process. It lets go when we end that pipe, and also when this process dies (the pipe closes), when
// the SSH connection drops (sshd closes the session's input) or when the holder is killed: no lock can outlive its
// owner, and none needs to be cleaned up. /run is a tmpfs cleared at boot, like the bpffs whose state it guards.
//
// The holder script is a constant: the paths and the wait reach it as positional parameters.
import { PassThrough } from 'node:stream';
import type { RunResult } from '../process';
import type { Target } from './target';

/** Where lock (and journal) files live on a node: one folder per bpffs mount, so private test mounts do not collide. */
export const NODE_STATE_ROOT = '/run/cilium-custom';

/** A lock was not obtained within the wait: another of our processes holds it. */
export class NodeLockBusy extends Error {
  constructor(
    readonly lockName: string,
    readonly waitedMs: number,
  ) {
    super(`the ${lockName} lock on the node is held by another cilium-custom process (waited ${Math.round(waitedMs / 1000)} s)`);
  }
}

/** The lock could not be taken for another reason (no flock, /run not writable, connection). */
export class NodeLockFailed extends Error {}

export interface NodeLockOptions {
  /** How long to wait for the lock; default 60 s (a holder loads a program at most, which takes seconds). */
  waitMs?: number;
  /** Cancels the wait (not the work: fn gets its own signal). */
  signal?: AbortSignal;
}

const HOLDER_NAME = 'cilium-custom-lock';
// Polls with `flock -n` rather than `flock -w`, which busybox (Alpine nodes) lacks. `exec cat` keeps fd 9, and with
// it the lock, until standard input ends.
const HOLDER_SCRIPT = `dir=$1 lock=$2 tries=$3
mkdir -p -m 0700 -- "$dir" || exit 3
exec 9>>"$lock" || exit 3
n=0
until flock -n 9; do
  n=$((n + 1))
  [ "$n" -ge "$tries" ] && { echo '@busy'; exit 75; }
  sleep 0.1
done
echo '@held'
exec cat >/dev/null
`;

/** The node-side folder for one bpffs mount: /run/cilium-custom/<the bpffs path, escaped>. */
export function nodeStateDir(bpffsRoot: string): string {
  const slug = bpffsRoot.replace(/\/+$/, '').replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${NODE_STATE_ROOT}/${slug || '_2f'}`;
}

function checkLockName(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(name)) throw new Error(`invalid lock name ${JSON.stringify(name)}`);
  return name;
}

/** Runs fn while holding the named lock on the target; throws NodeLockBusy when another process keeps it too long. */
export async function withNodeLock<T>(target: Target, name: string, fn: () => Promise<T>, options: NodeLockOptions = {}): Promise<T> {
  const release = await acquireNodeLock(target, name, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Takes the lock and returns the function that lets it go (idempotent). */
export async function acquireNodeLock(target: Target, name: string, options: NodeLockOptions = {}): Promise<() => Promise<void>> {
  if (options.signal?.aborted) throw new NodeLockFailed(`waiting for the ${name} lock on ${target.name} was cancelled`);
  const dir = nodeStateDir(target.bpffsRoot);
  const waitMs = options.waitMs ?? 60_000;
  const tries = Math.max(1, Math.ceil(waitMs / 100));
  const stdin = new PassThrough();
  let resolveHeld: (held: boolean) => void = () => {};
  const held = new Promise<boolean>((resolve) => (resolveHeld = resolve));
  let stdout = '';
  // The caller's signal cancels the wait only: once held, the lock stays until release, so that a rollback after a
  // cancellation still runs under it.
  const killHolder = new AbortController();
  const onAbort = () => killHolder.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const run = target.run(['sh', '-c', HOLDER_SCRIPT, HOLDER_NAME, dir, `${dir}/${checkLockName(name)}.lock`, String(tries)], {
    privileged: true,
    input: stdin,
    signal: killHolder.signal,
    onStdout: (chunk) => {
      stdout += chunk;
      if (stdout.includes('@held\n')) resolveHeld(true);
    },
  });
  const ended = run.then((result) => {
    resolveHeld(false);
    return result;
  });
  const gotIt = await held;
  options.signal?.removeEventListener('abort', onAbort);
  if (!gotIt) {
    stdin.end();
    const result = await ended;
    if (result.stdout.includes('@busy')) throw new NodeLockBusy(name, waitMs);
    if (result.cancelled) throw new NodeLockFailed(`waiting for the ${name} lock on ${target.name} was cancelled`);
    throw new NodeLockFailed(`could not take the ${name} lock on ${target.name}: ${lockFailure(target, result)}`);
  }
  let released: Promise<void> | undefined;
  return () => {
    released ??= (async () => {
      stdin.end();
      await ended;
    })();
    return released;
  };
}

function lockFailure(target: Target, result: RunResult): string {
  const said = result.stderr.trim().split('\n').filter((l) => l.trim() !== '').at(-1);
  if (/flock: (not found|No such file)/.test(result.stderr)) return 'flock is not installed there (util-linux or busybox provides it)';
  return said ?? target.describeFailure?.(result) ?? `exit code ${result.exitCode}`;
}
