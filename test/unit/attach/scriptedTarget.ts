// A Target that runs nothing: it records each argv and answers from a script (default: command not found), so
// unit tests can prove that invalid input never reaches a command line.
import type { RunResult } from '../../../src/core/process';
import type { Target, TargetRunOptions } from '../../../src/core/target/target';

export type Responder = (argv: readonly string[]) => Partial<RunResult> | undefined;

export class ScriptedTarget implements Target {
  readonly name = 'scripted';
  readonly isRemote = false;
  readonly bpftool = 'bpftool';
  readonly runs: string[][] = [];

  constructor(
    private readonly respond: Responder = () => undefined,
    readonly bpffsRoot = '/sys/fs/bpf',
  ) {}

  async run(argv: readonly string[], _options?: TargetRunOptions): Promise<RunResult> {
    this.runs.push([...argv]);
    const answer = this.respond(argv) ?? { exitCode: 127, stderr: `${argv[0]}: command not found\n` };
    return { argv, exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 0, cancelled: false, timedOut: false, ...answer };
  }
  async dispose(): Promise<void> {}
}
