// The Target for this machine: argv arrays go straight to runProcess, with `sudo -n` in front of privileged runs when
// the target is configured for sudo and this process is not already root.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeFailure as describeProcessFailure, runProcess, type RunResult } from '../process';
import { checkArgv, describeSudoFailure, refusedResult } from './failures';
import type { Target, TargetRunOptions } from './target';

export interface LocalTargetConfig {
  /** Prefix privileged runs with `sudo -n` (skipped when this process already runs as root). */
  sudo?: boolean;
  bpftool?: string;
  bpffsRoot?: string;
}

const TEMP_PREFIX = 'cilium-custom-';

export class LocalTarget implements Target {
  readonly name = 'local';
  readonly isRemote = false;
  readonly bpffsRoot: string;
  readonly bpftool: string;
  private readonly sudo: boolean;
  private readonly tempDirs = new Set<string>();

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

  /** A fresh 0700 directory under os.tmpdir(). */
  async makeTempDir(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), TEMP_PREFIX));
    await fs.chmod(dir, 0o700);
    this.tempDirs.add(dir);
    return dir;
  }

  /**
   * Local files need no copy: the file is used where it is, and its absolute path is returned. `remoteDir` is not
   * touched. (Callers must treat the returned path as read-only, exactly as they would a remote copy.)
   */
  async upload(localPath: string, _remoteDir: string, signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const absolute = path.resolve(localPath);
    await fs.access(absolute, fs.constants.R_OK);
    return absolute;
  }

  /** Removes `dir` recursively, but only when makeTempDir made it. Never throws. */
  async removeTempDir(dir: string): Promise<boolean> {
    if (!this.tempDirs.has(dir)) return true;
    try {
      await fs.rm(dir, { recursive: true, force: true });
    } catch {
      // Files a privileged run left behind may need the same privilege to go.
      if (this.sudo) await this.run(['rm', '-rf', '--', dir], { privileged: true, timeoutMs: 30_000 });
    }
    const gone = !(await fs.stat(dir).catch(() => undefined));
    if (gone) this.tempDirs.delete(dir);
    return gone;
  }

  /** Nothing is shared locally; removes any temporary directories still left. */
  async dispose(): Promise<void> {
    await Promise.all([...this.tempDirs].map((dir) => this.removeTempDir(dir)));
  }

  describeFailure(result: RunResult): string {
    return describeSudoFailure(result, 'on this machine') ?? describeProcessFailure(result);
  }
}
