// Why a verification could not run at all (as opposed to the verifier rejecting the program), each with the fix.
import type { RunResult } from '../process';

export type VerifyProblemKind =
  | 'bpftool-missing'
  | 'bpffs-not-mounted'
  | 'not-permitted'
  | 'object-missing'
  /** The file is not a BPF object at all (not ELF, or ELF for another machine), or holds no program. */
  | 'not-bpf-object'
  /** A BPF object whose programs are not tc programs (XDP, kprobe, cgroup, ...): custom calls cannot take them. */
  | 'wrong-program-type'
  /**
   * bpftool/libbpf refused the object around the verifier, not the verifier itself: an extern defined nowhere, a
   * relocation or map that cannot be set up, a PROG_ARRAY initialiser the map cannot hold.
   */
  | 'loader-failed'
  | 'build-failed'
  | 'connection'
  | 'cancelled'
  | 'timeout'
  | 'target';

/** What a loader failure is about in the source: an extern symbol, or a map (and the slot of its initialiser). */
export interface LoaderSubject {
  symbol: string;
  slot?: number;
}

export class VerifyProblem extends Error {
  constructor(
    readonly kind: VerifyProblemKind,
    message: string,
    readonly fix: string,
    /** loader-failed: the symbol libbpf named, so that the editor can put the problem on its line. */
    readonly subject?: LoaderSubject,
  ) {
    super(message);
  }

  /**
   * Says which temporary files could not be removed. After a lost connection the target's own verify script still
   * removes them once bpftool ends; what stays is found by Clean Up Leftovers.
   */
  noteLeftovers(targetName: string, paths: readonly string[], removedByTheTarget = false): void {
    if (!/[.!?]$/.test(this.message)) this.message += '.';
    this.message += removedByTheTarget
      ? ` Its temporary files on ${targetName} (${paths.join(', ')}) are removed there once bpftool ends;` +
        ' if they stay, Cilium Custom: Clean Up Leftovers (or cilium-custom cleanup) removes them.'
      : ` Temporary files could not be removed on ${targetName}: ${paths.join(', ')} (Cilium Custom: Clean Up Leftovers, or rm -rf as root).`;
  }

  /** Message and fix in one line, for CLIs and notifications. */
  get full(): string {
    return this.fix ? `${this.message} ${this.fix}` : this.message;
  }
}

const NOT_PERMITTED = /Operation not permitted|EPERM|Permission denied \(you must be root\)|must be root|CAP_BPF|CAP_SYS_ADMIN/i;

/** Maps a failed run of a target command to a problem, when it is one of the environment problems we know. */
export function classifyRunProblem(result: RunResult, target: { name: string; bpftool: string; bpffsRoot: string }, what: string): VerifyProblem | undefined {
  const where = target.name === 'local' ? 'on this machine' : `on ${target.name}`;
  if (result.cancelled) return new VerifyProblem('cancelled', 'Verification cancelled.', '');
  if (result.timedOut) return new VerifyProblem('timeout', `${what} timed out ${where}.`, 'Check that the target is responsive, or raise the timeout.');
  const program = result.argv.includes(target.bpftool) || result.argv[0] === target.bpftool;
  const notFound = result.spawnError?.code === 'ENOENT' || result.exitCode === 127 || /command not found|No such file or directory.*bpftool/.test(result.stderr);
  if (notFound && program) {
    return new VerifyProblem(
      'bpftool-missing',
      `bpftool (${target.bpftool}) was not found ${where}.`,
      "Install it (Debian/Ubuntu: apt-get install bpftool, or linux-tools-$(uname -r)) or set the target's bpftool path.",
    );
  }
  if (NOT_PERMITTED.test(result.stderr) || /a password is required|sudo: /.test(result.stderr)) {
    return new VerifyProblem(
      'not-permitted',
      `${what} was not permitted ${where}: ${firstLine(result.stderr)}`,
      'Loading BPF programs needs root (CAP_BPF and CAP_NET_ADMIN): run as root, or enable sudo for the target (passwordless: sudo -n is used).',
    );
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}
