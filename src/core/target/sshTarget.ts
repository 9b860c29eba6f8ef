// The Target for a node reached over SSH, through the system `ssh` binary so that ~/.ssh/config, agents, jump hosts
// and known_hosts work as the user set them up. One multiplexed master connection per target carries every command.
//
// Every command is one string for the remote login shell, built by shellQuote() only:
//
//   LC_ALL=C LANG=C PATH=...; export ...; printf '%s%s\n' <marker> "$$" >&2; exec [sudo -n --] <argv...>
//
// The marker line tells us the remote PID (= process group: sshd starts the shell in a new session) before the
// command replaces the shell, and is stripped from stderr. sshd does not signal a command when its client goes away,
// so on timeout or cancellation that process group is killed explicitly over the master connection.
//
// The master's control socket is the user's, one per target (controlSocket.ts): a later process (the next CLI run)
// finds the master still up for ControlPersist seconds and skips the handshake. dispose() closes it, unless the
// target was made with keepConnection (the CLI), which leaves it for the next run or `cilium-custom targets --close`.
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { describeFailure as describeProcessFailure, runProcess, succeeded, type RunResult } from '../process';
import {
  controlSocketDirectory,
  controlSocketName,
  ensurePrivateDirectory,
  probeControlSocket,
  removeSocketFiles,
  waitForExit,
  withSocketLock,
  writeConnectionInfo,
} from './controlSocket';
import { checkArgv, describeSshFailure, refusedResult } from './failures';
import { shellQuote } from './shellQuote';
import { checkDestination, checkPort } from './sshSpec';
import type { Target, TargetRunOptions } from './target';

export interface SshTargetConfig {
  /** Shown in messages and the UI. */
  name: string;
  /** `[user@]host`, or a Host alias from ~/.ssh/config. */
  destination: string;
  port?: number;
  identityFile?: string;
  /** The ssh client; default `ssh`. */
  sshPath?: string;
  /** An ssh_config file instead of ~/.ssh/config (`-F`); `/dev/null` ignores the user's configuration. */
  configFile?: string;
  /** Extra `-o` values (`Key=value`), e.g. `ProxyJump=bastion`. They override this target's defaults
   * (ServerAliveInterval, ...) but not BatchMode or the connection sharing options. */
  extraOptions?: string[];
  /** Prefix privileged runs with `sudo -n` on the remote side. */
  sudo?: boolean;
  bpftool?: string;
  bpffsRoot?: string;
  /** ssh's ConnectTimeout (TCP connect and SSH banner exchange), seconds; default 10. */
  connectTimeoutSec?: number;
  /** Default timeout of a remote command, when the caller gives none. */
  commandTimeoutMs?: number;
  /** How long the shared connection stays up when idle (ControlPersist), seconds; default 300. */
  controlPersistSec?: number;
  /** Leave the shared connection up on dispose() (for ControlPersist seconds), for the next process to reuse. */
  keepConnection?: boolean;
  /** The private directory of the control socket; default controlSocketDirectory() (per user). */
  controlDirectory?: string;
}

/** What SshTarget.run returns: the ssh run, plus what is known about the remote side. */
export interface SshRunResult extends RunResult {
  /** The argv run on the remote side (result.argv is the local ssh command line). */
  remoteArgv?: readonly string[];
  /** PID (and process group) of the remote command, once it started. */
  remotePid?: number;
  /** After a timeout or cancellation: whether the remote process group was killed. */
  remoteKilled?: boolean;
  /** 'connect' when the run failed while setting up the shared connection. */
  phase?: 'connect' | 'command';
  /** The timeout that expired, when timedOut. */
  timeoutMs?: number;
  /** The command had started, then the SSH connection went away (exit 255 with no master left). */
  connectionLost?: boolean;
}

/** Linux refuses a single argument longer than this (MAX_ARG_STRLEN), both for our ssh and for the remote shell. */
const MAX_REMOTE_COMMAND_BYTES = 128 * 1024 - 1;
/** Appended (not prepended) to the remote PATH: non-interactive ssh sessions often lack the sbin directories. */
const SBIN_PATH = '/usr/local/sbin:/usr/sbin:/sbin';
/** After a timeout or cancellation: how long to wait for the remote PID before giving up on the local client alone. */
const PID_GRACE_MS = 5_000;
/** After a timeout or cancellation: how long the remote kill may take before the master connection is closed. */
const BACKSTOP_MS = 15_000;

export class SshTarget implements Target {
  readonly name: string;
  readonly isRemote = true;
  readonly bpffsRoot: string;
  readonly bpftool: string;
  readonly destination: string;
  private readonly config: SshTargetConfig;
  private readonly ssh: string;
  private readonly connectTimeoutSec: number;
  private readonly marker = `__cilium_custom_pid_${crypto.randomBytes(6).toString('hex')}:`;
  private controlDirPromise?: Promise<string>;
  private controlDir?: string;
  private readonly socketName: string;
  private master?: Promise<SshRunResult | undefined>;
  private disposed = false;

  /** Throws on an invalid configuration (bad destination, port or options). */
  constructor(config: SshTargetConfig) {
    const problem =
      checkDestination(config.destination) ??
      (config.port !== undefined ? checkPort(config.port) : undefined) ??
      (config.extraOptions ?? []).map(checkOption).find((p) => p !== undefined);
    if (problem) throw new Error(`SSH target ${JSON.stringify(config.name)}: ${problem}`);
    this.config = { ...config, extraOptions: [...(config.extraOptions ?? [])] };
    this.name = config.name;
    this.destination = config.destination;
    this.ssh = config.sshPath ?? 'ssh';
    this.bpftool = config.bpftool ?? 'bpftool';
    this.bpffsRoot = config.bpffsRoot ?? '/sys/fs/bpf';
    const timeout = config.connectTimeoutSec ?? 10;
    this.connectTimeoutSec = Number.isFinite(timeout) && timeout >= 1 ? Math.ceil(timeout) : 10;
    this.socketName = controlSocketName({
      ssh: this.ssh,
      destination: config.destination,
      port: config.port,
      identityFile: config.identityFile,
      configFile: config.configFile,
      extraOptions: this.config.extraOptions,
    });
  }

  /** The private directory holding the control socket (shared by the user's targets), once the first command has run. */
  get controlDirectory(): string | undefined {
    return this.controlDir;
  }

  /** The control socket of the shared connection, once the first command has run. */
  get controlSocket(): string | undefined {
    return this.controlDir ? path.join(this.controlDir, this.socketName) : undefined;
  }

  /** The remote command string for `argv` (exposed for tests and logs). */
  remoteCommand(argv: readonly string[], privileged = false): string {
    const problem = checkArgv(argv);
    if (problem) throw new Error(`cannot run ${JSON.stringify(argv[0] ?? '')} on ${this.name}: ${problem}`);
    const command = privileged && this.config.sudo ? ['sudo', '-n', '--', ...argv] : [...argv];
    return (
      `LC_ALL=C LANG=C PATH="\${PATH:-/usr/bin:/bin}:${SBIN_PATH}"; export LC_ALL LANG PATH; ` +
      // The marker is made of characters that need no quoting.
      `printf '%s%s\\n' ${this.marker} "$$" >&2; ` +
      `exec ${shellQuote(command)}`
    );
  }

  async run(argv: readonly string[], options: TargetRunOptions = {}): Promise<SshRunResult> {
    const problem = this.disposed ? `target ${this.name} has been disposed` : checkArgv(argv);
    if (problem) return refusedResult(argv, 'EINVAL', `cannot run ${JSON.stringify(argv[0] ?? '')} on ${this.name}: ${problem}`);
    const remote = this.remoteCommand(argv, options.privileged);
    if (Buffer.byteLength(remote) > MAX_REMOTE_COMMAND_BYTES) {
      return refusedResult(
        argv,
        'EINVAL',
        `cannot run ${JSON.stringify(argv[0])} on ${this.name}: the quoted command is ${Buffer.byteLength(remote)} bytes, ` +
          `more than the ${MAX_REMOTE_COMMAND_BYTES} one argument may hold; pass large data with input`,
      );
    }

    const connected = await this.connect(options.signal);
    if (connected) return { ...connected, remoteArgv: argv };

    if (options.signal?.aborted) return { ...this.cancelledWhileConnecting(), remoteArgv: argv, phase: 'command' };

    // Timeout and cancellation are handled here, not by runProcess: a multiplexed ssh client hands its stdout and
    // stderr to the master, so killing the client neither ends the run nor the remote command. Killing the remote
    // process group does both (its channel closes, the master lets go of the pipes). The group is known once the
    // marker line has arrived; until then the local client is left alone, so that the session is not torn down
    // half-way with a command running that we could no longer name.
    const privileged = options.privileged ?? false;
    const timeoutMs = options.timeoutMs ?? this.config.commandTimeoutMs;
    const internal = new AbortController();
    let timedOut = false;
    let cancelled = false;
    let killing: Promise<boolean> | undefined;
    let pidGrace: NodeJS.Timeout | undefined;
    let backstop: NodeJS.Timeout | undefined;
    const filter = new MarkerFilter(this.marker, options.onStderr);
    const startKill = (pid: number) => {
      if (killing) return;
      if (pidGrace) clearTimeout(pidGrace);
      killing = this.killRemote(pid, privileged).then((killed) => {
        internal.abort();
        return killed;
      });
    };
    filter.onPid = (pid) => {
      if (timedOut || cancelled) startKill(pid);
    };
    const stop = (why: 'timeout' | 'cancel') => {
      if (timedOut || cancelled) return;
      if (why === 'timeout') timedOut = true;
      else cancelled = true;
      if (filter.pid !== undefined) startKill(filter.pid);
      else pidGrace = setTimeout(() => internal.abort(), PID_GRACE_MS);
      // Last resort when the remote side cannot be reached or killed: closing the master releases the pipes.
      backstop = setTimeout(() => void this.closeMaster(), BACKSTOP_MS);
    };
    const onAbort = () => stop('cancel');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs !== undefined ? setTimeout(() => stop('timeout'), timeoutMs) : undefined;

    let result: RunResult;
    try {
      result = await runProcess(this.sshArgv(['-o', 'ControlMaster=auto', '-o', `ControlPersist=${this.persistSec}`], remote), {
        signal: internal.signal,
        input: options.input,
        maxBuffer: options.maxBuffer,
        onStdout: options.onStdout,
        onStderr: (chunk) => filter.push(chunk),
      });
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      if (pidGrace) clearTimeout(pidGrace);
      if (backstop) clearTimeout(backstop);
    }
    filter.end();
    const stripped = stripMarker(result.stderr, this.marker);
    const output: SshRunResult = {
      ...result,
      stderr: stripped.text,
      cancelled,
      timedOut,
      remoteArgv: argv,
      phase: 'command',
      ...(timedOut && timeoutMs !== undefined ? { timeoutMs } : {}),
    };
    const pid = stripped.pid ?? filter.pid;
    if (pid !== undefined) output.remotePid = pid;
    if (timedOut || cancelled) {
      if (!killing && pid !== undefined) startKill(pid);
      output.remoteKilled = killing ? await killing : false;
    } else if (result.exitCode === 255 && pid !== undefined) {
      // 255 from a command that had started: its own exit code, or the connection died under it. A dead master tells.
      const check = await runProcess(this.sshArgv(['-O', 'check']), { timeoutMs: 5000 });
      if (!succeeded(check)) {
        output.connectionLost = true;
        this.master = undefined;
      }
    }
    return output;
  }

  /**
   * Closes the shared connection (`ssh -O exit`) and removes its socket; with keepConnection, leaves it up for the
   * next process (it ends after ControlPersist idle seconds, or with `cilium-custom targets --close`).
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const dir = this.controlDir ?? (this.controlDirPromise ? await this.controlDirPromise.catch(() => undefined) : undefined);
    if (!dir) return;
    if (this.master) await this.master;
    if (this.config.keepConnection) return;
    await this.closeMaster();
  }

  /** `ssh -O exit`, then makes sure the master process is gone and its socket removed. The next run connects anew. */
  private async closeMaster(): Promise<void> {
    const socket = this.controlSocket;
    if (!socket) return;
    this.master = undefined;
    if ((await probeControlSocket(socket)) === 'alive') {
      const check = await runProcess(this.sshArgv(['-O', 'check']), { timeoutMs: 5000 });
      const pid = Number(/pid=([0-9]+)/.exec(check.stderr)?.[1] ?? NaN);
      if (succeeded(check)) await runProcess(this.sshArgv(['-O', 'exit']), { timeoutMs: 5000 });
      if (Number.isInteger(pid) && !(await waitForExit(pid, 3000))) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    await removeSocketFiles(socket);
  }

  /** A clear message for a failed run: SSH and sudo failures first, then timeouts, then the exit code. */
  describeFailure(result: RunResult): string {
    const ssh = describeSshFailure(result);
    if (ssh) return ssh;
    const extra = result as SshRunResult;
    const program = extra.remoteArgv?.[0] ?? result.argv[0];
    if (extra.phase === 'connect' && result.timedOut) {
      return `SSH connection to ${this.where} did not complete within ${Math.round(result.durationMs / 1000)} s`;
    }
    if (extra.phase !== 'command' || !extra.remoteArgv) return describeProcessFailure(result);
    const killed =
      extra.remoteKilled === true ? '; the remote process was killed' : extra.remotePid !== undefined ? '; the remote process may still run' : '';
    if (result.timedOut) {
      const seconds = (extra.timeoutMs ?? result.durationMs) / 1000;
      return `${program} on ${this.name} timed out after ${Number(seconds.toFixed(1))} s${killed}`;
    }
    if (result.cancelled) return `${program} on ${this.name} was cancelled${killed}`;
    if (result.signal) return `ssh running ${program} on ${this.name} was killed by ${result.signal}`;
    if (result.exitCode === 127 && extra.remotePid !== undefined) return `${program} is not installed on ${this.name} (or not on its PATH)`;
    return `${program} on ${this.name} exited with code ${result.exitCode}`;
  }

  private get persistSec(): number {
    // ssh reads ControlPersist=0 as "for ever": never passed.
    const seconds = this.config.controlPersistSec;
    return seconds !== undefined && Number.isFinite(seconds) && seconds >= 1 ? Math.ceil(seconds) : 300;
  }

  private get where(): string {
    return this.config.port !== undefined ? `${this.destination} port ${this.config.port}` : this.destination;
  }

  /** ssh [common options] [extra] -- destination [remote command]. The `--` ends option parsing for good. */
  private sshArgv(extra: readonly string[], remoteCommand?: string): string[] {
    const dir = this.controlDir;
    if (!dir) throw new Error('SshTarget: control directory not created yet');
    const c = this.config;
    return [
      this.ssh,
      // Ours, and not overridable: the first value given for an option wins.
      '-o', 'BatchMode=yes',
      '-o', `ControlPath=${path.join(dir, this.socketName)}`,
      '-o', `ConnectTimeout=${this.connectTimeoutSec}`,
      ...(c.configFile !== undefined ? ['-F', c.configFile] : []),
      ...(c.port !== undefined ? ['-p', String(c.port)] : []),
      ...(c.identityFile !== undefined ? ['-i', c.identityFile] : []),
      ...(c.extraOptions ?? []).flatMap((option) => ['-o', option]),
      // Defaults the user's options above may override.
      '-o', 'ServerAliveInterval=15',
      '-o', 'ServerAliveCountMax=3',
      '-o', 'ClearAllForwardings=yes',
      '-T',
      ...extra,
      '--',
      this.destination,
      ...(remoteCommand !== undefined ? [remoteCommand] : []),
    ];
  }

  private ensureControlDir(): Promise<string> {
    this.controlDirPromise ??= (async () => {
      const dir = this.config.controlDirectory ?? controlSocketDirectory();
      await ensurePrivateDirectory(dir);
      this.controlDir = dir;
      return dir;
    })();
    return this.controlDirPromise;
  }

  /**
   * Makes sure the master connection is up. Returns undefined when it is, or the failed run. The connection is set
   * up once, shared by concurrent callers; a caller's signal cancels only its own wait.
   */
  private async connect(signal?: AbortSignal): Promise<SshRunResult | undefined> {
    try {
      await this.ensureControlDir();
    } catch (error) {
      return refusedResult([this.ssh], 'EIO', `could not create a private directory for the SSH control socket: ${String(error)}`);
    }
    this.master ??= this.startMaster().then((result) => {
      if (result) this.master = undefined; // Failed: the next run tries again.
      return result;
    });
    const master = this.master;
    if (!signal) return master;
    if (signal.aborted) return this.cancelledWhileConnecting();
    return new Promise((resolve) => {
      const onAbort = () => resolve(this.cancelledWhileConnecting());
      signal.addEventListener('abort', onAbort, { once: true });
      void master.then((result) => {
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      });
    });
  }

  private cancelledWhileConnecting(): SshRunResult {
    return {
      argv: [this.ssh, '--', this.destination],
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '',
      durationMs: 0,
      cancelled: true,
      timedOut: false,
      phase: 'connect',
    };
  }

  /**
   * `ssh -f -N` as master: it returns once logged in, leaving a daemonized master behind the control socket. A live
   * master on the socket (an earlier run's, kept by ControlPersist) is reused without starting ssh at all.
   */
  private async startMaster(): Promise<SshRunResult | undefined> {
    const socket = this.controlSocket as string;
    if ((await probeControlSocket(socket)) === 'alive') return undefined;
    // ConnectTimeout covers the TCP connect and the banner; key exchange and login get some more time.
    const timeoutMs = (this.connectTimeoutSec + 20) * 1000;
    // One master per socket, also across processes: the lock is held while connecting.
    return withSocketLock(socket, timeoutMs, async () => {
      // A socket left by an earlier master that died is stale: removed, since ControlMaster=yes on an existing path
      // would silently fall back to an unshared connection.
      const state = await probeControlSocket(socket);
      if (state === 'alive') return undefined;
      if (state === 'stale') await removeSocketFiles(socket);
      const result = await runProcess(this.sshArgv(['-o', 'ControlMaster=yes', '-o', `ControlPersist=${this.persistSec}`, '-N', '-f']), { timeoutMs });
      if (!succeeded(result)) return { ...result, phase: 'connect' as const };
      await writeConnectionInfo(socket, {
        name: this.name,
        destination: this.destination,
        ...(this.config.port !== undefined ? { port: this.config.port } : {}),
        ssh: this.ssh,
        ...(this.config.configFile !== undefined ? { configFile: this.config.configFile } : {}),
        startedAt: new Date().toISOString(),
        persistSec: this.persistSec,
      });
      return undefined;
    });
  }

  /** Kills the remote command's process group (TERM, then KILL after 3 s). True when it is gone. */
  private async killRemote(pid: number, privileged: boolean): Promise<boolean> {
    const script =
      'kill -TERM "-$1" 2>/dev/null || exit 0; n=0; ' +
      'while kill -0 "-$1" 2>/dev/null; do n=$((n+1)); ' +
      'if [ "$n" -gt 30 ]; then kill -KILL "-$1" 2>/dev/null; exit 0; fi; sleep 0.1; done';
    const argv = ['sh', '-c', script, 'sh', String(pid)];
    const result = await runProcess(
      this.sshArgv(['-o', 'ControlMaster=auto', '-o', `ControlPersist=${this.persistSec}`], this.remoteCommand(argv, privileged)),
      { timeoutMs: 15_000 },
    );
    return succeeded(result);
  }
}

/** Why an `-o` value is unusable, or undefined. */
function checkOption(option: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(option)) return `SSH option ${JSON.stringify(option)} contains control characters`;
  if (option.trim().length === 0 || option.startsWith('-')) return `SSH option ${JSON.stringify(option)} is not of the form Key=value`;
  return undefined;
}

/** Strips the marker line (`<marker><pid>`) from a whole stderr text. */
export function stripMarker(text: string, marker: string): { text: string; pid?: number } {
  const filter = new MarkerFilter(marker);
  let out = '';
  filter.sink = (chunk) => (out += chunk);
  filter.push(text);
  filter.end();
  return filter.pid !== undefined ? { text: out, pid: filter.pid } : { text: out };
}

/** Streams stderr through, holding back only whole lines until the marker line has been seen and dropped. */
export class MarkerFilter {
  pid?: number;
  /** Called once, when the marker line arrives. */
  onPid?: (pid: number) => void;
  private pending = '';
  private found = false;

  constructor(
    private readonly marker: string,
    public sink?: (chunk: string) => void,
  ) {}

  push(chunk: string): void {
    if (this.found) {
      this.emit(chunk);
      return;
    }
    this.pending += chunk;
    let out = '';
    let newline: number;
    while (!this.found && (newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      const match = line.startsWith(this.marker) ? /^([0-9]+)$/.exec(line.slice(this.marker.length)) : null;
      if (match) {
        this.pid = Number(match[1]);
        this.found = true;
        this.onPid?.(this.pid);
      } else {
        out += `${line}\n`;
      }
    }
    if (this.found) {
      out += this.pending;
      this.pending = '';
    }
    this.emit(out);
  }

  end(): void {
    this.emit(this.pending);
    this.pending = '';
  }

  private emit(text: string): void {
    if (text.length > 0) this.sink?.(text);
  }
}
