// Parsing and checking of SSH destinations: the CLI's `--ssh [user@]host[:port]` flag and the `destination` of an
// SSH target. A destination is handed to `ssh` after `--`, so it can never be read as an option; these checks also
// keep shell and ssh_config metacharacters out of it (ProxyCommand expands %h and %r into a shell command line).

export interface SshSpec {
  /** `[user@]host`, ready for SshTargetConfig.destination (IPv6 addresses without brackets). */
  destination: string;
  user?: string;
  host: string;
  port?: number;
}

/** Host names, IPv4 and IPv6 addresses (with an optional %scope), and ssh_config Host aliases of the usual shape. */
const HOST = /^[A-Za-z0-9_.%:-]+$/;
/** Characters a shell or ssh's token expansion would read specially, plus whitespace and control characters. */
const BAD_USER_CHAR = /[\s\x00-\x1f\x7f'"`$;&|<>(){}[\]*?!\\#~]/;

/** Returns why `destination` ('[user@]host') is unusable, or undefined when it is fine. */
export function checkDestination(destination: string): string | undefined {
  if (destination.length === 0) return 'SSH destination is empty';
  if (/[\s\x00-\x1f\x7f]/.test(destination)) {
    return `SSH destination ${JSON.stringify(destination)} contains whitespace or control characters`;
  }
  if (destination.startsWith('-')) {
    return `SSH destination ${JSON.stringify(destination)} starts with '-' and could be taken for an option`;
  }
  const at = destination.lastIndexOf('@');
  const user = at >= 0 ? destination.slice(0, at) : undefined;
  const host = at >= 0 ? destination.slice(at + 1) : destination;
  if (user !== undefined) {
    if (user.length === 0) return `SSH destination ${JSON.stringify(destination)} has an empty user name`;
    if (user.startsWith('-')) return `SSH user name ${JSON.stringify(user)} starts with '-'`;
    if (BAD_USER_CHAR.test(user)) return `SSH user name ${JSON.stringify(user)} contains characters a shell would interpret`;
  }
  if (host.length === 0) return `SSH destination ${JSON.stringify(destination)} has an empty host`;
  if (host.startsWith('-')) return `SSH host ${JSON.stringify(host)} starts with '-' and could be taken for an option`;
  if (!HOST.test(host)) {
    return `SSH host ${JSON.stringify(host)} may contain only letters, digits and . _ - : % (write IPv6 addresses without brackets)`;
  }
  return undefined;
}

/** Throws an Error with a clear message when `destination` is unusable. */
export function validateDestination(destination: string): void {
  const problem = checkDestination(destination);
  if (problem) throw new Error(problem);
}

/** Returns why `port` is not a TCP port number, or undefined. */
export function checkPort(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : `SSH port ${port} is not a number from 1 to 65535`;
}

/**
 * Parses `[user@]host[:port]` as given to the CLI's `--ssh` flag. IPv6 addresses take brackets when a port follows
 * (`[::1]:2222`, `root@[fe80::1%eth0]:22`); a bare address with several colons (`::1`) is taken as having no port.
 * Throws an Error with a clear message on anything else.
 */
export function parseSshSpec(spec: string): SshSpec {
  if (/[\s\x00-\x1f\x7f]/.test(spec)) throw new Error(`--ssh ${JSON.stringify(spec)}: contains whitespace or control characters`);
  const at = spec.lastIndexOf('@');
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  const hostPort = at >= 0 ? spec.slice(at + 1) : spec;

  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw new Error(`--ssh ${JSON.stringify(spec)}: '[' without a closing ']'`);
    host = hostPort.slice(1, close);
    const rest = hostPort.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new Error(`--ssh ${JSON.stringify(spec)}: expected ':port' after ']'`);
      portText = rest.slice(1);
    }
  } else {
    const colons = hostPort.split(':').length - 1;
    if (colons === 1) {
      const colon = hostPort.indexOf(':');
      host = hostPort.slice(0, colon);
      portText = hostPort.slice(colon + 1);
    } else {
      host = hostPort;
    }
  }

  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) throw new Error(`--ssh ${JSON.stringify(spec)}: port ${JSON.stringify(portText)} is not a number`);
    port = Number(portText);
    const problem = checkPort(port);
    if (problem) throw new Error(`--ssh ${JSON.stringify(spec)}: ${problem}`);
  }

  const destination = user !== undefined ? `${user}@${host}` : host;
  const problem = checkDestination(destination);
  if (problem) throw new Error(`--ssh ${JSON.stringify(spec)}: ${problem}`);
  return { destination, host, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}
