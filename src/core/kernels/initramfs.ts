// The VM's whole root file system, built on the fly: the host's busybox and bpftool with the libraries `ldd` names
// (copied by content, like cp -L), an /init script that runs the jobs, and the jobs themselves (each an argv, one
// file per word, and optionally its standard input). Nothing of the host is shared with the VM at run time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess } from '../process';
import { shellQuote } from '../target/shellQuote';
import { writeCpio, type CpioEntry } from './cpio';

export interface VmJob {
  argv: readonly string[];
  input?: Buffer;
}

/** Where the tools live in the VM. */
export const VM_BPFTOOL = '/bin/bpftool';
export const VM_BPFFS = '/sys/fs/bpf';

/** Marker lines on the job port (ttyS1): `@@<nonce> boot <uname -r>`, `begin <id> <pid>`, `end <id> <status>`, `done`. */
export function markerPrefix(nonce: string): string {
  return `@@ccp-${nonce}`;
}

// The init: mount what bpftool and the verify script need, then run each job with its output on ttyS1 between
// markers, then power off (with -no-reboot, QEMU exits). A job's argv is one file, quoted by the project's one
// quoting function (shellQuote, as for SSH): \`eval set --\` gives back the very words, any byte but NUL intact, at
// the cost of one fork (a file per word cost two forks a word: about a second per job under TCG).
const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin HOME=/ TMPDIR=/tmp
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t bpf bpf ${VM_BPFFS}
ulimit -l unlimited 2>/dev/null
stty -F /dev/ttyS1 raw -echo 2>/dev/null
m=$(cat /etc/ccp-marker)
exec 3>/dev/ttyS1
printf '\\n%s boot %s\\n' "$m" "$(uname -r)" >&3
for job in /jobs/*; do
  [ -d "$job" ] || continue
  id=\${job##*/}
  eval "set -- $(cat "$job/argv")"
  if [ -f "$job/stdin" ]; then in=$job/stdin; else in=/dev/null; fi
  # The begin marker names the job's own pid (the sh that then execs the argv).
  ( cd / && exec sh -c 'printf "%s begin %s %s\\n" "$1" "$2" "$$"; shift 2; exec "$@"' sh "$m" "$id" "$@" ) <"$in" >&3 2>&3
  status=$?
  printf '\\n%s end %s %s\\n' "$m" "$id" "$status" >&3
done
printf '%s done\\n' "$m" >&3
exec 3>&-
reboot -f
sleep 30
`;

export interface HostTools {
  busybox: string;
  bpftool: string;
  /** Absolute paths of the libraries both need, as ldd resolved them (the loader included). */
  libraries: string[];
}

let toolsCache: Promise<HostTools> | undefined;

/** Finds busybox, bpftool and their libraries on this machine (once per process). */
export function hostTools(): Promise<HostTools> {
  toolsCache ??= findHostTools().catch((error: unknown) => {
    toolsCache = undefined;
    throw error;
  });
  return toolsCache;
}

export class InitramfsError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

async function findHostTools(): Promise<HostTools> {
  const busybox = which('busybox');
  if (!busybox) throw new InitramfsError('busybox is not installed on this machine: the kernel VMs run it as their shell', 'Install it: apt-get install busybox');
  const bpftool = which('bpftool');
  if (!bpftool) throw new InitramfsError('bpftool is not installed on this machine: the kernel VMs run the host\'s bpftool', 'Install it: apt-get install bpftool');
  const libraries = new Set<string>();
  for (const binary of [busybox, bpftool]) {
    const ldd = await runProcess(['ldd', binary], { timeoutMs: 30_000 });
    if (ldd.exitCode !== 0) {
      if (/not a dynamic executable/.test(ldd.stdout + ldd.stderr)) continue; // static: nothing to copy
      throw new InitramfsError(`ldd ${binary} failed: ${(ldd.stderr || ldd.spawnError?.message || '').trim()}`, 'Install libc-bin (ldd).');
    }
    for (const lib of parseLdd(ldd.stdout)) libraries.add(lib);
  }
  return { busybox, bpftool, libraries: [...libraries] };
}

/** The absolute paths in ldd's output (`libc.so.6 => /lib/... (0x...)` and the loader's own line). */
export function parseLdd(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const plain = /^\s*(\/\S+)\s+\(0x/.exec(line);
    const file = arrow?.[1] ?? plain?.[1];
    if (file) out.push(file);
  }
  return out;
}

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (!dir) continue;
    const file = path.join(dir, command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The archive for a list of jobs; job ids are their 4-digit index ("0000", "0001", ...). */
export function buildInitramfs(tools: HostTools, jobs: readonly VmJob[], nonce: string): Buffer {
  const entries: CpioEntry[] = [];
  const dirs = new Set<string>();
  const dir = (p: string) => {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ kind: 'dir', path: d });
      }
    }
  };
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'run', 'etc', 'jobs', 'root']) dir(d);
  entries.push({ kind: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  entries.push({ kind: 'file', path: 'bin/busybox', data: fs.readFileSync(tools.busybox), mode: 0o755 });
  entries.push({ kind: 'symlink', path: 'bin/sh', target: 'busybox' });
  entries.push({ kind: 'file', path: 'bin/bpftool', data: fs.readFileSync(tools.bpftool), mode: 0o755 });
  for (const lib of tools.libraries) {
    dir(path.posix.dirname(lib));
    // readFileSync follows symlinks: the content, as cp -L copies it.
    entries.push({ kind: 'file', path: lib, data: fs.readFileSync(lib), mode: 0o755 });
  }
  entries.push({ kind: 'file', path: 'etc/ccp-marker', data: Buffer.from(markerPrefix(nonce)) });
  entries.push({ kind: 'file', path: 'init', data: Buffer.from(INIT), mode: 0o755 });
  jobs.forEach((job, index) => {
    const id = jobId(index);
    dir(`jobs/${id}`);
    entries.push({ kind: 'file', path: `jobs/${id}/argv`, data: Buffer.from(shellQuote(job.argv), 'utf8') });
    if (job.input !== undefined) entries.push({ kind: 'file', path: `jobs/${id}/stdin`, data: job.input });
  });
  return writeCpio(entries);
}

export function jobId(index: number): string {
  return String(index).padStart(4, '0');
}
