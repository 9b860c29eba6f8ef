// One kernel booted under QEMU that serves jobs until it is closed. The initramfs's init says "boot" on the job port
// (ttyS1, QEMU's standard input and output) and then runs each job frame written to it, one at a time, with the
// job's output between marker lines that carry a random nonce. The console (ttyS0) goes to a file in a private
// temporary folder, kept for the messages of a kernel that does not boot; the initramfs is removed as soon as the
// kernel runs, the folder when QEMU ends. QEMU is killed at the boot deadline, at a job's timeout, on cancellation,
// on close, and by the kernel (parent-death signal) if this process dies.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { runProcess, type RunResult } from '../process';
import { buildInitramfs, encodeJobFrame, hostTools, InitramfsError, markerPrefix, type VmJob } from './initramfs';
import { MarkerStream } from './markerStream';
import { bootTimeoutMs, consoleTail, kvmUsable, makeVmDir, markKvmBroken, qemuArgv, qemuBinary, qemuMissingMessage, requestedAccel, setpriv, type VmAccel } from './qemu';
import { vmSlots } from './vmSlots';

export interface VmOptions {
  /** The kernel image (bzImage). */
  vmlinuz: string;
  /** A name for messages, e.g. "kernel 6.1 (6.1.176)". */
  label: string;
  memoryMb?: number;
  accel?: VmAccel;
  /** How long the kernel may take to reach /init (see bootTimeoutMs). */
  bootTimeoutMs?: number;
  /** The QEMU executable; default $CILIUM_CUSTOM_QEMU or qemu-system-x86_64. */
  qemu?: string;
  /** Stops the boot, or the VM once it runs. */
  signal?: AbortSignal;
}

export interface VmJobRun extends VmJob {
  timeoutMs?: number;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
  /** Most output kept in the result (the tail); default 16 Mi characters. */
  maxBuffer?: number;
}

export type VmFailureCode = 'ENOQEMU' | 'EVMSETUP' | 'EVMSTART' | 'EVMBOOT' | 'EVMDIED' | 'EVMSTOPPED';

export interface VmFailure {
  code: VmFailureCode;
  message: string;
}

export interface VmJobResult {
  exitCode: number | null;
  output: string;
  durationMs: number;
  cancelled: boolean;
  timedOut: boolean;
  /** The job's process id in the VM, once it started. */
  pid?: number;
  /** Why the job did not run to its end when it is not a timeout or cancellation. */
  failure?: VmFailure;
}

/** What a boot was like, and how many jobs the VM ran since (updated as it runs). */
export interface VmFacts {
  /** `uname -r` in the VM. */
  release: string;
  accel: 'kvm' | 'tcg';
  /** From QEMU's start to the boot marker (not counting the wait for a VM slot). */
  bootMs: number;
  jobs: number;
}

export type VmStart = { vm: Vm } | { failure: VmFailure; cancelled?: boolean };

export function emptyJobResult(): VmJobResult {
  return { exitCode: null, output: '', durationMs: 0, cancelled: false, timedOut: false };
}

type StopReason = { kind: 'boot-timeout' } | { kind: 'job-timeout' } | { kind: 'cancelled' } | { kind: 'closed' };

interface CurrentJob {
  id: string;
  job: VmJobRun;
  result: VmJobResult;
  started: number;
  finish: () => void;
}

export class Vm {
  /** Set once the boot marker arrived. */
  facts: VmFacts | undefined;
  private readonly input = new PassThrough();
  private readonly stopper = new AbortController();
  private stopReason: StopReason | undefined;
  private exitRun: RunResult | undefined;
  private exitMessage = '';
  private readonly exited: Promise<void>;
  private current: CurrentJob | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private jobCounter = 0;
  private bootDone: ((start: VmStart & { kvmFailed?: boolean }) => void) | undefined;
  private readonly exitListeners: Array<() => void> = [];
  private readonly consoleFile: string;
  private readonly qemu: string;
  private readonly pdeath: string | null;
  private readonly qemuStarted: number;
  private readonly bootTimer: NodeJS.Timeout;

  /** Boots the kernel (KVM when usable, else TCG) and resolves once it waits for jobs, or with why it could not. */
  static async start(options: VmOptions): Promise<VmStart> {
    let release: () => void;
    try {
      release = await vmSlots.acquire(options.signal);
    } catch {
      return { failure: { code: 'EVMSTOPPED', message: `the VM of ${options.label} was cancelled before it started` }, cancelled: true };
    }
    try {
      const wanted = requestedAccel(options.accel);
      if (wanted !== 'tcg' && kvmUsable()) {
        const started = await Vm.boot(options, 'kvm');
        // KVM that cannot run this guest (nested virtualisation) fails before the kernel says anything: use TCG.
        if ('vm' in started || wanted === 'kvm' || !started.kvmFailed) return started;
        markKvmBroken();
      }
      return await Vm.boot(options, 'tcg');
    } finally {
      release();
    }
  }

  private static async boot(options: VmOptions, accel: 'kvm' | 'tcg'): Promise<VmStart & { kvmFailed?: boolean }> {
    let tools;
    try {
      tools = await hostTools();
    } catch (error) {
      return { failure: { code: 'EVMSETUP', message: error instanceof InitramfsError ? `${error.message}. ${error.fix}` : String(error) } };
    }
    let dir: string | undefined;
    const nonce = crypto.randomBytes(8).toString('hex');
    try {
      dir = makeVmDir();
      fs.writeFileSync(path.join(dir, 'initrd.cpio'), buildInitramfs(tools, nonce), { mode: 0o600 });
    } catch (error) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOSPC' ? `no space left in ${os.tmpdir()} (TMPDIR) for it (about 4 MB)` : error instanceof Error ? error.message : String(error);
      return { failure: { code: 'EVMSETUP', message: `could not write the initramfs of ${options.label}: ${why}` } };
    }
    return new Vm(options, accel, dir, nonce).waitForBoot();
  }

  private constructor(
    private readonly options: VmOptions,
    private readonly accel: 'kvm' | 'tcg',
    private readonly dir: string,
    nonce: string,
  ) {
    this.consoleFile = path.join(dir, 'console.log');
    this.qemu = qemuBinary(options.qemu);
    const argv = qemuArgv(this.qemu, accel, options.vmlinuz, path.join(dir, 'initrd.cpio'), this.consoleFile, options.memoryMb ?? 512);
    this.pdeath = setpriv();
    const command = this.pdeath ? [this.pdeath, '--pdeathsig', 'KILL', '--', ...argv] : argv;
    const stream = new MarkerStream(markerPrefix(nonce), {
      onBoot: (release) => this.booted(release),
      onBegin: (id, pid) => {
        if (this.current?.id !== id) return;
        if (Number.isInteger(pid)) this.current.result.pid = pid;
        this.current.started = Date.now();
      },
      onOutput: (text) => {
        const current = this.current;
        if (!current) return;
        current.result.output = keepTail(current.result.output + text, current.job.maxBuffer ?? 16 * 1024 * 1024);
        current.job.onOutput?.(text);
      },
      onEnd: (id, status) => {
        if (this.current?.id !== id) return;
        this.current.result.exitCode = status;
        this.current.finish();
      },
    });
    this.qemuStarted = Date.now();
    this.exited = runProcess(command, {
      input: this.input,
      signal: this.stopper.signal,
      onStdout: (chunk) => stream.push(chunk),
      maxBuffer: 64 * 1024,
    }).then((run) => {
      stream.end();
      this.onExit(run);
    });
    this.bootTimer = setTimeout(() => this.stop({ kind: 'boot-timeout' }), bootTimeoutMs(options.bootTimeoutMs));
    if (options.signal) {
      // Before the boot, a cancellation; after it, the owner shutting the VM down.
      const onAbort = () => this.stop({ kind: this.facts ? 'closed' : 'cancelled' });
      if (options.signal.aborted) onAbort();
      else {
        options.signal.addEventListener('abort', onAbort, { once: true });
        this.onExitDo(() => options.signal?.removeEventListener('abort', onAbort));
      }
    }
  }

  private waitForBoot(): Promise<VmStart & { kvmFailed?: boolean }> {
    return new Promise((resolve) => (this.bootDone = resolve));
  }

  private booted(release: string): void {
    if (this.facts) return;
    clearTimeout(this.bootTimer);
    this.facts = { release, accel: this.accel, bootMs: Date.now() - this.qemuStarted, jobs: 0 };
    // QEMU read the initramfs into the guest's memory when it started: the file is no longer needed.
    fs.rmSync(path.join(this.dir, 'initrd.cpio'), { force: true });
    this.bootDone?.({ vm: this });
    this.bootDone = undefined;
  }

  get label(): string {
    return this.options.label;
  }

  /** Whether QEMU still runs. */
  get alive(): boolean {
    return this.exitRun === undefined;
  }

  /** Calls `listener` once QEMU has ended (at once if it has). */
  onExitDo(listener: () => void): void {
    if (this.exitRun) listener();
    else this.exitListeners.push(listener);
  }

  /** Runs one job after those already queued. Never throws. */
  run(job: VmJobRun): Promise<VmJobResult> {
    const result = this.queue.then(() => this.runNow(job));
    this.queue = result;
    return result;
  }

  private async runNow(job: VmJobRun): Promise<VmJobResult> {
    const result = emptyJobResult();
    if (job.signal?.aborted) return { ...result, cancelled: true };
    if (!this.alive) return { ...result, failure: this.goneFailure() };
    let release: () => void;
    try {
      release = await vmSlots.acquire(job.signal);
    } catch {
      return { ...result, cancelled: true };
    }
    try {
      if (!this.alive) return { ...result, failure: this.goneFailure() };
      await new Promise<void>((resolve) => {
        const timer = job.timeoutMs !== undefined ? setTimeout(() => this.stop({ kind: 'job-timeout' }), job.timeoutMs) : undefined;
        const onAbort = () => this.stop({ kind: 'cancelled' });
        job.signal?.addEventListener('abort', onAbort, { once: true });
        this.current = {
          id: String(++this.jobCounter),
          job,
          result,
          started: Date.now(),
          finish: () => {
            clearTimeout(timer);
            job.signal?.removeEventListener('abort', onAbort);
            result.durationMs = Date.now() - (this.current?.started ?? Date.now());
            this.current = undefined;
            resolve();
          },
        };
        if (this.facts) this.facts.jobs++;
        this.input.write(encodeJobFrame(this.current.id, job));
      });
      return result;
    } finally {
      release();
    }
  }

  /** Kills QEMU and waits for it to end; jobs still running or queued fail with "shut down". */
  async close(): Promise<void> {
    this.stop({ kind: 'closed' });
    await this.exited;
  }

  private stop(reason: StopReason): void {
    this.stopReason ??= reason;
    this.stopper.abort();
  }

  private onExit(run: RunResult): void {
    this.exitRun = run;
    clearTimeout(this.bootTimer);
    const tail = consoleTail(this.consoleFile);
    fs.rmSync(this.dir, { recursive: true, force: true });
    const missing = run.spawnError?.code === 'ENOENT' || (this.pdeath !== null && run.exitCode === 127 && !this.facts && /No such file|cannot execute|failed to execute/.test(run.stderr));
    const how = run.signal ? `was killed by ${run.signal}` : `exited (code ${run.exitCode})`;
    const console = tail ? `; the console ended with: ${tail}` : '';
    if (!this.facts) {
      this.bootDone?.(this.bootFailure(run, missing, tail));
      this.bootDone = undefined;
    }
    this.exitMessage = `the VM of ${this.label} ended before its jobs did: QEMU ${how}${console}`;
    const current = this.current;
    if (current) {
      const reason = this.stopReason?.kind;
      if (reason === 'job-timeout') current.result.timedOut = true;
      else if (reason === 'cancelled') current.result.cancelled = true;
      else current.result.failure = this.goneFailure();
      current.finish();
    }
    for (const listener of this.exitListeners.splice(0)) listener();
  }

  private bootFailure(run: RunResult, missing: boolean, tail: string): VmStart & { kvmFailed?: boolean } {
    if (missing) return { failure: { code: 'ENOQEMU', message: qemuMissingMessage(this.qemu) } };
    if (run.spawnError) return { failure: { code: 'EVMSTART', message: `could not start ${this.qemu}: ${run.spawnError.message}` } };
    const reason = this.stopReason?.kind;
    if (reason === 'cancelled' || reason === 'closed') return { failure: { code: 'EVMSTOPPED', message: `the VM of ${this.label} was cancelled while it booted` }, cancelled: true };
    if (reason === 'boot-timeout') {
      const seconds = Math.round(bootTimeoutMs(this.options.bootTimeoutMs) / 1000);
      return { failure: { code: 'EVMBOOT', message: `${this.label} did not boot within ${seconds} s (QEMU was stopped)${tail ? `; its console ended with: ${tail}` : ''}` } };
    }
    const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
    const qemuSaid = lastLine(run.stderr);
    return {
      failure: {
        code: 'EVMBOOT',
        message: `${this.label} did not boot: QEMU ${how}${qemuSaid ? ` (${qemuSaid})` : ''}${tail ? `; the console ended with: ${tail}` : '; the kernel printed nothing (is it an x86-64 kernel with a serial console?)'}`,
      },
      kvmFailed: this.accel === 'kvm' && !tail,
    };
  }

  /** Why a job cannot run (or finish) on this VM once QEMU is gone. */
  private goneFailure(): VmFailure {
    switch (this.stopReason?.kind) {
      case 'job-timeout':
        return { code: 'EVMSTOPPED', message: `the VM of ${this.label} was stopped: a job before this one timed out` };
      case 'cancelled':
        return { code: 'EVMSTOPPED', message: `the VM of ${this.label} was stopped: another job in it was cancelled` };
      case 'closed':
        return { code: 'EVMSTOPPED', message: `the VM of ${this.label} was shut down` };
      default:
        return { code: 'EVMDIED', message: this.exitMessage || `the VM of ${this.label} ended` };
    }
  }
}

function keepTail(text: string, max: number): string {
  return text.length > max ? text.slice(text.length - max) : text;
}

function lastLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
}
