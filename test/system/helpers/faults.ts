// Fault injection for system tests: fake bpftools that print garbage, a TCP listener that never speaks, private bpffs
// and tmpfs mounts, killing only the sshd processes of a session (the command survives, as on a network
// partition), and snapshots of what a run may leave behind outside the bpffs (temp dirs, processes).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeStateDir } from '../../../src/core/target/nodeLock';
import { processes, type ProcessInfo } from './pins';
import { descendants, type Sshd } from './sshd';

export type FakeBpftoolMode = 'garbage-json' | 'random-bytes' | 'garbage-255';

/** A shell script standing in for bpftool: prints garbage (never valid JSON) and exits 0 or 255. */
export function fakeBpftool(dir: string, mode: FakeBpftoolMode): string {
  const file = path.join(dir, `bpftool-${mode}`);
  const body =
    mode === 'garbage-json'
      ? `printf '{"id": 12, "type": "prog_array", "name": '\nexit 0`
      : mode === 'random-bytes'
        ? `head -c 512 /dev/urandom\nexit 0`
        : `printf '[{"key": ["0x00"' ; printf 'libbpf: \\377\\376 garbage\\n' >&2\nexit 255`;
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** A TCP listener on 127.0.0.1 that accepts connections and never sends a byte. */
export async function silentListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return {
    port: address.port,
    connections: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Mounts a filesystem of `type` (bpf, tmpfs) on a fresh directory; `remove` unmounts (lazily if busy) and deletes it. */
export function privateMount(type: 'bpf' | 'tmpfs', options?: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ccp-faults-${type}-`));
  execFileSync('mount', ['-t', type, ...(options ? ['-o', options] : []), type, dir], { stdio: 'pipe' });
  return {
    dir,
    remove: () => {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
      fs.rmSync(dir, { recursive: true, force: true });
      // The node lock's folder for this mount (attach, detach and cleanup make it).
      fs.rmSync(nodeStateDir(dir), { recursive: true, force: true });
    },
  };
}

/** Fills a filesystem until writes fail with ENOSPC. */
export function fill(dir: string): void {
  const chunk = Buffer.alloc(4096, 0x61);
  const fd = fs.openSync(path.join(dir, 'filler'), 'w');
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
  // Inodes too, so that even mkdir fails where the filesystem limits them.
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(path.join(dir, `d${i}`));
    } catch {
      break;
    }
    if (i > 100_000) break;
  }
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * SIGKILLs the sshd listener and every sshd process of its sessions, but not the commands they run: what a remote
 * sees when sshd crashes or is restarted under a running command. Returns the pids of the surviving commands.
 */
export function killSshdOnly(sshd: Sshd): number[] {
  const tree = [sshd.pid, ...descendants(sshd.pid)];
  const daemons = tree.filter((pid) => pid === sshd.pid || comm(pid).startsWith('sshd'));
  for (const pid of daemons) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return tree.filter((pid) => !daemons.includes(pid));
}

/** Names in the temp directory that targets make: LocalTarget's cilium-custom-*, remote mktemp's cilium-custom.*, ssh control dirs. */
export function tempEntries(dir = os.tmpdir()): string[] {
  try {
    return fs.readdirSync(dir).filter((name) => /^(cilium-custom[-.]|ccp-ssh-)/.test(name)).sort();
  } catch {
    return [];
  }
}

/** Entries of tempEntries() that were not in `before`. */
export function newTempEntries(before: readonly string[], dir = os.tmpdir()): string[] {
  const was = new Set(before);
  return tempEntries(dir).filter((name) => !was.has(name));
}

/** ssh processes using a control socket under `controlDir` (the master and any client). */
export function sshProcesses(controlDir: string): ProcessInfo[] {
  return processes((argv) => argv.length > 0 && path.basename(argv[0]) === 'ssh' && argv.some((a) => a.includes(controlDir)));
}

/** Processes whose argv mentions `text`, with the program's base name among `names`. */
export function namedProcesses(names: readonly string[], text: string): ProcessInfo[] {
  return processes((argv) => argv.length > 0 && names.includes(path.basename(argv[0])) && argv.some((a) => a.includes(text)));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
