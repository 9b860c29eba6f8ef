// A local sandbox endpoint: a network namespace behind a veth whose host side runs bpf/mock/mock_datapath.c, which
// plays Cilium's part (writes the custom-call meta word, tail-calls cilium_calls_custom_%05d). No Cilium needed.
//
// Everything it creates is recorded, step by step, in a state file; `down` removes exactly what the state file lists,
// so it is idempotent and never touches anything it did not create. A failure half-way through `up` rolls back.
// Local only (network namespaces and veths of this machine); every command is an argv array.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeFailure, runProcess, succeeded, type RunResult } from '../process';
import {
  DEFAULT_IDENTITY,
  DEFAULT_STATE_DIR,
  IPV4_UDP_OVERHEAD,
  IPV6_UDP_OVERHEAD,
  SandboxError,
  parseEchoSummary,
  sandboxCommands,
  sandboxNames,
  stateFilePath,
  validateCount,
  validateEndpointId,
  validateIdentity,
  validateReturnCode,
  type SandboxCommands,
  type SandboxNames,
} from './names';

export { SandboxError } from './names';

export type Runner = (argv: readonly string[], options: { signal?: AbortSignal; timeoutMs?: number }) => Promise<RunResult>;

export interface SandboxCommonOptions {
  endpointId: number;
  bpffsRoot?: string;
  /** Where state files live; default /run/cilium-custom-sandbox. */
  stateDir?: string;
  signal?: AbortSignal;
  /** Runs one argv; default runProcess. */
  run?: Runner;
  /** Called with every argv before it runs (for logs and --verbose). */
  onCommand?: (argv: readonly string[]) => void;
}

export interface SandboxUpOptions extends SandboxCommonOptions {
  identity?: number;
  /** Verdict the mock datapath hands to the custom program in bits 24-31 (0 = TC_ACT_OK). */
  returnCode?: number;
  /** The bundled SDK folder (bpf/), which holds mock/mock_datapath.c and include/. */
  sdkDir: string;
  clang?: string;
}

export interface SandboxState {
  version: 1;
  endpointId: number;
  identity: number;
  returnCode: number;
  createdAt: string;
  names: SandboxNames;
  /** What this sandbox created, in creation order; `down` undoes exactly these. */
  created: {
    /** bpffs directories that did not exist before (outermost first). */
    bpffsDirs: string[];
    callsMap: boolean;
    pinDir: boolean;
    netns: boolean;
    veth: boolean;
    clsact: boolean;
    filters: ('ingress' | 'egress')[];
  };
  /** True once `up` finished. */
  complete: boolean;
}

export interface SandboxUpResult {
  state: SandboxState;
  stateFile: string;
  commands: string[][];
}

const STEP_TIMEOUT_MS = 60_000;

function defaultRunner(argv: readonly string[], options: { signal?: AbortSignal; timeoutMs?: number }): Promise<RunResult> {
  return runProcess(argv, options);
}

class Executor {
  readonly commands: string[][] = [];
  constructor(private readonly options: SandboxCommonOptions) {}

  async run(argv: readonly string[], timeoutMs = STEP_TIMEOUT_MS): Promise<RunResult> {
    this.options.onCommand?.(argv);
    this.commands.push([...argv]);
    return (this.options.run ?? defaultRunner)(argv, { signal: this.options.signal, timeoutMs });
  }

  async must(argv: readonly string[], what: string, timeoutMs?: number): Promise<RunResult> {
    const result = await this.run(argv, timeoutMs);
    if (!succeeded(result)) {
      const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
      throw new SandboxError(`${what} failed: ${describeFailure(result)}${detail ? `\n${detail}` : ''}`);
    }
    return result;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function writeState(file: string, state: SandboxState): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(tmp, file);
}

export async function readState(endpointId: number, stateDir = DEFAULT_STATE_DIR): Promise<SandboxState | undefined> {
  const file = stateFilePath(endpointId, stateDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const state = JSON.parse(text) as SandboxState;
  if (state.version !== 1 || state.endpointId !== endpointId) throw new SandboxError(`unrecognised state file ${file}`);
  return state;
}

async function linkExists(ex: Executor, ifName: string, netns?: string): Promise<boolean> {
  const argv = netns ? ['ip', '-n', netns, 'link', 'show', 'dev', ifName] : ['ip', 'link', 'show', 'dev', ifName];
  return succeeded(await ex.run(argv));
}

function netnsPath(name: string): string {
  return path.join('/run/netns', name);
}

/** Refuses to start when anything the sandbox would create is already there (Cilium, another tool, a stale run). */
async function preflight(n: SandboxNames, ex: Executor, stateFile: string): Promise<void> {
  if (await exists(stateFile)) throw new SandboxError(`sandbox ${n.endpointId} is already up (${stateFile}); run "sandbox down --endpoint ${n.endpointId}" first`);
  if (await exists(netnsPath(n.netns))) throw new SandboxError(`network namespace ${n.netns} already exists and was not made by this sandbox`);
  if (await linkExists(ex, n.hostIf)) throw new SandboxError(`interface ${n.hostIf} already exists`);
  if (await exists(n.callsMapPin)) {
    throw new SandboxError(`${n.callsMapPin} already exists (a Cilium endpoint or another tool owns it); pick another endpoint id`);
  }
  if (await exists(n.pinDir)) throw new SandboxError(`${n.pinDir} already exists and was not made by this sandbox`);
  const addrs = await ex.run(['ip', '-j', 'addr', 'show']);
  if (succeeded(addrs)) {
    const v4Net = n.hostV4.split('.').slice(0, 3).join('.');
    const v6Prefix = n.hostV6.replace(/::1$/, '::');
    const parsed = JSON.parse(addrs.stdout || '[]') as { ifname?: string; addr_info?: { local?: string }[] }[];
    for (const link of parsed) {
      for (const a of link.addr_info ?? []) {
        const local = a.local ?? '';
        const lastOctet = Number(local.split('.')[3]);
        if ((local.startsWith(`${v4Net}.`) && lastOctet < 4) || local.startsWith(v6Prefix)) {
          throw new SandboxError(`address ${local} on ${link.ifname} overlaps the sandbox's ${v4Net}.0/30 / ${v6Prefix}/64; pick another endpoint id`);
        }
      }
    }
  }
}

async function multiarchInclude(ex: Executor, clang: string): Promise<string | undefined> {
  const r = await ex.run([clang, '-print-multiarch']);
  const triplet = r.stdout.trim();
  if (!succeeded(r) || !triplet) return undefined;
  const dir = path.join('/usr/include', triplet);
  return (await exists(dir)) ? dir : undefined;
}

/** mkdir -p on bpffs, returning the directories that were created (outermost first). */
async function mkdirsRecorded(dir: string, stopAt: string): Promise<string[]> {
  const missing: string[] = [];
  for (let d = dir; d !== stopAt && d !== path.dirname(d); d = path.dirname(d)) {
    if (await exists(d)) break;
    missing.unshift(d);
  }
  const made: string[] = [];
  for (const d of missing) {
    await fs.mkdir(d, { mode: 0o700 });
    made.push(d);
  }
  return made;
}

export async function sandboxUp(options: SandboxUpOptions): Promise<SandboxUpResult> {
  const endpointId = validateEndpointId(options.endpointId);
  const identity = validateIdentity(options.identity ?? DEFAULT_IDENTITY);
  const returnCode = validateReturnCode(options.returnCode ?? 0);
  const bpffsRoot = options.bpffsRoot ?? '/sys/fs/bpf';
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const n = sandboxNames(endpointId, bpffsRoot);
  const cmd = sandboxCommands(n, { clang: options.clang });
  const ex = new Executor(options);
  const stateFile = stateFilePath(endpointId, stateDir);
  const source = path.join(options.sdkDir, 'mock', 'mock_datapath.c');
  if (!(await exists(source))) throw new SandboxError(`mock datapath source not found: ${source}`);

  await preflight(n, ex, stateFile);

  const state: SandboxState = {
    version: 1,
    endpointId,
    identity,
    returnCode,
    createdAt: new Date().toISOString(),
    names: n,
    created: { bpffsDirs: [], callsMap: false, pinDir: false, netns: false, veth: false, clsact: false, filters: [] },
    complete: false,
  };
  const record = async (change: (c: SandboxState['created']) => void) => {
    change(state.created);
    await writeState(stateFile, state);
  };

  const buildDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cilium-custom-sandbox-'));
  try {
    await writeState(stateFile, state);
    const object = path.join(buildDir, 'mock_datapath.o');
    await ex.must(cmd.compileMock(source, object, path.join(options.sdkDir, 'include'), await multiarchInclude(ex, options.clang ?? 'clang')), 'building the mock datapath');

    const globals = path.dirname(n.callsMapPin);
    const made = await mkdirsRecorded(globals, bpffsRoot);
    await record((c) => c.bpffsDirs.push(...made));
    const sandboxRoot = path.dirname(n.pinDir);
    const madeRoot = await mkdirsRecorded(sandboxRoot, bpffsRoot);
    await record((c) => c.bpffsDirs.push(...madeRoot));
    await fs.mkdir(n.pinDir, { mode: 0o700 });
    await record((c) => (c.pinDir = true));

    await ex.must(cmd.createCallsMap(), `creating ${n.callsMapPin}`);
    await record((c) => (c.callsMap = true));
    await ex.must(cmd.loadMock(object), 'loading the mock datapath');
    await ex.must(cmd.writeConfig(identity, returnCode), 'writing the mock configuration');

    await ex.must(cmd.addNetns(), `creating network namespace ${n.netns}`);
    await record((c) => (c.netns = true));
    await ex.must(cmd.addVeth(), `creating veth ${n.hostIf}`);
    await record((c) => (c.veth = true));
    await ex.must(cmd.renamePeer(), 'renaming the namespace side to eth0');
    await ex.must(cmd.hostAddr4(), 'adding the host IPv4 address');
    await ex.must(cmd.hostAddr6(), 'adding the host IPv6 address');
    await ex.must(cmd.nsAddr4(), 'adding the namespace IPv4 address');
    await ex.must(cmd.nsAddr6(), 'adding the namespace IPv6 address');
    await ex.must(cmd.nsLoUp(), 'bringing lo up in the namespace');
    await ex.must(cmd.nsIfUp(), 'bringing eth0 up in the namespace');
    await ex.must(cmd.hostUp(), `bringing ${n.hostIf} up`);
    await ex.must(cmd.addClsact(), `adding a clsact qdisc to ${n.hostIf}`);
    await record((c) => (c.clsact = true));
    for (const direction of ['ingress', 'egress'] as const) {
      await ex.must(cmd.attach(direction), `attaching the mock datapath on ${direction}`);
      await record((c) => c.filters.push(direction));
    }
    state.complete = true;
    await writeState(stateFile, state);
    return { state, stateFile, commands: ex.commands };
  } catch (error) {
    const leftovers = await teardown(state, ex, stateFile, stateDir).catch((e: unknown) => [String(e)]);
    const suffix = leftovers.length ? ` (rollback left: ${leftovers.join('; ')})` : ' (rolled back)';
    if (error instanceof Error) error.message += suffix;
    throw error;
  } finally {
    await fs.rm(buildDir, { recursive: true, force: true });
  }
}

/** Undoes what `state.created` lists, newest first. Returns what could not be removed (empty on success). */
async function teardown(state: SandboxState, ex: Executor, stateFile: string, stateDir: string): Promise<string[]> {
  const n = state.names;
  const cmd: SandboxCommands = sandboxCommands(n);
  const problems: string[] = [];
  const c = state.created;
  const step = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const hostLink = c.veth || c.clsact ? await linkExists(ex, n.hostIf) : false;
  // Deleting the clsact qdisc removes the two filters with it.
  if ((c.clsact || c.filters.length) && hostLink) {
    await step('clsact', async () => {
      await ex.must(cmd.delClsact(), `removing the clsact qdisc of ${n.hostIf}`);
    });
  }
  c.filters = [];
  c.clsact = false;
  if (c.veth && hostLink) await step('veth', async () => void (await ex.must(cmd.delVeth(), `removing ${n.hostIf}`)));
  if (!problems.length) c.veth = false;
  if (c.netns && (await exists(netnsPath(n.netns)))) {
    await step('netns', async () => void (await ex.must(cmd.delNetns(), `removing namespace ${n.netns}`)));
  }
  if (!(await exists(netnsPath(n.netns)))) c.netns = false;
  if (c.pinDir) await step('pins', () => fs.rm(n.pinDir, { recursive: true, force: true }));
  if (!(await exists(n.pinDir))) c.pinDir = false;
  if (c.callsMap) await step('calls map', () => fs.rm(n.callsMapPin, { force: true }));
  if (!(await exists(n.callsMapPin))) c.callsMap = false;
  for (const dir of [...c.bpffsDirs].reverse()) {
    try {
      await fs.rmdir(dir);
    } catch (error) {
      // Another sandbox (or Cilium) now uses it too: leave it, it is no longer only ours.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTEMPTY') {
        problems.push(`${dir}: ${(error as Error).message}`);
        continue;
      }
    }
    c.bpffsDirs = c.bpffsDirs.filter((d) => d !== dir);
  }

  if (problems.length) {
    await writeState(stateFile, state).catch(() => undefined);
  } else {
    await fs.rm(stateFile, { force: true });
    await fs.rmdir(stateDir).catch(() => undefined); // only when empty
  }
  return problems;
}

export interface SandboxDownResult {
  /** False when there was no state file: nothing to do. */
  wasUp: boolean;
  commands: string[][];
}

/** Removes exactly what `up` created for this endpoint id. Idempotent. */
export async function sandboxDown(options: SandboxCommonOptions): Promise<SandboxDownResult> {
  const endpointId = validateEndpointId(options.endpointId);
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const state = await readState(endpointId, stateDir);
  const ex = new Executor(options);
  if (!state) return { wasUp: false, commands: [] };
  const problems = await teardown(state, ex, stateFilePath(endpointId, stateDir), stateDir);
  if (problems.length) throw new SandboxError(`sandbox ${endpointId} was only partly removed: ${problems.join('; ')}`);
  return { wasUp: true, commands: ex.commands };
}

export type TrafficFamily = 'ipv4' | 'ipv6' | 'both';

export interface SandboxTrafficOptions extends SandboxCommonOptions {
  count?: number;
  /** UDP payload bytes per datagram. */
  size?: number;
  family?: TrafficFamily;
}

export interface FamilyTraffic {
  family: 'ipv4' | 'ipv6';
  /** Datagrams the host sent to the pod: through the host veth's tc egress, the endpoint's ingress (slot 0 / 2). */
  sent: number;
  /** Echoes the pod sent back: through the host veth's tc ingress, the endpoint's egress (slot 1 / 3). */
  echoed: number;
  /** skb->len of one datagram at tc: payload + UDP + IP + Ethernet headers. */
  frameBytes: number;
  /** sent * frameBytes: what the ingress slot (0 / 2) saw. */
  toPodBytes: number;
  /** echoed * frameBytes: what the egress slot (1 / 3) saw. */
  fromPodBytes: number;
}

export interface SandboxTrafficResult {
  families: FamilyTraffic[];
  packetsSent: number;
  bytesSent: number;
  commands: string[][];
}

/**
 * Real traffic through the sandbox: a UDP echo server runs inside the namespace (bound to the namespace address), the
 * host sends `count` datagrams of `size` bytes from the host-side address one at a time and waits for each echo.
 * Only sandbox addresses are used. Non-IP frames (ARP) never reach a slot; IPv6 neighbour discovery (ICMPv6) does
 * reach slots 2/3 and is not included in the counts.
 */
export async function sandboxTraffic(options: SandboxTrafficOptions): Promise<SandboxTrafficResult> {
  const endpointId = validateEndpointId(options.endpointId);
  const count = validateCount(options.count ?? 10, 'count', 1, 100_000);
  const size = validateCount(options.size ?? 64, 'size', 1, 1400);
  const family = options.family ?? 'both';
  if (!['ipv4', 'ipv6', 'both'].includes(family)) throw new SandboxError(`family must be ipv4, ipv6 or both, not ${JSON.stringify(family)}`);
  const state = await readState(endpointId, options.stateDir ?? DEFAULT_STATE_DIR);
  if (!state?.complete) throw new SandboxError(`sandbox ${endpointId} is not up; run "sandbox up --endpoint ${endpointId}"`);
  const n = state.names;
  const cmd = sandboxCommands(n);
  const families: FamilyTraffic[] = [];
  const commands: string[][] = [];
  for (const f of family === 'both' ? (['ipv4', 'ipv6'] as const) : [family]) {
    const v = f === 'ipv4' ? 4 : 6;
    const argv = cmd.echoServer(process.execPath, v, count, 10_000 + count * 1_000);
    options.onCommand?.(argv);
    commands.push(argv);
    let onReady: (port: number) => void = () => undefined;
    const ready = new Promise<number>((resolve) => (onReady = resolve));
    let seen = '';
    const server = runProcess(argv, {
      signal: options.signal,
      timeoutMs: 20_000 + count * 1_000,
      onStdout: (chunk) => {
        seen += chunk;
        const m = /ready (\d+)/.exec(seen);
        if (m) onReady(Number(m[1]));
      },
    });
    const port = await Promise.race([ready, server.then(() => undefined)]);
    if (port === undefined) {
      const r = await server;
      throw new SandboxError(`the UDP echo server in ${n.netns} did not start: ${describeFailure(r)}\n${r.stderr.trim()}`);
    }
    let echoed = 0;
    try {
      echoed = await sendAndCollect(v === 4 ? 'udp4' : 'udp6', v === 4 ? n.hostV4 : n.hostV6, v === 4 ? n.nsV4 : n.nsV6, port, count, size, options.signal);
    } finally {
      const r = await server;
      const summary = parseEchoSummary(r.stdout);
      if (!summary) throw new SandboxError(`the UDP echo server in ${n.netns} failed: ${describeFailure(r)}\n${r.stderr.trim()}`);
    }
    const frameBytes = size + (v === 4 ? IPV4_UDP_OVERHEAD : IPV6_UDP_OVERHEAD);
    families.push({ family: f, sent: count, echoed, frameBytes, toPodBytes: count * frameBytes, fromPodBytes: echoed * frameBytes });
  }
  return {
    families,
    packetsSent: families.reduce((s, f) => s + f.sent + f.echoed, 0),
    bytesSent: families.reduce((s, f) => s + f.toPodBytes + f.fromPodBytes, 0),
    commands,
  };
}

/** Sends `count` datagrams from `local` to `remote`:`port`, one after the other, each waiting up to 1 s for its echo. */
async function sendAndCollect(
  type: 'udp4' | 'udp6',
  local: string,
  remote: string,
  port: number,
  count: number,
  size: number,
  signal?: AbortSignal,
): Promise<number> {
  const sock = dgram.createSocket(type);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, local, () => resolve());
    });
    let echoed = 0;
    let wake: () => void = () => undefined;
    sock.on('message', () => {
      echoed++;
      wake();
    });
    const payload = Buffer.alloc(size, 0x5a);
    for (let i = 0; i < count; i++) {
      signal?.throwIfAborted();
      const before = echoed;
      const got = new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1_000).unref();
      });
      await new Promise<void>((resolve, reject) => sock.send(payload, port, remote, (e) => (e ? reject(e) : resolve())));
      if (echoed === before) await got;
    }
    return echoed;
  } finally {
    sock.close();
  }
}

export interface SandboxStatus {
  endpointId: number;
  identity: number;
  returnCode: number;
  complete: boolean;
  netns: string;
  hostIf: string;
  hostV4: string;
  nsV4: string;
  hostV6: string;
  nsV6: string;
  callsMapPin: string;
  /** Live checks. */
  netnsPresent: boolean;
  hostIfPresent: boolean;
  callsMapPresent: boolean;
  /** Keys of cilium_calls_custom_%05d that hold a program. */
  occupiedSlots: number[];
}

/** The sandboxes recorded in the state directory (or just one), with live checks. */
export async function sandboxStatus(options: Omit<SandboxCommonOptions, 'endpointId'> & { endpointId?: number }): Promise<SandboxStatus[]> {
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  let ids: number[];
  if (options.endpointId !== undefined) ids = [validateEndpointId(options.endpointId)];
  else {
    const entries = await fs.readdir(stateDir).catch(() => [] as string[]);
    ids = entries.filter((e) => /^\d+\.json$/.test(e)).map((e) => Number(e.slice(0, -5))).sort((a, b) => a - b);
  }
  const ex = new Executor({ ...options, endpointId: ids[0] ?? 1 });
  const out: SandboxStatus[] = [];
  for (const id of ids) {
    const state = await readState(id, stateDir);
    if (!state) continue;
    const n = state.names;
    const callsMapPresent = await exists(n.callsMapPin);
    out.push({
      endpointId: id,
      identity: state.identity,
      returnCode: state.returnCode,
      complete: state.complete,
      netns: n.netns,
      hostIf: n.hostIf,
      hostV4: n.hostV4,
      nsV4: n.nsV4,
      hostV6: n.hostV6,
      nsV6: n.nsV6,
      callsMapPin: n.callsMapPin,
      netnsPresent: await exists(netnsPath(n.netns)),
      hostIfPresent: await linkExists(ex, n.hostIf),
      callsMapPresent,
      occupiedSlots: callsMapPresent ? await occupiedSlots(ex, n.callsMapPin) : [],
    });
  }
  return out;
}

async function occupiedSlots(ex: Executor, pin: string): Promise<number[]> {
  const r = await ex.run(['bpftool', '-j', 'map', 'dump', 'pinned', pin]);
  if (!succeeded(r)) return [];
  try {
    const entries = JSON.parse(r.stdout) as { key?: unknown }[];
    return entries.map((e) => keyOf(e.key)).filter((k): k is number => k !== undefined).sort((a, b) => a - b);
  } catch {
    return [];
  }
}

function keyOf(key: unknown): number | undefined {
  if (typeof key === 'number') return key;
  if (Array.isArray(key)) {
    const bytes = key.map((b) => Number(b));
    if (bytes.some((b) => !Number.isInteger(b))) return undefined;
    return Buffer.from(bytes).readUInt32LE(0);
  }
  return undefined;
}
