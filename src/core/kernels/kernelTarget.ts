// A kernel as a Target: runs go to a VM of that kernel under QEMU (booted on the first run, kept warm in a VmPool
// for the next ones) and run there as root, so the verify script of verifyScript.ts runs in the VM exactly as it
// runs on a node over SSH: the object arrives on its standard input (isRemote), the bpffs is the VM's, and
// bpftool's output streams back. Runs on one kernel take turns in its VM.
//
// A cleanup run (`rm ...`) with no VM running has nothing to remove (what a VM made went with it) and is answered
// without booting.
import type { RunResult } from '../process';
import { checkArgv, refusedResult } from '../target/failures';
import type { Target, TargetRunOptions } from '../target/target';
import type { CachedKernel } from './cache';
import { VM_BPFFS, VM_BPFTOOL } from './initramfs';
import type { VmAccel } from './qemu';
import type { VmFacts, VmJobResult, VmJobRun } from './vm';
import { VmPool, type VmSpec } from './vmPool';

export interface KernelTargetConfig {
  kernel: Pick<CachedKernel, 'name' | 'version' | 'vmlinuz'>;
  memoryMb?: number;
  accel?: VmAccel;
  bootTimeoutMs?: number;
  qemu?: string;
  /** Warm VMs shared with other targets (the editor's); without one, the target has its own, shut down on dispose. */
  pool?: VmPool;
  /** Called when a VM of this kernel has booted for this target (progress lines). */
  onBoot?: (target: KernelTarget, bootMs: number, accel: 'kvm' | 'tcg') => void;
}

export class KernelTarget implements Target {
  readonly name: string;
  readonly isRemote = true;
  readonly bpffsRoot = VM_BPFFS;
  readonly bpftool = VM_BPFTOOL;
  /** The kernel's version, e.g. "6.1.176". */
  readonly kernelVersion: string;
  /** The boots this target caused (release, accel, boot time, jobs run in that VM so far), for reports and benchmarks. */
  readonly boots: VmFacts[] = [];
  private readonly pool: VmPool;
  private readonly ownPool: boolean;
  private readonly inFlight = new Set<Promise<unknown>>();
  private disposed = false;

  constructor(private readonly config: KernelTargetConfig) {
    this.name = `kernel-${config.kernel.name}`;
    this.kernelVersion = config.kernel.version;
    this.ownPool = !config.pool;
    this.pool = config.pool ?? new VmPool();
  }

  get label(): string {
    return `kernel ${this.config.kernel.name}${this.config.kernel.version !== this.config.kernel.name ? ` (${this.config.kernel.version})` : ''}`;
  }

  private get spec(): VmSpec {
    const c = this.config;
    return {
      vmlinuz: c.kernel.vmlinuz,
      label: this.label,
      ...(c.memoryMb !== undefined ? { memoryMb: c.memoryMb } : {}),
      ...(c.accel !== undefined ? { accel: c.accel } : {}),
      ...(c.bootTimeoutMs !== undefined ? { bootTimeoutMs: c.bootTimeoutMs } : {}),
      ...(c.qemu !== undefined ? { qemu: c.qemu } : {}),
    };
  }

  run(argv: readonly string[], options: TargetRunOptions = {}): Promise<RunResult> {
    const problem = checkArgv(argv);
    if (problem) return Promise.resolve(refusedResult(argv, 'EINVAL', `cannot run ${JSON.stringify(argv[0] ?? '')}: ${problem}`));
    if (this.disposed) return Promise.resolve(refusedResult(argv, 'EINVAL', `${this.label}: the target was disposed`));
    if (argv[0] === 'rm' && !this.pool.hasLive(this.spec)) {
      return Promise.resolve({ argv, exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 0, cancelled: false, timedOut: false });
    }
    if (options.input !== undefined && typeof options.input !== 'string' && !Buffer.isBuffer(options.input)) {
      return Promise.resolve(refusedResult(argv, 'EINVAL', `${this.label}: a streamed standard input cannot be carried into a VM`));
    }
    const input = options.input === undefined ? undefined : Buffer.isBuffer(options.input) ? options.input : Buffer.from(options.input);
    const job: VmJobRun = {
      argv,
      ...(input ? { input } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.maxBuffer !== undefined ? { maxBuffer: options.maxBuffer } : {}),
      // The VM's job port carries stdout and stderr as one stream; it is reported as stderr, where bpftool's log
      // and the verify script's own lines go.
      onOutput: (chunk: string) => options.onStderr?.(chunk),
    };
    const done = this.pool
      .run(this.spec, job, (facts) => {
        this.boots.push(facts);
        this.config.onBoot?.(this, facts.bootMs, facts.accel);
      })
      .then((result) => toRunResult(argv, result));
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  /** Waits for the runs already started (later runs are refused), then shuts the target's own VMs down. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all([...this.inFlight]);
    if (this.ownPool) await this.pool.closeAll();
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
