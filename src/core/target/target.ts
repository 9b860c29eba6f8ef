// Where BPF commands run: this machine, or a node reached over SSH. Everything that touches bpftool, bpffs or
// the kernel goes through a Target, so local and remote runs share one code path.
import type { RunOptions, RunResult } from '../process';

/** The process options that make sense on any target (no cwd or environment: the remote side has its own). */
export interface TargetRunOptions extends Pick<RunOptions, 'signal' | 'timeoutMs' | 'input' | 'onStdout' | 'onStderr' | 'maxBuffer'> {
  /** Run with the target's privilege prefix (`sudo -n`) when the target is configured to use it. */
  privileged?: boolean;
}

export interface Target {
  /** "local", or the configured name of a remote target. */
  readonly name: string;
  readonly isRemote: boolean;
  /** bpffs mount point on the target, normally /sys/fs/bpf. */
  readonly bpffsRoot: string;
  /** The bpftool executable on the target. */
  readonly bpftool: string;
  /** Run an argv on the target. Never throws; the argv reaches the remote side intact (quoted by one function). */
  run(argv: readonly string[], options?: TargetRunOptions): Promise<RunResult>;
  /** Close any shared connection. */
  dispose(): Promise<void>;
  /**
   * Optional: a clear, target-aware message for a failed run (SSH connection or authentication failures, sudo
   * wanting a password, remote timeouts), falling back to process.describeFailure.
   */
  describeFailure?(result: RunResult): string;
}
