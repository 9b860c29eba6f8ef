// One build of an object at a time, across processes (the CLI, the editor, a task, two terminals): a build of a
// header waits while another build of the same object runs, then builds again itself (the header may have changed
// since the other build read it).
//
// The lock is flock(2) on a file named after the object, under a per-user directory in the temp folder. Node has
// no flock, so `flock(1)` takes it for us on a file descriptor we opened and pass to it: the lock belongs to that
// open file description, which we keep after flock exits, so it is held until we close the descriptor. The kernel
// releases it when this process dies, however it dies: no stale lock file, no pid to check, no clean-up. (An O_EXCL
// lock file would need stale-pid detection, which cannot tell a reused pid from the owner.) The descriptor is
// close-on-exec, so make and clang never hold it.
//
// The lock is an optimisation and an ordering, not what keeps readers safe: objects are renamed into place
// complete (staging.ts), so a build that runs without the lock (flock missing, another user's build) is still safe.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface BuildLockOptions {
  signal?: AbortSignal;
  /** Called once when another build holds the lock and this one starts waiting. */
  onWait?: () => void;
  /** Called with a note when no lock could be taken and the build runs without one. */
  onUnlocked?: (why: string) => void;
  /** For tests: where lock files live. */
  lockDir?: string;
}

export class BuildLockCancelled extends Error {}

/**
 * The directory of lock files: per user, so that no other user can hold or replace ours (in /tmp, whose sticky bit
 * keeps others from renaming it). Hidden and permanent: it is not one of the temporary cilium-custom-* run folders.
 */
export function defaultLockDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(os.tmpdir(), `.cilium-custom-build-locks-${uid}`);
}

/** The lock file of an object: the hash of its real path, so that two spellings of one path share a lock. */
export function lockFileFor(objectPath: string, lockDir = defaultLockDir()): string {
  const absolute = path.resolve(objectPath);
  let real = absolute;
  try {
    real = path.join(fs.realpathSync(path.dirname(absolute)), path.basename(absolute));
  } catch {
    // The folder is gone: the build fails anyway, with its own message.
  }
  return path.join(lockDir, `${crypto.createHash('sha256').update(real).digest('hex').slice(0, 32)}.lock`);
}

export async function withBuildLock<T>(objectPath: string, fn: () => Promise<T>, options: BuildLockOptions = {}): Promise<T> {
  const fd = await acquire(objectPath, options);
  try {
    return await fn();
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The open, locked descriptor; undefined when the build goes on without a lock. */
async function acquire(objectPath: string, options: BuildLockOptions): Promise<number | undefined> {
  const lockDir = options.lockDir ?? defaultLockDir();
  let fd: number;
  try {
    ensurePrivateDir(lockDir);
    // O_NOFOLLOW: a symlink planted in our directory (it is ours, but be strict) is not followed.
    fd = fs.openSync(lockFileFor(objectPath, lockDir), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    options.onUnlocked?.(`no build lock (${(error as Error).message})`);
    return undefined;
  }
  try {
    if (await runFlock(fd, ['-n'], options.signal)) return fd;
    options.onWait?.();
    if (await runFlock(fd, [], options.signal)) return fd;
    throw new Error('flock failed');
  } catch (error) {
    fs.closeSync(fd);
    if (error instanceof BuildLockCancelled) throw error;
    options.onUnlocked?.(`no build lock (${(error as Error).message})`);
    return undefined;
  }
}

/** Runs `flock [-n] 3` on our descriptor: true when locked, false when busy (-n). */
function runFlock(fd: number, flags: string[], signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new BuildLockCancelled('build cancelled while waiting for another build'));
    const child = spawn('flock', ['-x', ...flags, '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new Error((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'flock is not installed (util-linux)' : error.message));
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(new BuildLockCancelled('build cancelled while waiting for another build'));
      if (code === 0) return resolve(true);
      if (code === 1 && flags.includes('-n')) return resolve(false);
      reject(new Error(stderr.trim() || `flock exited with ${code}`));
    });
  });
}

/** Makes the lock directory and checks that it is ours, not one planted by someone else (or a symlink). */
function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) throw new Error(`${dir} is not a directory of ours`);
}
