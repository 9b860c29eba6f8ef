// Clear messages for the ways a target run fails before the command itself had its say: ssh could not connect or
// log in, sudo wanted a password or is missing, or an argv could not be passed at all.
import type { RunResult } from '../process';

/** A RunResult for a run that was refused before any process started (bad argv, disposed target, ...). */
export function refusedResult(argv: readonly string[], code: string, message: string): RunResult {
  return {
    argv,
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    durationMs: 0,
    cancelled: false,
    timedOut: false,
    spawnError: { code, message },
  };
}

/** Why an argv cannot be run at all, or undefined. */
export function checkArgv(argv: readonly string[]): string | undefined {
  if (argv.length === 0) return 'empty argv';
  // A program name starting with '-' would be read as an option (by `exec` in the remote shell, by sudo).
  if (argv[0].startsWith('-')) return `the program name ${JSON.stringify(argv[0])} starts with '-'`;
  const index = argv.findIndex((word) => word.includes('\0'));
  if (index >= 0) return `argument ${index} contains a NUL byte, which cannot be passed in an argv`;
  return undefined;
}

/**
 * Messages for sudo's own failures (`sudo -n` never prompts), wherever sudo ran. `where` names the machine, e.g.
 * "on node1" or "on this machine".
 */
export function describeSudoFailure(result: RunResult, where: string): string | undefined {
  const program = result.argv[0] ?? '';
  if (result.spawnError?.code === 'ENOENT' && /(^|\/)sudo$/.test(program)) {
    return `sudo is not installed ${where}; install it, or run as root and turn the sudo setting off`;
  }
  const stderr = result.stderr;
  if (/sudo: (a password is required|a terminal is required)/.test(stderr)) {
    return (
      `sudo ${where} asks for a password, and it is run with -n (no prompts): ` +
      `allow this user to run it without one (a NOPASSWD rule in /etc/sudoers.d), or log in as root and turn the sudo setting off`
    );
  }
  if (/is not in the sudoers file|is not allowed to execute|may not run sudo/.test(stderr)) {
    return `sudo ${where} refuses this user: add a sudoers rule for it, or log in as root and turn the sudo setting off`;
  }
  if (result.exitCode === 127 && /sudo: (command )?not found|sudo: No such file/.test(stderr)) {
    return `sudo is not installed ${where}; install it, or log in as root and turn the sudo setting off`;
  }
  return undefined;
}

interface SshArgvFacts {
  ssh: string;
  destination?: string;
  port?: string;
  connectTimeoutSec?: string;
}

function sshArgvFacts(argv: readonly string[]): SshArgvFacts {
  const facts: SshArgvFacts = { ssh: argv[0] ?? 'ssh' };
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      facts.destination = argv[i + 1];
      break;
    }
    const next = argv[i + 1];
    if (word === '-p' && next !== undefined) facts.port = next;
    if (word === '-o' && next !== undefined) {
      const match = /^ConnectTimeout\s*=?\s*([0-9]+)$/i.exec(next);
      if (match && facts.connectTimeoutSec === undefined) facts.connectTimeoutSec = match[1];
    }
  }
  return facts;
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  return lines[lines.length - 1] ?? '';
}

/** The last line that ssh itself printed (not the remote command's own stderr). */
function lastSshLine(text: string): string {
  const own = /client_loop|Connection (?:to|closed|reset)|Broken pipe|not responding|Timeout, server|mux_client|Control socket|ssh:/;
  return lastLine(text.split('\n').filter((line) => own.test(line)).join('\n'));
}

/**
 * A clear message when an ssh run failed because of SSH itself (connection, authentication, host key) or because
 * sudo on the remote side refused; undefined when the remote command simply ran and failed.
 * `result` is what SshTarget.run returned (its argv is the ssh command line).
 */
export function describeSshFailure(result: RunResult & { remotePid?: number; connectionLost?: boolean }): string | undefined {
  const facts = sshArgvFacts(result.argv);
  const who = facts.destination ?? 'the remote host';
  const where = facts.port ? `${who} port ${facts.port}` : who;

  if (result.spawnError?.code === 'ENOENT') return `${facts.ssh} (the OpenSSH client) is not installed or not on PATH`;
  if (result.spawnError?.code === 'EINVAL') return result.spawnError.message;

  const sudo = describeSudoFailure(result, `on ${who}`);
  if (sudo) return sudo;
  if (result.exitCode !== 255) return undefined;

  const stderr = result.stderr;
  if (/Permission denied \(/.test(stderr) || /Too many authentication failures/.test(stderr)) {
    return `SSH authentication failed for ${who} (BatchMode: no password prompts; set up a key or agent)`;
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/.test(stderr)) {
    return (
      `SSH host key verification failed for ${where}: its key is not in known_hosts or has changed ` +
      `(BatchMode cannot ask; connect once with ssh by hand, or add the key to known_hosts)`
    );
  }
  if (/Could not resolve hostname/.test(stderr)) return `SSH could not resolve the host name in ${who}`;
  if (/Connection refused/.test(stderr)) {
    return `SSH connection to ${where} refused: nothing is listening there (is sshd running, is the port right?)`;
  }
  const after = facts.connectTimeoutSec ? ` after ${facts.connectTimeoutSec} s (ConnectTimeout)` : '';
  if (/timed out during banner exchange/.test(stderr)) {
    return `SSH connection to ${where} timed out${after}: the port accepted the connection but no SSH server answered`;
  }
  if (/Connection timed out|Operation timed out/.test(stderr)) {
    return `SSH connection to ${where} timed out${after}: the host is unreachable or a firewall drops the packets`;
  }
  if (/No route to host|Network is unreachable/.test(stderr)) return `SSH cannot reach ${where}: ${lastLine(stderr)}`;
  if (result.remotePid !== undefined) {
    // The command had started: either it exited 255 itself, or the connection broke under it.
    if (result.connectionLost || /closed by remote host|Broken pipe|not responding|client_loop|Connection reset/.test(stderr)) {
      const detail = lastSshLine(stderr);
      return `SSH connection to ${where} was lost while the command ran${detail ? `: ${detail}` : ''}`;
    }
    return undefined;
  }
  if (/kex_exchange_identification|Connection closed by|Connection reset by|banner/.test(stderr)) {
    return `SSH connection to ${where} was closed before login completed (is it an SSH server?): ${lastLine(stderr)}`;
  }
  const detail = lastLine(stderr);
  return `SSH to ${where} failed (exit 255)${detail ? `: ${detail}` : ''}`;
}
