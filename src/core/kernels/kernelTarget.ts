// A kernel as a Target: each run boots the kernel under QEMU with a fresh initramfs (busybox, the host's bpftool)
// and runs the argv there as root, so the verify script of verifyScript.ts runs in the VM exactly as it runs on a
// node over SSH: the object arrives on its standard input (isRemote), the bpffs is the VM's, and bpftool's output
// streams back. Runs that arrive together (several objects verified on one kernel) share one boot: the initramfs
// carries every job and the init runs them one after the other between markers.
//
// Nothing a run makes survives it (the VM is gone afterwards), so a cleanup run (`rm ...`) has nothing to remove
// and is answered without booting.
import type { RunResult } from '../process';
import { checkArgv, refusedResult } from '../target/failures';
import type { Target, TargetRunOptions } from '../target/target';
import type { CachedKernel } from './cache';
import { VM_BPFFS, VM_BPFTOOL } from './initramfs';
import { runVm, type VmAccel, type VmJobResult, type VmJobRun, type VmRunResult } from './vm';

export interface KernelTargetConfig {
  kernel: Pick<CachedKernel, 'name' | 'version' | 'vmlinuz'>;
  memoryMb?: number;
  accel?: VmAccel;
  bootTimeoutMs?: number;
  qemu?: string;
  /** How long runs are gathered into one boot; default 25 ms. */
  batchWindowMs?: number;
  /** Called when a VM of this kernel has booted (progress lines). */
  onBoot?: (target: KernelTarget, bootMs: number, accel: 'kvm' | 'tcg') => void;
}

interface Pending {
  argv: readonly string[];
  options: TargetRunOptions;
  input?: Buffer;
  resolve: (result: RunResult) => void;
}

export class KernelTarget implements Target {
  readonly name: string;
  readonly isRemote = true;
  readonly bpffsRoot = VM_BPFFS;
  readonly bpftool = VM_BPFTOOL;
  /** The kernel's version, e.g. "6.1.176". */
  readonly kernelVersion: string;
  /** The boots so far (release, accel, boot and total time), for reports and benchmarks. */
  readonly boots: Array<Omit<VmRunResult, 'jobs'> & { jobs: number }> = [];
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private disposed = false;

  constructor(private readonly config: KernelTargetConfig) {
    this.name = `kernel-${config.kernel.name}`;
    this.kernelVersion = config.kernel.version;
  }

  get label(): string {
    return `kernel ${this.config.kernel.name}${this.config.kernel.version !== this.config.kernel.name ? ` (${this.config.kernel.version})` : ''}`;
  }

  run(argv: readonly string[], options: TargetRunOptions = {}): Promise<RunResult> {
    const problem = checkArgv(argv);
    if (problem) return Promise.resolve(refusedResult(argv, 'EINVAL', `cannot run ${JSON.stringify(argv[0] ?? '')}: ${problem}`));
    if (this.disposed) return Promise.resolve(refusedResult(argv, 'EINVAL', `${this.label}: the target was disposed`));
    if (argv[0] === 'rm') {
      // Every run has a VM of its own, gone when the run ends: there is nothing left to remove.
      return Promise.resolve({ argv, exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 0, cancelled: false, timedOut: false });
    }
    if (options.input !== undefined && typeof options.input !== 'string' && !Buffer.isBuffer(options.input)) {
      return Promise.resolve(refusedResult(argv, 'EINVAL', `${this.label}: a streamed standard input cannot be carried into a VM`));
    }
    const input = options.input === undefined ? undefined : Buffer.isBuffer(options.input) ? options.input : Buffer.from(options.input);
    return new Promise((resolve) => {
      this.queue.push({ argv, options, ...(input ? { input } : {}), resolve });
      this.timer ??= setTimeout(() => this.flush(), this.config.batchWindowMs ?? 25);
    });
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.queue.splice(0);
    if (!batch.length) return;
    const jobs: VmJobRun[] = batch.map((p) => ({
      argv: p.argv,
      ...(p.input ? { input: p.input } : {}),
      ...(p.options.timeoutMs !== undefined ? { timeoutMs: p.options.timeoutMs } : {}),
      ...(p.options.signal ? { signal: p.options.signal } : {}),
      ...(p.options.maxBuffer !== undefined ? { maxBuffer: p.options.maxBuffer } : {}),
      // The VM's job port carries stdout and stderr as one stream; it is reported as stderr, where bpftool's log
      // and the verify script's own lines go.
      onOutput: (chunk: string) => p.options.onStderr?.(chunk),
    }));
    const done = runVm(
      {
        vmlinuz: this.config.kernel.vmlinuz,
        label: this.label,
        ...(this.config.memoryMb !== undefined ? { memoryMb: this.config.memoryMb } : {}),
        ...(this.config.accel !== undefined ? { accel: this.config.accel } : {}),
        ...(this.config.bootTimeoutMs !== undefined ? { bootTimeoutMs: this.config.bootTimeoutMs } : {}),
        ...(this.config.qemu !== undefined ? { qemu: this.config.qemu } : {}),
        onBoot: (_release, bootMs, accel) => this.config.onBoot?.(this, bootMs, accel),
      },
      jobs,
    ).then((vm) => {
      const { jobs: results, ...facts } = vm;
      this.boots.push({ ...facts, jobs: results.length });
      batch.forEach((p, i) => p.resolve(toRunResult(p.argv, results[i])));
    });
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** Waits for the VMs of runs already started; later runs are refused. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.flush();
    }
    await Promise.all([...this.inFlight]);
  }

  describeFailure(result: RunResult): string {
    const program = result.argv[0] ?? '';
    if (result.spawnError) return result.spawnError.message;
    if (result.timedOut) return `${program} timed out in the VM of ${this.label} (QEMU was stopped)`;
    if (result.cancelled) return `${program} in the VM of ${this.label} was cancelled (QEMU was stopped)`;
    if (result.exitCode === 127) return `${program} is not available in the VM of ${this.label}`;
    return `${program} in the VM of ${this.label} exited with code ${result.exitCode}`;
  }
}

/** A run in a VM; `remotePid` (as for SSH runs) says the command did start there. */
export type KernelRunResult = RunResult & { remotePid?: number };

function toRunResult(argv: readonly string[], job: VmJobResult): KernelRunResult {
  return {
    ...(job.pid !== undefined ? { remotePid: job.pid } : {}),
    argv,
    exitCode: job.exitCode,
    signal: null,
    stdout: '',
    stderr: job.output,
    durationMs: job.durationMs,
    cancelled: job.cancelled,
    timedOut: job.timedOut,
    ...(job.failure ? { spawnError: { code: job.failure.code, message: job.failure.message } } : {}),
  };
}
