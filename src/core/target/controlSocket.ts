// Where SSH connections that outlive one run live: one ControlMaster socket per user and target, in a private
// runtime directory (0700, owned by us): $XDG_RUNTIME_DIR/cilium-custom/ssh, else ~/.cache/cilium-custom/ssh, else
// (a path too long for a Unix socket) /tmp/cilium-custom-<uid>/ssh. A socket's name is a hash of the target's
// connection identity (ssh binary, destination, port, identity file, config file, options), so that it stays far
// below the 108 bytes of sun_path, and a `<name>.json` beside it says which target it is (for `cilium-custom targets`).
//
// Nobody but the user (and root) can use a socket: the directory is 0700 and ssh makes the socket 0600. A master
// lives for ControlPersist seconds after its last session ends (SshTargetConfig.controlPersistSec); `cilium-custom
// targets --close`, SshTarget.dispose() and the extension's deactivation close them sooner.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess, succeeded } from '../process';

/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;
/** The socket file name: 20 characters of base32 (100 bits of SHA-256). */
const NAME_CHARS = 20;

export interface ConnectionIdentity {
  ssh: string;
  destination: string;
  port?: number;
  identityFile?: string;
  configFile?: string;
  extraOptions?: readonly string[];
}

/** What `<socket>.json` records about the master behind a socket. */
export interface ConnectionInfo {
  name: string;
  destination: string;
  port?: number;
  ssh: string;
  configFile?: string;
  /** When the master was started (ISO time) and for how long it stays when idle. */
  startedAt: string;
  persistSec: number;
}

export interface KeptConnection {
  socket: string;
  info?: ConnectionInfo;
  state: 'alive' | 'stale';
}

/** The private directory for control sockets (not created here): see the header comment. */
export function controlSocketDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime)) candidates.push(path.join(runtime, 'cilium-custom', 'ssh'));
  const home = env.HOME || os.homedir();
  if (home && path.isAbsolute(home)) candidates.push(path.join(home, '.cache', 'cilium-custom', 'ssh'));
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const fallback = path.join('/tmp', `cilium-custom-${uid}`, 'ssh');
  return candidates.find((dir) => dir.length + 1 + NAME_CHARS + '.lock'.length <= MAX_SOCKET_PATH) ?? fallback;
}

/** The socket's file name for a connection identity: short, fixed length, no characters ssh would expand. */
export function controlSocketName(identity: ConnectionIdentity): string {
  const canonical = JSON.stringify([
    identity.ssh,
    identity.destination,
    identity.port ?? null,
    identity.identityFile ?? null,
    identity.configFile ?? null,
    [...(identity.extraOptions ?? [])],
  ]);
  const digest = crypto.createHash('sha256').update(canonical).digest();
  return base32(digest).slice(0, NAME_CHARS);
}

function base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * Creates `dir` (and its parents) and makes sure it is private: a real directory (not a symlink), owned by us, mode
 * 0700. A directory owned by someone else is refused rather than used.
 */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  // Level by level rather than `recursive: true`, which reports ENOENT where the file system said EROFS.
  const missing: string[] = [];
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      await fs.stat(at);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(at) === at) throw error;
      missing.unshift(at);
    }
  }
  for (const level of missing) {
    try {
      await fs.mkdir(level, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const stat = await fs.lstat(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : stat.uid;
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (stat.uid !== uid) throw new Error(`${dir} belongs to uid ${stat.uid}, not to us (uid ${uid})`);
  if ((stat.mode & 0o777) !== 0o700) await fs.chmod(dir, 0o700);
}

/**
 * Whether a master listens on `socket`, without starting ssh: a live master accepts the connection (and sees it
 * closed at once), a dead one leaves a socket file that refuses it.
 */
export function probeControlSocket(socket: string, timeoutMs = 1000): Promise<'alive' | 'stale' | 'absent'> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    const done = (state: 'alive' | 'stale' | 'absent') => {
      clearTimeout(timer);
      conn.removeAllListeners();
      conn.on('error', () => undefined);
      conn.destroy();
      resolve(state);
    };
    // A master too busy to accept within the timeout is alive; ssh will queue behind it.
    const timer = setTimeout(() => done('alive'), timeoutMs);
    conn.once('connect', () => done('alive'));
    conn.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ENOENT' ? 'absent' : 'stale'));
  });
}

/**
 * Runs `fn` holding `<socket>.lock` (exclusive create), so that two processes do not start two masters on one
 * socket. A lock whose holder process is gone, or older than `staleMs`, is taken over.
 */
export async function withSocketLock<T>(socket: string, waitMs: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const lock = `${socket}.lock`;
  const deadline = Date.now() + waitMs;
  let locked = false;
  for (;;) {
    try {
      const handle = await fs.open(lock, 'wx', 0o600);
      locked = true;
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      // No lock to be had (a read-only or full directory): go ahead unlocked, the caller reports what ssh says.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') break;
    }
    if (await lockIsStale(lock, waitMs)) {
      await fs.rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline || signal?.aborted) break; // Go ahead without the lock rather than hang.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    return await fn();
  } finally {
    if (locked) await fs.rm(lock, { force: true }).catch(() => undefined);
  }
}

async function lockIsStale(lock: string, staleMs: number): Promise<boolean> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(lock, 'utf8'), fs.stat(lock)]);
    if (Date.now() - stat.mtimeMs > staleMs) return true;
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - stat.mtimeMs > 1000;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // Gone meanwhile: the next open tells.
  }
}

export async function writeConnectionInfo(socket: string, info: ConnectionInfo): Promise<void> {
  await fs.writeFile(`${socket}.json`, `${JSON.stringify(info)}\n`, { mode: 0o600 }).catch(() => undefined);
}

async function readConnectionInfo(socket: string): Promise<ConnectionInfo | undefined> {
  try {
    return JSON.parse(await fs.readFile(`${socket}.json`, 'utf8')) as ConnectionInfo;
  } catch {
    return undefined;
  }
}

/** Removes a socket and the files beside it. */
export async function removeSocketFiles(socket: string): Promise<void> {
  await Promise.all([socket, `${socket}.json`].map((file) => fs.rm(file, { force: true }).catch(() => undefined)));
}

/** The control sockets in `dir` (live or stale), with what is known about them. */
export async function listKeptConnections(dir = controlSocketDirectory()): Promise<KeptConnection[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const isSocketName = (name: string) => name.length === NAME_CHARS && /^[a-z2-7]+$/.test(name);
  const sockets = names.filter(isSocketName).map((name) => path.join(dir, name));
  // Info files whose socket is gone (a master that ended on its own) are listed too, as stale.
  for (const name of names) {
    const base = name.endsWith('.json') ? name.slice(0, -'.json'.length) : undefined;
    if (base && isSocketName(base) && !names.includes(base)) sockets.push(path.join(dir, base));
  }
  return Promise.all(
    sockets.sort().map(async (socket) => {
      const [state, info] = await Promise.all([probeControlSocket(socket), readConnectionInfo(socket)]);
      return { socket, state: state === 'alive' ? 'alive' : 'stale', ...(info ? { info } : {}) } as KeptConnection;
    }),
  );
}

/**
 * Closes the master behind `socket` (`ssh -O exit`), waits for it to exit (SIGKILL after 3 s), and removes the
 * socket's files. True when nothing is left.
 */
export async function closeControlSocket(socket: string, options: { ssh?: string; destination?: string } = {}): Promise<boolean> {
  const ssh = options.ssh ?? 'ssh';
  const argv = (op: string) => [ssh, '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `ControlPath=${socket}`, '-O', op, '--', options.destination ?? 'cilium-custom-target'];
  let pid = NaN;
  if ((await probeControlSocket(socket)) === 'alive') {
    const check = await runProcess(argv('check'), { timeoutMs: 5000 });
    pid = Number(/pid=([0-9]+)/.exec(check.stderr)?.[1] ?? NaN);
    if (succeeded(check)) await runProcess(argv('exit'), { timeoutMs: 5000 });
  }
  let gone = true;
  if (Number.isInteger(pid) && !(await waitForExit(pid, 3000))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    gone = await waitForExit(pid, 1000);
  }
  await removeSocketFiles(socket);
  return gone;
}

/** Closes every kept connection in `dir`; returns what was closed (live ones) and removed (stale ones). */
export async function closeKeptConnections(dir = controlSocketDirectory()): Promise<{ closed: KeptConnection[]; removed: KeptConnection[]; failed: KeptConnection[] }> {
  const all = await listKeptConnections(dir);
  const closed: KeptConnection[] = [];
  const removed: KeptConnection[] = [];
  const failed: KeptConnection[] = [];
  await Promise.all(
    all.map(async (connection) => {
      const ok = await closeControlSocket(connection.socket, { ssh: connection.info?.ssh, destination: connection.info?.destination });
      (ok ? (connection.state === 'alive' ? closed : removed) : failed).push(connection);
    }),
  );
  return { closed, removed, failed };
}

/** Waits until a local process has exited (a zombie counts as exited). */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
