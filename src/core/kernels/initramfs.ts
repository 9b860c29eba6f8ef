// The VM's whole root file system, built on the fly: the host's busybox and bpftool with the libraries `ldd` names
// (copied by content, like cp -L) and an /init script that serves jobs sent over a serial port. Nothing of the host
// is shared with the VM at run time.
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

// The init: mount what bpftool and the verify script need, say "boot" on ttyS1, then serve jobs that arrive on the
// same port (QEMU's standard input) one at a time, until the host kills QEMU. A job is one frame: the line
// `job <id> <argv bytes> <stdin bytes>`, then the argv (quoted by the project's one quoting function, shellQuote, as
// for SSH: \`eval set --\` gives back the very words, any byte but NUL intact), then the standard input. dd reads
// exactly those byte counts (count_bytes, fullblock), so a frame never eats into the next; the port is raw, so every
// byte arrives as sent. The job's output goes back between markers carrying a random nonce, so a job cannot fake one.
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
stty -F /dev/ttyS1 raw -echo -iexten -ixon -ixoff 2>/dev/null
# An interrupt per 14 received bytes rather than 8: job frames arrive about a third faster.
echo 14 >/sys/class/tty/ttyS1/rx_trig_bytes 2>/dev/null
m=$(cat /etc/ccp-marker)
exec 3>/dev/ttyS1 4</dev/ttyS1
printf '\\n%s boot %s\\n' "$m" "$(uname -r)" >&3
take() { if [ "$2" -gt 0 ]; then dd of="$1" bs=65536 count="$2" iflag=count_bytes,fullblock <&4 2>/dev/null; else : >"$1"; fi; }
while read -r word id alen ilen <&4; do
  [ "$word" = job ] || continue
  mkdir -p /run/job
  take /run/job/argv "$alen"
  take /run/job/stdin "$ilen"
  eval "set -- $(cat /run/job/argv)"
  # The begin marker names the job's own pid (the sh that then execs the argv).
  ( cd / && exec sh -c 'printf "%s begin %s %s\\n" "$1" "$2" "$$"; shift 2; exec "$@"' sh "$m" "$id" "$@" ) </run/job/stdin >&3 2>&3 4<&-
  status=$?
  rm -rf /run/job
  printf '\\n%s end %s %s\\n' "$m" "$id" "$status" >&3
done
reboot -f
sleep 30
`;

/** One job as the init reads it from the job port: a header line, the quoted argv, the standard input. */
export function encodeJobFrame(id: string, job: VmJob): Buffer {
  const argv = Buffer.from(shellQuote(job.argv), 'utf8');
  const input = job.input ?? Buffer.alloc(0);
  return Buffer.concat([Buffer.from(`job ${id} ${argv.length} ${input.length}\n`, 'latin1'), argv, input]);
}

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

/** The VM's root file system: the tools, the init and the marker nonce (jobs come later, over the job port). */
export function buildInitramfs(tools: HostTools, nonce: string): Buffer {
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
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'run', 'etc', 'root']) dir(d);
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
  return writeCpio(entries);
}

export function jobId(index: number): string {
  return String(index).padStart(4, '0');
}
