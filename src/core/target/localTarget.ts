// The Target for this machine: argv arrays go straight to runProcess, with `sudo -n` in front of privileged runs when
// the target is configured for sudo and this process is not already root.
import { describeFailure as describeProcessFailure, runProcess, type RunResult } from '../process';
import { checkArgv, describeSudoFailure, refusedResult } from './failures';
import type { Target, TargetRunOptions } from './target';

export interface LocalTargetConfig {
  /** Prefix privileged runs with `sudo -n` (skipped when this process already runs as root). */
  sudo?: boolean;
  bpftool?: string;
  bpffsRoot?: string;
}

export class LocalTarget implements Target {
  readonly name = 'local';
  readonly isRemote = false;
  readonly bpffsRoot: string;
  readonly bpftool: string;
  private readonly sudo: boolean;

  constructor(config: LocalTargetConfig = {}) {
    this.sudo = config.sudo ?? false;
    this.bpftool = config.bpftool ?? 'bpftool';
    this.bpffsRoot = config.bpffsRoot ?? '/sys/fs/bpf';
  }

  /** The argv actually started for `argv` (with the sudo prefix when it applies). */
  commandFor(argv: readonly string[], privileged = false): string[] {
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    return privileged && this.sudo && !asRoot ? ['sudo', '-n', '--', ...argv] : [...argv];
  }

  async run(argv: readonly string[], options: TargetRunOptions = {}): Promise<RunResult> {
    const problem = checkArgv(argv);
    if (problem) return refusedResult(argv, 'EINVAL', `cannot run ${JSON.stringify(argv[0] ?? '')}: ${problem}`);
    return runProcess(this.commandFor(argv, options.privileged), {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      input: options.input,
      maxBuffer: options.maxBuffer,
      onStdout: options.onStdout,
      onStderr: options.onStderr,
    });
  }

  /** Nothing is shared locally. */
  async dispose(): Promise<void> {}

  describeFailure(result: RunResult): string {
    return describeSudoFailure(result, 'on this machine') ?? describeProcessFailure(result);
  }
}
