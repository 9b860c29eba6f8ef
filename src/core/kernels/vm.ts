// One boot of a kernel under QEMU that runs a list of jobs and powers off. The console (ttyS0) goes to a file in a
// private temporary folder, kept for the messages of a kernel that does not boot; the jobs' output comes on a second
// serial port (ttyS1, QEMU's standard output) between marker lines carrying a random nonce, so a job cannot fake
// one. The folder (initramfs, console log) is removed afterwards, whatever happened; QEMU is killed at the boot
// deadline, at a job's timeout, on cancellation, and by the kernel (parent-death signal) if this process dies.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from '../process';
import { buildInitramfs, hostTools, InitramfsError, markerPrefix, type VmJob } from './initramfs';

export type VmAccel = 'auto' | 'kvm' | 'tcg';

export interface VmOptions {
  /** The kernel image (bzImage). */
  vmlinuz: string;
  /** A name for messages, e.g. "kernel 6.1 (6.1.176)". */
  label: string;
  memoryMb?: number;
  accel?: VmAccel;
  /** How long the kernel may take to reach /init; default $CILIUM_CUSTOM_VM_BOOT_TIMEOUT seconds, or 90 s (TCG on a busy machine). */
  bootTimeoutMs?: number;
  /** The QEMU executable; default $CILIUM_CUSTOM_QEMU or qemu-system-x86_64. */
  qemu?: string;
  /** Stops the whole VM. */
  signal?: AbortSignal;
  /** Called once the kernel reached /init, with `uname -r`, the time since QEMU started and the accelerator. */
  onBoot?: (release: string, bootMs: number, accel: 'kvm' | 'tcg') => void;
}

export interface VmJobRun extends VmJob {
  timeoutMs?: number;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
  /** Most output kept in the result (the tail); default 16 Mi characters. */
  maxBuffer?: number;
}

export type VmFailureCode = 'ENOQEMU' | 'EVMSETUP' | 'EVMSTART' | 'EVMBOOT' | 'EVMDIED' | 'EVMSTOPPED';

export interface VmJobResult {
  exitCode: number | null;
  output: string;
  durationMs: number;
  cancelled: boolean;
  timedOut: boolean;
  /** The job's process id in the VM, once it started. */
  pid?: number;
  /** Why the job did not run to its end when it is not a timeout or cancellation. */
  failure?: { code: VmFailureCode; message: string };
}

export interface VmRunResult {
  jobs: VmJobResult[];
  /** `uname -r` in the VM, once it booted. */
  release?: string;
  accel: 'kvm' | 'tcg';
  /** From QEMU's start to the boot marker (not counting the wait for a VM slot). */
  bootMs?: number;
  totalMs: number;
}

/** At most this many VMs run at once in this process (TCG VMs each take a whole core): $CILIUM_CUSTOM_MAX_VMS or 2. */
export const MAX_VMS = Math.max(1, Number(process.env.CILIUM_CUSTOM_MAX_VMS) || 2);

class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.running >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new Error('cancelled'));
        };
        this.waiting.push(go);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiting.shift()?.();
    };
  }
}

const slots = new Semaphore(MAX_VMS);
/** Set once KVM failed to start a VM in this process: later VMs go straight to TCG. */
let kvmBroken = false;

export function qemuBinary(explicit?: string): string {
  return explicit ?? process.env.CILIUM_CUSTOM_QEMU ?? 'qemu-system-x86_64';
}

function kvmUsable(): boolean {
  if (kvmBroken) return false;
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The temporary folders of VMs: cilium-custom-vm-<pid>-<random> under the system's temp dir. */
export const VM_DIR_PREFIX = 'cilium-custom-vm-';

/** Removes VM folders left by processes of ours that died (SIGKILL leaves no chance to clean up). */
export function removeStaleVmDirs(base = os.tmpdir()): void {
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const match = new RegExp(`^${VM_DIR_PREFIX}([0-9]+)-`).exec(name);
    if (!match || Number(match[1]) === process.pid) continue;
    try {
      process.kill(Number(match[1]), 0);
      continue; // its owner still runs
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPERM') continue;
    }
    fs.rmSync(path.join(base, name), { recursive: true, force: true });
  }
}

let setprivPath: string | null | undefined;
function setpriv(): string | null {
  if (setprivPath === undefined) {
    setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p)) ?? null;
  }
  return setprivPath;
}

/** The QEMU command line: no devices but two serial ports, the kernel and the initramfs. */
export function qemuArgv(qemu: string, accel: 'kvm' | 'tcg', vmlinuz: string, initrd: string, consoleFile: string, memoryMb: number): string[] {
  return [
    qemu,
    '-accel', accel,
    ...(accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', String(memoryMb),
    '-smp', '1',
    '-nographic',
    '-nodefaults',
    '-no-reboot',
    '-monitor', 'none',
    '-serial', `file:${consoleFile}`,
    '-serial', 'stdio',
    '-kernel', vmlinuz,
    '-initrd', initrd,
    '-append', 'console=ttyS0 quiet panic=-1 oops=panic rdinit=/init',
  ];
}

/** Boots the kernel once and runs the jobs in order. Never throws: every job gets a result. */
export async function runVm(options: VmOptions, jobs: readonly VmJobRun[]): Promise<VmRunResult> {
  const started = Date.now();
  let release: () => void;
  try {
    release = await slots.acquire(options.signal);
  } catch {
    return { jobs: jobs.map(() => ({ ...empty(), cancelled: true })), accel: 'tcg', totalMs: Date.now() - started };
  }
  try {
    const wantKvm = (options.accel ?? (process.env.CILIUM_CUSTOM_VM_ACCEL as VmAccel | undefined) ?? 'auto') !== 'tcg' && options.accel !== 'tcg' && kvmUsable();
    if (wantKvm) {
      const result = await bootOnce(options, jobs, 'kvm', started);
      // KVM that cannot run this guest (nested virtualisation) fails before the kernel says anything: use TCG.
      if (result.release !== undefined || options.accel === 'kvm' || !result.kvmFailed) return result;
      kvmBroken = true;
    }
    return await bootOnce(options, jobs, 'tcg', started);
  } finally {
    release();
  }
}

function empty(): VmJobResult {
  return { exitCode: null, output: '', durationMs: 0, cancelled: false, timedOut: false };
}

type StopReason = { kind: 'boot-timeout' } | { kind: 'job-timeout'; job: number } | { kind: 'cancelled'; job?: number };

async function bootOnce(options: VmOptions, jobs: readonly VmJobRun[], accel: 'kvm' | 'tcg', started: number): Promise<VmRunResult & { kvmFailed?: boolean }> {
  const results: VmJobResult[] = jobs.map(() => empty());
  const fail = (code: VmFailureCode, message: string) => {
    for (const r of results) if (r.exitCode === null && !r.cancelled && !r.timedOut && !r.failure) r.failure = { code, message };
  };
  let tools;
  try {
    tools = await hostTools();
  } catch (error) {
    fail('EVMSETUP', error instanceof InitramfsError ? `${error.message}. ${error.fix}` : String(error));
    return { jobs: results, accel, totalMs: Date.now() - started };
  }
  removeStaleVmDirs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${VM_DIR_PREFIX}${process.pid}-`));
  try {
    const nonce = crypto.randomBytes(8).toString('hex');
    const initrd = path.join(dir, 'initrd.cpio');
    const consoleFile = path.join(dir, 'console.log');
    try {
      fs.writeFileSync(initrd, buildInitramfs(tools, jobs, nonce), { mode: 0o600 });
    } catch (error) {
      fail('EVMSETUP', `could not build the initramfs: ${error instanceof Error ? error.message : String(error)}`);
      return { jobs: results, accel, totalMs: Date.now() - started };
    }
    const qemu = qemuBinary(options.qemu);
    const argv = qemuArgv(qemu, accel, options.vmlinuz, initrd, consoleFile, options.memoryMb ?? 512);
    const pdeath = setpriv();
    const command = pdeath ? [pdeath, '--pdeathsig', 'KILL', '--', ...argv] : argv;

    const stop = new AbortController();
    let reason: StopReason | undefined;
    const stopWith = (r: StopReason) => {
      reason ??= r;
      stop.abort();
    };
    const cleanups: Array<() => void> = [];
    const listen = (signal: AbortSignal | undefined, r: StopReason) => {
      if (!signal) return;
      if (signal.aborted) return stopWith(r);
      const on = () => stopWith(r);
      signal.addEventListener('abort', on, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', on));
    };
    listen(options.signal, { kind: 'cancelled' });
    jobs.forEach((job, i) => listen(job.signal, { kind: 'cancelled', job: i }));
    const bootTimer = setTimeout(() => stopWith({ kind: 'boot-timeout' }), bootTimeout(options));
    cleanups.push(() => clearTimeout(bootTimer));

    let booted: string | undefined;
    let bootMs: number | undefined;
    let current = -1;
    let currentStarted = 0;
    let jobTimer: NodeJS.Timeout | undefined;
    cleanups.push(() => clearTimeout(jobTimer));
    const prefix = markerPrefix(nonce);
    const stream = new MarkerStream(prefix, {
      onBoot: (rel) => {
        booted = rel;
        bootMs = Date.now() - qemuStarted;
        clearTimeout(bootTimer);
        options.onBoot?.(rel, bootMs, accel);
      },
      onBegin: (id, pid) => {
        current = Number(id);
        currentStarted = Date.now();
        if (results[current] && Number.isInteger(pid)) results[current].pid = pid;
        const timeout = jobs[current]?.timeoutMs;
        clearTimeout(jobTimer);
        if (timeout !== undefined) {
          const job = current;
          jobTimer = setTimeout(() => stopWith({ kind: 'job-timeout', job }), timeout);
        }
      },
      onOutput: (text) => {
        const job = jobs[current];
        const result = results[current];
        if (!job || !result) return;
        result.output = keepTail(result.output + text, job.maxBuffer ?? 16 * 1024 * 1024);
        job.onOutput?.(text);
      },
      onEnd: (id, status) => {
        const result = results[Number(id)];
        if (result) {
          result.exitCode = status;
          result.durationMs = Date.now() - currentStarted;
        }
        clearTimeout(jobTimer);
        current = -1;
      },
    });
    const qemuStarted = Date.now();
    const run = await runProcess(command, {
      signal: stop.signal,
      onStdout: (chunk) => stream.push(chunk),
      maxBuffer: 64 * 1024,
    });
    stream.end();
    for (const c of cleanups) c();

    const consoleTail = readTail(consoleFile);
    if (run.spawnError) {
      const missing = run.spawnError.code === 'ENOENT' || (pdeath && run.exitCode === 127);
      fail(
        missing ? 'ENOQEMU' : 'EVMSTART',
        missing ? `QEMU is not installed (${qemu} not found): the kernel VMs need it. Install it: apt-get install qemu-system-x86` : `could not start ${qemu}: ${run.spawnError.message}`,
      );
      return { jobs: results, accel, totalMs: Date.now() - started };
    }
    if (pdeath && run.exitCode === 127 && booted === undefined && /No such file|cannot execute|failed to execute/.test(run.stderr)) {
      fail('ENOQEMU', `QEMU is not installed (${qemu} not found): the kernel VMs need it. Install it: apt-get install qemu-system-x86`);
      return { jobs: results, accel, totalMs: Date.now() - started };
    }
    // Jobs cut short: who stopped the VM decides what each of them says.
    results.forEach((result, i) => {
      if (result.exitCode !== null) return;
      if (i === current) result.durationMs = Date.now() - currentStarted;
      if (reason?.kind === 'job-timeout' && reason.job === i) result.timedOut = true;
      else if (reason?.kind === 'cancelled' && (reason.job === undefined || reason.job === i || jobs[i].signal?.aborted)) result.cancelled = true;
    });
    if (booted === undefined) {
      const qemuSaid = lastLine(run.stderr);
      if (reason?.kind === 'boot-timeout') {
        fail('EVMBOOT', `${options.label} did not boot within ${Math.round((bootTimeout(options)) / 1000)} s (QEMU was stopped)${consoleTail ? `; its console ended with: ${consoleTail}` : ''}`);
      } else if (!reason) {
        const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
        fail(
          'EVMBOOT',
          `${options.label} did not boot: QEMU ${how}${qemuSaid ? ` (${qemuSaid})` : ''}${consoleTail ? `; the console ended with: ${consoleTail}` : '; the kernel printed nothing (is it an x86-64 kernel with a serial console?)'}`,
        );
        return { jobs: results, accel, totalMs: Date.now() - started, kvmFailed: accel === 'kvm' && !consoleTail };
      }
    }
    if (reason?.kind === 'job-timeout') {
      fail('EVMSTOPPED', `the VM of ${options.label} was stopped: job ${reason.job + 1} of ${jobs.length} before this one timed out`);
    } else if (reason?.kind === 'cancelled') {
      fail('EVMSTOPPED', `the VM of ${options.label} was stopped: another job in it was cancelled`);
    } else if (!stream.done) {
      const how = run.signal ? `was killed by ${run.signal}` : `exited (code ${run.exitCode})`;
      fail('EVMDIED', `the VM of ${options.label} ended before its jobs did: QEMU ${how}${consoleTail ? `; the console ended with: ${consoleTail}` : ''}`);
    }
    return { jobs: results, ...(booted !== undefined ? { release: booted } : {}), accel, ...(bootMs !== undefined ? { bootMs } : {}), totalMs: Date.now() - started };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function bootTimeout(options: VmOptions): number {
  const fromEnv = Number(process.env.CILIUM_CUSTOM_VM_BOOT_TIMEOUT);
  return options.bootTimeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv * 1000 : 90_000);
}

function keepTail(text: string, max: number): string {
  return text.length > max ? text.slice(text.length - max) : text;
}

/** The last meaningful line of the console log (a panic message, usually). */
function readTail(file: string): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.min(size, 8192));
      fs.readSync(fd, buffer, 0, buffer.length, size - buffer.length);
      const lines = buffer
        .toString('latin1')
        // Firmware and the kernel clear the screen with escape sequences (ESC c, ESC [2J, ...).
        .replace(/\x1b(?:\[[0-9;?]*[A-Za-z]|[A-Za-z])/g, '')
        .split(/\r?\n/)
        .map((l) => l.replace(/[\x00-\x08\x0b-\x1f\x7f-\xff]/g, '').trim())
        .filter(Boolean);
      const panic = lines.find((l) => /Kernel panic|not syncing/.test(l));
      return (panic ?? lines.at(-1) ?? '').slice(0, 300);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

function lastLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
}

interface MarkerHandlers {
  onBoot(release: string): void;
  onBegin(id: string, pid: number): void;
  onOutput(text: string): void;
  onEnd(id: string, status: number): void;
}

/**
 * Splits the job port's stream into markers and job output, line by line. The init writes a newline before each
 * end marker (a job's last line may lack one): that newline is not the job's, so one pending newline is held back.
 */
export class MarkerStream {
  done = false;
  private partial = '';
  private pendingNewline = false;
  private inJob = false;

  constructor(
    private readonly prefix: string,
    private readonly handlers: MarkerHandlers,
  ) {}

  push(chunk: string): void {
    this.partial += chunk;
    let newline: number;
    let out = '';
    while ((newline = this.partial.indexOf('\n')) >= 0) {
      let line = this.partial.slice(0, newline);
      this.partial = this.partial.slice(newline + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.startsWith(`${this.prefix} `)) {
        if (out) this.handlers.onOutput(out);
        out = '';
        this.marker(line.slice(this.prefix.length + 1));
        continue;
      }
      if (!this.inJob) continue;
      if (this.pendingNewline) out += '\n';
      out += line;
      this.pendingNewline = true;
    }
    if (out) this.handlers.onOutput(out);
  }

  end(): void {
    // Cut off inside a job (no end marker): the newline held back was the job's own.
    if (this.inJob && (this.partial || this.pendingNewline)) this.handlers.onOutput(`${this.pendingNewline ? '\n' : ''}${this.partial}`);
    this.partial = '';
  }

  private marker(text: string): void {
    const [word, id = '', status = ''] = text.split(' ');
    if (word === 'boot') this.handlers.onBoot(text.slice('boot '.length));
    else if (word === 'begin') {
      this.inJob = true;
      this.pendingNewline = false;
      this.handlers.onBegin(id, Number(status));
    } else if (word === 'end') {
      this.inJob = false;
      this.pendingNewline = false;
      this.handlers.onEnd(id, Number(status));
    } else if (word === 'done') this.done = true;
  }
}

