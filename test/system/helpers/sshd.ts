// A throwaway OpenSSH server for system tests: listens on 127.0.0.1 on a free port, runs in the foreground as our
// child, accepts one throwaway client key for root, and leaves nothing behind after stop().
import type { SshTargetConfig } from '../../../src/core/target';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const SSHD_PATH = '/usr/sbin/sshd';

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  user: 'root';
  /** Private key accepted by this server (0600). */
  identityFile: string;
  /** known_hosts with this server's host key for [127.0.0.1]:port, for StrictHostKeyChecking=yes. */
  knownHostsFile: string;
  /** The temporary directory holding keys, config and pid file (removed by stop()). */
  dir: string;
  /** PID of the listening sshd. */
  pid: number;
  /** `-o` values that make a client trust exactly this server and use exactly this key. */
  clientOptions: string[];
  /** Everything sshd logged so far (it runs with -e). */
  log(): string;
  /** SIGKILL the listener and every process below it (open sessions die mid-stream). The temp dir stays. */
  killAbruptly(): void;
  /** Stop sshd and its children, then remove the temp dir. Safe to call more than once. */
  stop(): Promise<void>;
}

export function sshdAvailable(): boolean {
  return fs.existsSync(SSHD_PATH) && fs.existsSync('/usr/bin/ssh-keygen');
}

/** Starts sshd; rejects (after cleaning up) when it does not accept connections within `readyTimeoutMs`. */
export async function startSshd(options: { readyTimeoutMs?: number } = {}): Promise<Sshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-sshd-'));
  try {
    return await startIn(dir, options.readyTimeoutMs ?? 10_000);
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir: string, readyTimeoutMs: number): Promise<Sshd> {
  // Privilege separation directory that Debian's init scripts normally create.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const hostKey = path.join(dir, 'host_ed25519');
  const identityFile = path.join(dir, 'client_ed25519');
  for (const file of [hostKey, identityFile]) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ccp-test', '-f', file], { stdio: 'ignore' });
  }
  const authorizedKeys = path.join(dir, 'authorized_keys');
  fs.writeFileSync(authorizedKeys, fs.readFileSync(`${identityFile}.pub`), { mode: 0o600 });

  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      'PrintMotd no',
      'PrintLastLog no',
      'UseDNS no',
      'MaxStartups 100',
      'MaxSessions 100',
      'AcceptEnv LANG LC_*',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );

  const hostPublic = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHostsFile = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostPublic}\n`);

  const child = spawn(SSHD_PATH, ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  child.once('error', (error) => (log += `spawn error: ${error.message}\n`));

  // The whole tree is collected before anything is signalled: once the listener dies its session processes are
  // re-parented and could no longer be found below it.
  const signalAll = (pids: readonly number[], signal: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  };
  const tree = () => (child.pid === undefined ? [] : [child.pid, ...descendants(child.pid)]);

  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      const pids = hasExited ? [] : tree();
      signalAll(pids, 'SIGTERM');
      if (!hasExited) {
        const grace = setTimeout(() => signalAll(pids, 'SIGKILL'), 2000);
        await exited;
        clearTimeout(grace);
      }
      // Session processes that ignored SIGTERM.
      signalAll(pids.filter(isAlive), 'SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitUntilListening(port, readyTimeoutMs, () => (hasExited ? `sshd exited early:\n${log}` : undefined));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    identityFile,
    knownHostsFile,
    dir,
    pid: child.pid as number,
    clientOptions: [
      `UserKnownHostsFile=${knownHostsFile}`,
      'GlobalKnownHostsFile=/dev/null',
      'StrictHostKeyChecking=yes',
      'IdentitiesOnly=yes',
      'IdentityAgent=none',
    ],
    log: () => log,
    killAbruptly: () => signalAll(tree(), 'SIGKILL'),
    stop,
  };
}

/** Asks the kernel for a free port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilListening(port: number, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = failed();
    if (problem) throw new Error(problem);
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** All processes below `root` (children, grandchildren, ...), read from /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const result: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const child of children.get(pid) ?? []) {
      result.push(child);
      queue.push(child);
    }
  }
  return result;
}


function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The SSH target configuration that reaches a throwaway sshd (its key, its known_hosts, no user ssh_config). */
export function sshTargetConfig(sshd: Sshd, overrides: Partial<SshTargetConfig> = {}): SshTargetConfig {
  return {
    name: 'test-node',
    destination: `${sshd.user}@${sshd.host}`,
    port: sshd.port,
    identityFile: sshd.identityFile,
    configFile: '/dev/null',
    extraOptions: sshd.clientOptions,
    connectTimeoutSec: 5,
    ...overrides,
  };
}
