// Names, addresses, validation and argv builders of the local sandbox endpoint. Pure functions: no process is started
// here, so all of it is unit-tested. See sandbox.ts for the order in which the argvs run.
import * as os from 'node:os';
import * as path from 'node:path';

export const DEFAULT_ENDPOINT_ID = 4242;
export const DEFAULT_IDENTITY = 12345;
export const SANDBOX_BPFFS_DIR = 'cilium-custom-sandbox';
export const DEFAULT_STATE_DIR = '/run/cilium-custom-sandbox';
/** Kernel map names are cut at 15 characters; Cilium's own pinned map shows up with this name. */
export const CALLS_MAP_KERNEL_NAME = 'cilium_calls_cu';
/** The PROG_ARRAY's name inside bpf/mock/mock_datapath.c, replaced at load by the pinned calls map. */
export const MOCK_CALLS_MAP = 'mock_calls';
export const MOCK_CONFIG_MAP = 'mock_config';
export const MOCK_PROGRAMS = { ingress: 'mock_ingress', egress: 'mock_egress' } as const;
/** Interface names are at most 15 bytes (IFNAMSIZ - 1). */
export const IFNAMSIZ_MAX = 15;
/** Ethernet (14) + IPv4 (20) + UDP (8) bytes around a datagram's payload, as skb->len sees it at tc. */
export const IPV4_UDP_OVERHEAD = 42;
/** Ethernet (14) + IPv6 (40) + UDP (8). */
export const IPV6_UDP_OVERHEAD = 62;

/** What went wrong, so that the CLI and the editor can each add their own next step. */
export type SandboxProblemKind =
  | 'invalid'
  /** No (complete) sandbox of that id. */
  | 'not-up'
  /** A sandbox of that id is already up (or was left half-made). */
  | 'already-up'
  /** Another process holds the sandbox's lock (creating or removing it). */
  | 'busy'
  /** The sandbox was removed while traffic ran. */
  | 'gone'
  /** Programs that cilium-custom did not attach occupy the sandbox's slots. */
  | 'foreign-programs'
  | 'needs-root'
  /** Something else already uses a name or address the sandbox needs. */
  | 'conflict'
  | 'cancelled'
  | 'failed';

/** The one line every sandbox command prints when it lacks the privileges (CLI and core alike). */
export const SANDBOX_NEEDS_ROOT = 'cilium-custom sandbox needs root (or CAP_BPF and CAP_NET_ADMIN)';

export class SandboxError extends Error {
  constructor(
    message: string,
    readonly kind: SandboxProblemKind = 'failed',
    /** foreign-programs: the hooks that hold a program cilium-custom did not attach. */
    readonly hooks: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The name of a sandbox's node lock (src/core/target/nodeLock.ts), held by `up` (with its rollback) and `down`. */
export function sandboxLockName(endpointId: number): string {
  return `sandbox-${validateEndpointId(endpointId)}`;
}

export function validateEndpointId(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new SandboxError(`endpoint id must be an integer from 1 to 65535, not ${JSON.stringify(value)}`, 'invalid');
  }
  return n;
}

export function validateIdentity(value: unknown): number {
  const n = typeof value === 'string' && /^(\d+|0x[0-9a-f]+)$/i.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffff) {
    throw new SandboxError(`identity must be an integer from 0 to 16777215 (24 bits), not ${JSON.stringify(value)}`, 'invalid');
  }
  return n;
}

export function validateReturnCode(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255) {
    throw new SandboxError(`return code must be an integer from 0 to 255, not ${JSON.stringify(value)}`, 'invalid');
  }
  return n;
}

export function validateCount(value: unknown, what: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new SandboxError(`${what} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`, 'invalid');
  }
  return n;
}

/** A valid interface name: 1-15 bytes, no '/', ':', whitespace, and not "." or "..". */
export function isValidIfName(name: string): boolean {
  return Buffer.byteLength(name) >= 1 && Buffer.byteLength(name) <= IFNAMSIZ_MAX && !/[/:\s]/.test(name) && name !== '.' && name !== '..';
}

/** A valid `ip netns` name: a single path component (it becomes /run/netns/NAME). */
export function isValidNetnsName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name);
}

export interface SandboxNames {
  endpointId: number;
  netns: string;
  hostIf: string;
  /** Peer's name while it is created; renamed to `nsIf` inside the namespace. */
  peerTmpIf: string;
  nsIf: string;
  bpffsRoot: string;
  /** bpffs directory owned by this sandbox: progs/ and maps/ of the mock datapath. */
  pinDir: string;
  progDir: string;
  mapDir: string;
  ingressProgPin: string;
  egressProgPin: string;
  configMapPin: string;
  /** /sys/fs/bpf/tc/globals/cilium_calls_custom_%05d */
  callsMapPin: string;
  hostV4: string;
  nsV4: string;
  v4PrefixLen: number;
  hostV6: string;
  nsV6: string;
  v6PrefixLen: number;
}

export function sandboxNames(endpointId: number, bpffsRoot = '/sys/fs/bpf'): SandboxNames {
  const id = validateEndpointId(endpointId);
  const pinDir = path.posix.join(bpffsRoot, SANDBOX_BPFFS_DIR, String(id));
  const progDir = path.posix.join(pinDir, 'progs');
  const mapDir = path.posix.join(pinDir, 'maps');
  const octet = id % 250;
  const names: SandboxNames = {
    endpointId: id,
    netns: `cilium-custom-sb-${id}`,
    hostIf: `ccsb${id}h`,
    peerTmpIf: `ccsb${id}p`,
    nsIf: 'eth0',
    bpffsRoot,
    pinDir,
    progDir,
    mapDir,
    ingressProgPin: path.posix.join(progDir, MOCK_PROGRAMS.ingress),
    egressProgPin: path.posix.join(progDir, MOCK_PROGRAMS.egress),
    configMapPin: path.posix.join(mapDir, MOCK_CONFIG_MAP),
    callsMapPin: callsMapPinPath(id, bpffsRoot),
    hostV4: `10.200.${octet}.1`,
    nsV4: `10.200.${octet}.2`,
    v4PrefixLen: 30,
    hostV6: `fd00:cc:0:${id.toString(16)}::1`,
    nsV6: `fd00:cc:0:${id.toString(16)}::2`,
    v6PrefixLen: 64,
  };
  for (const name of [names.hostIf, names.peerTmpIf, names.nsIf]) {
    if (!isValidIfName(name)) throw new SandboxError(`internal error: invalid interface name ${name}`);
  }
  if (!isValidNetnsName(names.netns)) throw new SandboxError(`internal error: invalid namespace name ${names.netns}`);
  return names;
}

export function callsMapPinPath(endpointId: number, bpffsRoot = '/sys/fs/bpf'): string {
  return path.posix.join(bpffsRoot, 'tc', 'globals', `cilium_calls_custom_${String(validateEndpointId(endpointId)).padStart(5, '0')}`);
}

export function stateFilePath(endpointId: number, stateDir = DEFAULT_STATE_DIR): string {
  return path.join(stateDir, `${validateEndpointId(endpointId)}.json`);
}

/** The value bytes of mock_config: struct { __u32 identity; __u32 ret_code; } in host byte order, as bpftool words. */
export function configValueBytes(identity: number, returnCode: number, endianness: 'LE' | 'BE' = os.endianness()): string[] {
  const buf = Buffer.alloc(8);
  if (endianness === 'LE') {
    buf.writeUInt32LE(validateIdentity(identity), 0);
    buf.writeUInt32LE(validateReturnCode(returnCode), 4);
  } else {
    buf.writeUInt32BE(validateIdentity(identity), 0);
    buf.writeUInt32BE(validateReturnCode(returnCode), 4);
  }
  return [...buf].map(String);
}

/** `bpftool map update` key bytes of a 32-bit key, host byte order. */
export function keyBytes(key: number, endianness: 'LE' | 'BE' = os.endianness()): string[] {
  const buf = Buffer.alloc(4);
  if (endianness === 'LE') buf.writeUInt32LE(key, 0);
  else buf.writeUInt32BE(key, 0);
  return [...buf].map(String);
}

export interface SandboxCommands {
  compileMock(source: string, object: string, sdkIncludeDir: string, multiarchInclude?: string): string[];
  createCallsMap(): string[];
  loadMock(object: string): string[];
  writeConfig(identity: number, returnCode: number): string[];
  addNetns(): string[];
  addVeth(): string[];
  renamePeer(): string[];
  hostAddr4(): string[];
  hostAddr6(): string[];
  nsAddr4(): string[];
  nsAddr6(): string[];
  hostUp(): string[];
  nsIfUp(): string[];
  nsLoUp(): string[];
  addClsact(): string[];
  attach(direction: 'ingress' | 'egress'): string[];
  delClsact(): string[];
  delVeth(): string[];
  delNetns(): string[];
  echoServer(nodePath: string, family: 4 | 6, count: number, timeoutMs: number): string[];
}

/** Every argv the sandbox runs, from its names. `bpftool`, `ip`, `tc`, `clang` may be overridden by full paths. */
export function sandboxCommands(
  n: SandboxNames,
  tools: { bpftool?: string; ip?: string; tc?: string; clang?: string } = {},
): SandboxCommands {
  const bpftool = tools.bpftool ?? 'bpftool';
  const ip = tools.ip ?? 'ip';
  const tc = tools.tc ?? 'tc';
  const clang = tools.clang ?? 'clang';
  return {
    compileMock: (source, object, sdkIncludeDir, multiarchInclude) => [
      clang, '--target=bpf', '-O2', '-g', '-Wall', `-I${sdkIncludeDir}`,
      ...(multiarchInclude ? [`-I${multiarchInclude}`] : []),
      '-c', source, '-o', object,
    ],
    createCallsMap: () => [bpftool, 'map', 'create', n.callsMapPin, 'type', 'prog_array', 'key', '4', 'value', '4', 'entries', '4', 'name', CALLS_MAP_KERNEL_NAME],
    loadMock: (object) => [
      bpftool, 'prog', 'loadall', object, n.progDir, 'type', 'classifier',
      'map', 'name', MOCK_CALLS_MAP, 'pinned', n.callsMapPin, 'pinmaps', n.mapDir,
    ],
    writeConfig: (identity, returnCode) => [
      bpftool, 'map', 'update', 'pinned', n.configMapPin, 'key', ...keyBytes(0), 'value', ...configValueBytes(identity, returnCode),
    ],
    addNetns: () => [ip, 'netns', 'add', n.netns],
    addVeth: () => [ip, 'link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', n.peerTmpIf, 'netns', n.netns],
    renamePeer: () => [ip, '-n', n.netns, 'link', 'set', 'dev', n.peerTmpIf, 'name', n.nsIf],
    hostAddr4: () => [ip, 'addr', 'add', `${n.hostV4}/${n.v4PrefixLen}`, 'dev', n.hostIf],
    hostAddr6: () => [ip, '-6', 'addr', 'add', `${n.hostV6}/${n.v6PrefixLen}`, 'dev', n.hostIf, 'nodad'],
    nsAddr4: () => [ip, '-n', n.netns, 'addr', 'add', `${n.nsV4}/${n.v4PrefixLen}`, 'dev', n.nsIf],
    nsAddr6: () => [ip, '-n', n.netns, '-6', 'addr', 'add', `${n.nsV6}/${n.v6PrefixLen}`, 'dev', n.nsIf, 'nodad'],
    hostUp: () => [ip, 'link', 'set', 'dev', n.hostIf, 'up'],
    nsIfUp: () => [ip, '-n', n.netns, 'link', 'set', 'dev', n.nsIf, 'up'],
    nsLoUp: () => [ip, '-n', n.netns, 'link', 'set', 'dev', 'lo', 'up'],
    addClsact: () => [tc, 'qdisc', 'add', 'dev', n.hostIf, 'clsact'],
    attach: (direction) => [
      tc, 'filter', 'add', 'dev', n.hostIf, direction, 'bpf', 'direct-action', 'object-pinned',
      direction === 'ingress' ? n.ingressProgPin : n.egressProgPin,
    ],
    delClsact: () => [tc, 'qdisc', 'del', 'dev', n.hostIf, 'clsact'],
    delVeth: () => [ip, 'link', 'del', 'dev', n.hostIf],
    delNetns: () => [ip, 'netns', 'del', n.netns],
    // A UDP echo server inside the namespace, bound to the namespace address only (see UDP_ECHO_SCRIPT).
    echoServer: (nodePath, family, count, timeoutMs) => [
      ip, 'netns', 'exec', n.netns, nodePath, '-e', UDP_ECHO_SCRIPT,
      family === 4 ? 'udp4' : 'udp6', family === 4 ? n.nsV4 : n.nsV6, String(count), String(timeoutMs),
    ],
  };
}

/**
 * Runs inside the namespace as `node -e SCRIPT TYPE ADDRESS COUNT TIMEOUT_MS`: binds a UDP socket on ADDRESS (any
 * port), prints `ready PORT`, echoes every datagram back to its sender, and after COUNT datagrams, the timeout or a
 * SIGTERM (the sender stopped early) prints `received N BYTES` and exits.
 */
export const UDP_ECHO_SCRIPT = `
const dgram = require('node:dgram');
const [type, address, count, timeoutMs] = process.argv.slice(1);
const sock = dgram.createSocket(type);
let n = 0, bytes = 0, finished = false;
const done = () => {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  process.stdout.write('received ' + n + ' ' + bytes + '\\n');
  sock.close();
};
const timer = setTimeout(done, Number(timeoutMs));
process.on('SIGTERM', done);
sock.on('message', (msg, rinfo) => {
  n++; bytes += msg.length;
  sock.send(msg, rinfo.port, rinfo.address, () => { if (n >= Number(count)) done(); });
});
sock.bind(0, address, () => process.stdout.write('ready ' + sock.address().port + '\\n'));
`;

/** Parses the echo server's last line: "received N BYTES". */
export function parseEchoSummary(stdout: string): { received: number; bytes: number } | undefined {
  const match = /received (\d+) (\d+)/.exec(stdout);
  return match ? { received: Number(match[1]), bytes: Number(match[2]) } : undefined;
}
