// A local sandbox endpoint: a network namespace behind a veth whose host side runs bpf/mock/mock_datapath.c, which
// plays Cilium's part (writes the custom-call meta word, tail-calls cilium_calls_custom_%05d). No Cilium needed.
//
// Everything it creates is recorded, step by step, in a state file; `down` removes exactly what the state file lists,
// so it is idempotent and never touches anything it did not create. A failure half-way through `up` rolls back.
// `up` (with its rollback) and `down` hold the node lock `sandbox-<id>` (src/core/target/nodeLock.ts) for their whole
// run, so two runs for one id never see each other's half-made state: the loser waits briefly, then reports the
// sandbox being created or already up, and its rollback only ever undoes what it created itself. `down` first takes
// the programs that `cilium-custom attach` put into the sandbox's slots out through the attach module's detach (which
// takes the `pins` lock: always after `sandbox-<id>`), and refuses, naming them, when others' programs are there.
// Local only (network namespaces and veths of this machine); every command is an argv array.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeFailure, runProcess, succeeded, type RunResult } from '../process';
import { detach } from '../attach/attach';
import { listOurPrograms } from '../pins/ours';
import { defaultPinPrefix, HOOKS, keyHook, parsePinPrefix, type Hook } from '../ids';
import { CustomCallsProblem } from '../problem';
import { readSlots } from '../endpoints/slots';
import { showProgById } from '../maps/bpftool';
import { LocalTarget } from '../target/localTarget';
import { NodeLockBusy, NodeLockFailed, withNodeLock } from '../target/nodeLock';
import type { Target } from '../target/target';
import {
  DEFAULT_IDENTITY,
  DEFAULT_STATE_DIR,
  IPV4_UDP_OVERHEAD,
  IPV6_UDP_OVERHEAD,
  SANDBOX_NEEDS_ROOT,
  SandboxError,
  parseEchoSummary,
  sandboxCommands,
  sandboxLockName,
  sandboxNames,
  stateFilePath,
  validateCount,
  validateEndpointId,
  validateIdentity,
  validateReturnCode,
  type SandboxCommands,
  type SandboxNames,
} from './names';

export { SandboxError, SANDBOX_NEEDS_ROOT, type SandboxProblemKind } from './names';

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
  /**
   * How long `up` and `down` wait for another process's `up` or `down` of the same id to finish; default 5 s for
   * `up` (then it reports the sandbox being created, or finds it up) and 30 s for `down`.
   */
  lockWaitMs?: number;
}

export const UP_LOCK_WAIT_MS = 5_000;
export const DOWN_LOCK_WAIT_MS = 30_000;

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
  /** Set by `down` once the slots are empty, before it removes anything: traffic still running stops at once. */
  removing?: boolean;
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

/** An EACCES/EPERM from the file system means the caller lacks root: one clear line instead of a raw errno. */
function needsRoot(): SandboxError {
  return new SandboxError(SANDBOX_NEEDS_ROOT, 'needs-root');
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

function isRoot(): boolean {
  return typeof process.geteuid !== 'function' || process.geteuid() === 0;
}

async function writeState(file: string, state: SandboxState): Promise<void> {
  const tmp = `${file}.tmp`;
  // The directory goes when its last sandbox does (another id's down may remove it between mkdir and write).
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await fs.writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      await fs.rename(tmp, file);
      return;
    } catch (error) {
      if (isPermissionError(error)) throw needsRoot();
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
    }
  }
}

export async function readState(endpointId: number, stateDir = DEFAULT_STATE_DIR): Promise<SandboxState | undefined> {
  const file = stateFilePath(endpointId, stateDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    if (isPermissionError(error)) throw needsRoot();
    throw new SandboxError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let state: SandboxState;
  try {
    state = JSON.parse(text) as SandboxState;
  } catch {
    throw new SandboxError(`unreadable state file ${file} (not JSON)`);
  }
  if (state?.version !== 1 || state.endpointId !== endpointId) throw new SandboxError(`unrecognised state file ${file}`);
  return state;
}

/** Ids of the sandboxes with a state file (complete or not), from the state directory alone: no command runs. */
export async function listSandboxIds(stateDir = DEFAULT_STATE_DIR): Promise<number[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(stateDir);
  } catch (error) {
    if (isPermissionError(error)) throw needsRoot();
    return [];
  }
  return entries
    .filter((e) => /^\d+\.json$/.test(e))
    .map((e) => Number(e.slice(0, -5)))
    .filter((id) => id >= 1 && id <= 65535)
    .sort((a, b) => a - b);
}

async function linkExists(ex: Executor, ifName: string, netns?: string): Promise<boolean> {
  const argv = netns ? ['ip', '-n', netns, 'link', 'show', 'dev', ifName] : ['ip', 'link', 'show', 'dev', ifName];
  return succeeded(await ex.run(argv));
}

function netnsPath(name: string): string {
  return path.join('/run/netns', name);
}

/** Refuses to start when anything the sandbox would create is already there (Cilium, another tool, a stale run). */
async function preflight(n: SandboxNames, ex: Executor, stateFile: string, stateDir: string): Promise<void> {
  const existing = await readState(n.endpointId, stateDir);
  if (existing?.complete) throw new SandboxError(`sandbox ${n.endpointId} is already up (${stateFile})`, 'already-up');
  if (existing || (await exists(stateFile))) {
    throw new SandboxError(`sandbox ${n.endpointId} was left half-made by a run that did not finish (${stateFile})`, 'already-up');
  }
  if (await exists(netnsPath(n.netns))) throw new SandboxError(`network namespace ${n.netns} already exists and was not made by this sandbox`, 'conflict');
  if (await linkExists(ex, n.hostIf)) throw new SandboxError(`interface ${n.hostIf} already exists`, 'conflict');
  if (await exists(n.callsMapPin)) {
    throw new SandboxError(`${n.callsMapPin} already exists (a Cilium endpoint or another tool owns it); pick another endpoint id`, 'conflict');
  }
  if (await exists(n.pinDir)) throw new SandboxError(`${n.pinDir} already exists and was not made by this sandbox`, 'conflict');
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
          throw new SandboxError(`address ${local} on ${link.ifname} overlaps the sandbox's ${v4Net}.0/30 / ${v6Prefix}/64; pick another endpoint id`, 'conflict');
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

/** mkdir -p on bpffs, returning the directories that were created (outermost first); one made meanwhile by someone else is not ours. */
async function mkdirsRecorded(dir: string, stopAt: string): Promise<string[]> {
  const missing: string[] = [];
  for (let d = dir; d !== stopAt && d !== path.dirname(d); d = path.dirname(d)) {
    if (await exists(d)) break;
    missing.unshift(d);
  }
  const made: string[] = [];
  for (const d of missing) {
    try {
      await fs.mkdir(d, { mode: 0o700 });
      made.push(d);
    } catch (error) {
      if (isPermissionError(error)) throw needsRoot();
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return made;
}

/**
 * Runs fn under the sandbox's node lock. Not obtaining it within the wait is reported from the state file: the
 * sandbox is being created, being removed, or already up. The lock is machine-wide (the local target's default
 * bpffs), like the namespace and interface names it protects.
 */
async function underSandboxLock<T>(
  endpointId: number,
  stateDir: string,
  operation: 'up' | 'down',
  options: Pick<SandboxCommonOptions, 'lockWaitMs' | 'signal'>,
  fn: () => Promise<T>,
): Promise<T> {
  const waitMs = options.lockWaitMs ?? (operation === 'up' ? UP_LOCK_WAIT_MS : DOWN_LOCK_WAIT_MS);
  let entered = false;
  try {
    return await withNodeLock(
      new LocalTarget(),
      sandboxLockName(endpointId),
      () => {
        entered = true;
        return fn();
      },
      { waitMs, signal: options.signal },
    );
  } catch (error) {
    if (entered) throw error;
    if (error instanceof NodeLockBusy) throw await busyProblem(endpointId, stateDir, operation, waitMs);
    if (error instanceof NodeLockFailed) {
      if (options.signal?.aborted) throw new SandboxError(`sandbox ${operation} cancelled while another process was working on sandbox ${endpointId}`, 'cancelled');
      if (!isRoot()) throw needsRoot();
      throw new SandboxError(`sandbox ${endpointId}: ${error.message}`);
    }
    throw error;
  }
}

async function busyProblem(endpointId: number, stateDir: string, operation: 'up' | 'down', waitMs: number): Promise<SandboxError> {
  const state = await readState(endpointId, stateDir).catch(() => undefined);
  if (state?.removing) return new SandboxError(`sandbox ${endpointId} is being removed by another process`, 'busy');
  if (!state?.complete) return new SandboxError(`sandbox ${endpointId} is being created by another process`, 'busy');
  if (operation === 'up') return new SandboxError(`sandbox ${endpointId} is already up`, 'already-up');
  return new SandboxError(`sandbox ${endpointId} is in use by another cilium-custom process (waited ${Math.round(waitMs / 1000)} s)`, 'busy');
}

export async function sandboxUp(options: SandboxUpOptions): Promise<SandboxUpResult> {
  const endpointId = validateEndpointId(options.endpointId);
  validateIdentity(options.identity ?? DEFAULT_IDENTITY);
  validateReturnCode(options.returnCode ?? 0);
  const source = path.join(options.sdkDir, 'mock', 'mock_datapath.c');
  if (!(await exists(source))) throw new SandboxError(`mock datapath source not found: ${source}`);
  return underSandboxLock(endpointId, options.stateDir ?? DEFAULT_STATE_DIR, 'up', options, () => upLocked(options, source));
}

async function upLocked(options: SandboxUpOptions, source: string): Promise<SandboxUpResult> {
  const endpointId = validateEndpointId(options.endpointId);
  const identity = validateIdentity(options.identity ?? DEFAULT_IDENTITY);
  const returnCode = validateReturnCode(options.returnCode ?? 0);
  const bpffsRoot = options.bpffsRoot ?? '/sys/fs/bpf';
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const n = sandboxNames(endpointId, bpffsRoot);
  const cmd = sandboxCommands(n, { clang: options.clang });
  const ex = new Executor(options);
  const stateFile = stateFilePath(endpointId, stateDir);

  await preflight(n, ex, stateFile, stateDir);

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

  // Nothing exists yet: a state file that cannot be written (no root) ends here, with nothing to roll back.
  await writeState(stateFile, state);
  let buildDir: string | undefined;
  try {
    buildDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cilium-custom-sandbox-'));
    const object = path.join(buildDir, 'mock_datapath.o');
    await ex.must(cmd.compileMock(source, object, path.join(options.sdkDir, 'include'), await multiarchInclude(ex, options.clang ?? 'clang')), 'building the mock datapath');

    const globals = path.dirname(n.callsMapPin);
    const made = await mkdirsRecorded(globals, bpffsRoot);
    await record((c) => c.bpffsDirs.push(...made));
    const sandboxRoot = path.dirname(n.pinDir);
    const madeRoot = await mkdirsRecorded(sandboxRoot, bpffsRoot);
    await record((c) => c.bpffsDirs.push(...madeRoot));
    try {
      await fs.mkdir(n.pinDir, { mode: 0o700 });
    } catch (error) {
      throw isPermissionError(error) ? needsRoot() : error;
    }
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
    // Still under the lock, and without the caller's signal: a cancelled up must still undo what it made.
    const undo = new Executor({ ...options, signal: undefined });
    const leftovers: string[] = [];
    // Anything attached into the calls map meanwhile goes with it (our pins too, as `down` would do).
    await releaseSlots(state, { force: true, onCommand: options.onCommand }).catch((e: unknown) => leftovers.push(`slots: ${e instanceof Error ? e.message : String(e)}`));
    leftovers.push(...(await teardown(state, undo, stateFile, stateDir).catch((e: unknown) => [String(e)])));
    if (error instanceof SandboxError && error.kind === 'needs-root') throw error;
    if (options.signal?.aborted) {
      throw new SandboxError(`sandbox up cancelled${leftovers.length ? ` (rollback left: ${leftovers.join('; ')})` : '; everything it made was removed'}`, 'cancelled');
    }
    const suffix = leftovers.length ? ` (rollback left: ${leftovers.join('; ')})` : ' (rolled back)';
    if (error instanceof Error) error.message += suffix;
    throw error;
  } finally {
    if (buildDir) await fs.rm(buildDir, { recursive: true, force: true });
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
  // The sandboxes' own folder (<bpffs>/cilium-custom-sandbox) goes with the last sandbox, whichever made it: two
  // sandboxes up at once otherwise leave it behind when the one that made it goes down first. Only when empty.
  if (!c.pinDir) await fs.rmdir(path.dirname(n.pinDir)).catch(() => undefined);

  if (problems.length) {
    state.removing = false;
    await writeState(stateFile, state).catch(() => undefined);
  } else {
    await fs.rm(stateFile, { force: true });
    await fs.rmdir(stateDir).catch(() => undefined); // only when empty
  }
  return problems;
}

export interface SandboxDownOptions extends SandboxCommonOptions {
  /**
   * Also take out programs that cilium-custom did not attach (their pins are kept). Without it, `down` refuses and
   * names them, and changes nothing.
   */
  force?: boolean;
  /** Where `attach` pins our programs (its pin prefix); default <bpffs>/cilium-custom. */
  pinPrefix?: string;
}

export interface DetachedProgram {
  hook: Hook;
  progId: number;
  /** Our pin directory name; null for a program cilium-custom did not attach (taken out with force). */
  ours: string | null;
}

export interface SlotRelease {
  /** Programs taken out of the sandbox's slots before its calls map was removed. */
  detached: DetachedProgram[];
  /** Our pin directories removed with them. */
  removedPins: string[];
  /** Our pin directories kept because a slot of another endpoint still uses the program. */
  keptPins: string[];
  /** Our pin directories that could not be removed. */
  leftoverPins: string[];
}

export interface SandboxDownResult extends SlotRelease {
  /** False when there was no state file: nothing to do. */
  wasUp: boolean;
  commands: string[][];
}

const NOTHING_RELEASED: SlotRelease = { detached: [], removedPins: [], keptPins: [], leftoverPins: [] };

/** A local target whose runs are reported to onCommand (the attach module runs through a Target, not the Executor). */
function reportingTarget(bpffsRoot: string, onCommand?: (argv: readonly string[]) => void): Target {
  const inner = new LocalTarget({ bpffsRoot });
  if (!onCommand) return inner;
  return {
    name: inner.name,
    isRemote: false,
    bpffsRoot: inner.bpffsRoot,
    bpftool: inner.bpftool,
    run: (argv, options) => {
      onCommand(argv);
      return inner.run(argv, options);
    },
    dispose: () => inner.dispose(),
    describeFailure: (result) => inner.describeFailure(result),
  };
}

async function describeProgram(target: Target, id: number): Promise<string> {
  const { info } = await showProgById(target, id).catch(() => ({ info: { ok: false as const } }));
  return info.ok ? `program ${id} (${info.value.name || 'unnamed'}, ${info.value.type})` : `program ${id}`;
}

/**
 * Empties the sandbox's slots through the attach module's detach, so that our programs' pins go with them rather
 * than stay behind as orphans of a removed calls map. Programs that cilium-custom did not attach are named and
 * nothing is changed, unless `force`.
 */
async function releaseSlots(
  state: SandboxState,
  options: { force?: boolean; pinPrefix?: string; signal?: AbortSignal; onCommand?: (argv: readonly string[]) => void },
): Promise<SlotRelease> {
  const n = state.names;
  if (!state.created.callsMap || !(await exists(n.callsMapPin))) return NOTHING_RELEASED;
  const target = reportingTarget(n.bpffsRoot, options.onCommand);
  const pinPrefix = parsePinPrefix(options.pinPrefix ?? defaultPinPrefix(n.bpffsRoot));
  const what = `sandbox ${state.endpointId} was not removed`;
  try {
    const slots = await readSlots(target, n.callsMapPin, options.signal);
    if (!slots.size) return NOTHING_RELEASED;
    const keys = [...slots.keys()].sort((a, b) => a - b);
    if (!options.force) {
      const ours = new Set((await listOurPrograms(target, pinPrefix, options.signal)).flatMap((p) => (p.prog ? [p.prog.id] : [])));
      const foreign = keys.filter((k) => !ours.has(slots.get(k)!));
      if (foreign.length) {
        const named = await Promise.all(foreign.map(async (k) => `${keyHook(k)} holds ${await describeProgram(target, slots.get(k)!)}`));
        throw new SandboxError(
          `${what}: ${named.join('; ')}, which cilium-custom did not attach (not pinned under ${pinPrefix}). Nothing was changed.`,
          'foreign-programs',
          foreign.map((k) => keyHook(k)),
        );
      }
    }
    // All four hooks: a slot filled since the read above is checked (under the pins lock) like the others.
    const r = await detach({ target, endpointId: state.endpointId, hooks: HOOKS, force: options.force ?? false, pinPrefix, signal: options.signal });
    return {
      detached: r.hooks.flatMap((h) => (h.progId === null ? [] : [{ hook: h.hook, progId: h.progId, ours: h.ours }])),
      removedPins: r.removedPins,
      keptPins: r.keptPins,
      leftoverPins: r.leftovers,
    };
  } catch (error) {
    if (error instanceof SandboxError) throw error;
    if (error instanceof CustomCallsProblem && error.kind === 'not-ours') throw new SandboxError(`${what}: ${error.message}`, 'foreign-programs');
    if (error instanceof CustomCallsProblem && error.kind === 'cancelled') throw new SandboxError(`${what}: ${error.message}`, 'cancelled');
    if (error instanceof CustomCallsProblem && error.kind === 'busy') throw new SandboxError(`${what}: ${error.message}`, 'busy');
    const message = error instanceof CustomCallsProblem ? error.full : error instanceof Error ? error.message : String(error);
    throw new SandboxError(`${what}: taking the programs out of its slots failed: ${message}`);
  }
}

/**
 * Removes exactly what `up` created for this endpoint id, after taking the programs in its slots out (see
 * releaseSlots). Idempotent.
 */
export async function sandboxDown(options: SandboxDownOptions): Promise<SandboxDownResult> {
  const endpointId = validateEndpointId(options.endpointId);
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  if (options.pinPrefix !== undefined) {
    try {
      parsePinPrefix(options.pinPrefix);
    } catch (error) {
      throw new SandboxError(error instanceof Error ? error.message : String(error), 'invalid');
    }
  }
  return underSandboxLock(endpointId, stateDir, 'down', options, async () => {
    const state = await readState(endpointId, stateDir);
    if (!state) return { wasUp: false, commands: [], ...NOTHING_RELEASED };
    const stateFile = stateFilePath(endpointId, stateDir);
    const released = await releaseSlots(state, options);
    state.removing = true;
    await writeState(stateFile, state);
    const ex = new Executor(options);
    const problems = await teardown(state, ex, stateFile, stateDir);
    if (problems.length) throw new SandboxError(`sandbox ${endpointId} was only partly removed: ${problems.join('; ')}`);
    return { wasUp: true, commands: ex.commands, ...released };
  });
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

/** How often running traffic checks that its sandbox is still there. */
const TRAFFIC_WATCH_MS = 100;
/** How long one datagram waits for its echo. */
const ECHO_WAIT_MS = 1_000;

/** An AbortSignal that fires when any of `signals` does. */
function anySignal(signals: readonly (AbortSignal | undefined)[]): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * Watches that the sandbox `state` describes is still there: its state file (the same one: same createdAt, and not
 * being removed) and its namespace. `gone` fires within TRAFFIC_WATCH_MS of a `down` starting.
 */
function watchSandbox(state: SandboxState, stateFile: string): { gone: AbortSignal; stillThere: () => Promise<boolean>; stop: () => void } {
  const controller = new AbortController();
  const stillThere = async (): Promise<boolean> => {
    try {
      const now = JSON.parse(await fs.readFile(stateFile, 'utf8')) as Partial<SandboxState>;
      return now.createdAt === state.createdAt && !now.removing && (await exists(netnsPath(state.names.netns)));
    } catch {
      return false;
    }
  };
  let checking = false;
  const timer = setInterval(() => {
    if (checking || controller.signal.aborted) return;
    checking = true;
    void stillThere().then((there) => {
      checking = false;
      if (!there) controller.abort();
    });
  }, TRAFFIC_WATCH_MS);
  return { gone: controller.signal, stillThere, stop: () => clearInterval(timer) };
}

/**
 * Real traffic through the sandbox: a UDP echo server runs inside the namespace (bound to the namespace address), the
 * host sends `count` datagrams of `size` bytes from the host-side address one at a time and waits for each echo.
 * Only sandbox addresses are used. Non-IP frames (ARP) never reach a slot; IPv6 neighbour discovery (ICMPv6) does
 * reach slots 2/3 and is not included in the counts. When the sandbox goes away meanwhile (`sandbox down`), it stops
 * within about TRAFFIC_WATCH_MS with a 'gone' SandboxError saying how far it got.
 */
export async function sandboxTraffic(options: SandboxTrafficOptions): Promise<SandboxTrafficResult> {
  const endpointId = validateEndpointId(options.endpointId);
  const count = validateCount(options.count ?? 10, 'count', 1, 100_000);
  const size = validateCount(options.size ?? 64, 'size', 1, 1400);
  const family = options.family ?? 'both';
  if (!['ipv4', 'ipv6', 'both'].includes(family)) throw new SandboxError(`family must be ipv4, ipv6 or both, not ${JSON.stringify(family)}`, 'invalid');
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const state = await readState(endpointId, stateDir);
  if (!state?.complete || state.removing) throw new SandboxError(`sandbox ${endpointId} is not up`, 'not-up');
  const n = state.names;
  const cmd = sandboxCommands(n);
  const families: FamilyTraffic[] = [];
  const commands: string[][] = [];
  const watch = watchSandbox(state, stateFilePath(endpointId, stateDir));
  const stopped = anySignal([options.signal, watch.gone]);
  const goneError = (f: string, sent: number, echoed: number) =>
    new SandboxError(
      `sandbox ${endpointId} was removed while traffic was running: stopped after ${sent} of ${count} ${f === 'ipv4' ? 'IPv4' : 'IPv6'} datagrams (${echoed} echoed)`,
      'gone',
    );
  try {
    for (const f of family === 'both' ? (['ipv4', 'ipv6'] as const) : [family]) {
      const v = f === 'ipv4' ? 4 : 6;
      const argv = cmd.echoServer(process.execPath, v, count, 10_000 + count * ECHO_WAIT_MS);
      options.onCommand?.(argv);
      commands.push(argv);
      let onReady: (port: number) => void = () => undefined;
      const ready = new Promise<number>((resolve) => (onReady = resolve));
      let seen = '';
      // Stopped early (the sandbox went, cancelled, lost datagrams): SIGTERM makes it print its summary and exit.
      const stopServer = new AbortController();
      const server = runProcess(argv, {
        signal: anySignal([stopped, stopServer.signal]),
        timeoutMs: 20_000 + count * ECHO_WAIT_MS,
        onStdout: (chunk) => {
          seen += chunk;
          const m = /ready (\d+)/.exec(seen);
          if (m) onReady(Number(m[1]));
        },
      });
      const port = await Promise.race([ready, server.then(() => undefined)]);
      if (port === undefined) {
        const r = await server;
        if (watch.gone.aborted || !(await watch.stillThere())) throw goneError(f, 0, 0);
        options.signal?.throwIfAborted();
        throw new SandboxError(`the UDP echo server in ${n.netns} did not start: ${describeFailure(r)}\n${r.stderr.trim()}`);
      }
      let progress: { sent: number; echoed: number } = { sent: 0, echoed: 0 };
      let sendError: unknown;
      try {
        progress = await sendAndCollect(v === 4 ? 'udp4' : 'udp6', v === 4 ? n.hostV4 : n.hostV6, v === 4 ? n.nsV4 : n.nsV6, port, count, size, stopped, progress);
      } catch (error) {
        sendError = error;
      }
      // Every echo came back: the server has seen every datagram and is ending by itself. Otherwise it would wait
      // out its timeout for datagrams that are not coming.
      if (progress.echoed < count) {
        const grace = setTimeout(() => stopServer.abort(), progress.sent < count ? 0 : 500);
        await server;
        clearTimeout(grace);
      }
      const r = await server;
      if (watch.gone.aborted || (sendError !== undefined && !(await watch.stillThere()))) throw goneError(f, progress.sent, progress.echoed);
      options.signal?.throwIfAborted();
      if (sendError !== undefined) {
        throw new SandboxError(`sending to ${v === 4 ? n.nsV4 : `[${n.nsV6}]`}:${port} failed after ${progress.sent} datagrams: ${sendError instanceof Error ? sendError.message : String(sendError)}`);
      }
      if (!parseEchoSummary(r.stdout)) throw new SandboxError(`the UDP echo server in ${n.netns} failed: ${describeFailure(r)}\n${r.stderr.trim()}`);
      const frameBytes = size + (v === 4 ? IPV4_UDP_OVERHEAD : IPV6_UDP_OVERHEAD);
      families.push({ family: f, sent: count, echoed: progress.echoed, frameBytes, toPodBytes: count * frameBytes, fromPodBytes: progress.echoed * frameBytes });
    }
  } finally {
    watch.stop();
  }
  return {
    families,
    packetsSent: families.reduce((s, f) => s + f.sent + f.echoed, 0),
    bytesSent: families.reduce((s, f) => s + f.toPodBytes + f.fromPodBytes, 0),
    commands,
  };
}

/**
 * Sends `count` datagrams from `local` to `remote`:`port`, one after the other, each waiting up to ECHO_WAIT_MS for
 * its echo. Returns early (with what it got so far in `progress`) once `stop` fires; a send that fails throws, with
 * `progress` up to date.
 */
async function sendAndCollect(
  type: 'udp4' | 'udp6',
  local: string,
  remote: string,
  port: number,
  count: number,
  size: number,
  stop: AbortSignal,
  progress: { sent: number; echoed: number },
): Promise<{ sent: number; echoed: number }> {
  const sock = dgram.createSocket(type);
  // ICMP errors and the like arrive as 'error' events; a send that fails reports through its callback.
  sock.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, local, () => resolve());
    });
    let wake: () => void = () => undefined;
    sock.on('message', () => {
      progress.echoed++;
      wake();
    });
    const payload = Buffer.alloc(size, 0x5a);
    for (let i = 0; i < count && !stop.aborted; i++) {
      const before = progress.echoed;
      let timer: NodeJS.Timeout | undefined;
      const got = new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          stop.removeEventListener('abort', done);
          wake = () => undefined;
          resolve();
        };
        wake = done;
        timer = setTimeout(done, ECHO_WAIT_MS);
        stop.addEventListener('abort', done, { once: true });
      });
      try {
        await new Promise<void>((resolve, reject) => sock.send(payload, port, remote, (e) => (e ? reject(e) : resolve())));
      } catch (error) {
        wake();
        throw error;
      }
      progress.sent++;
      if (progress.echoed === before) await got;
      else wake();
    }
    return progress;
  } finally {
    sock.close();
  }
}

export interface SandboxStatus {
  endpointId: number;
  identity: number;
  returnCode: number;
  complete: boolean;
  /** A `down` is removing it (or was, and failed half-way). */
  removing: boolean;
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
  else ids = await listSandboxIds(stateDir);
  const ex = new Executor({ ...options, endpointId: ids[0] ?? 1 });
  const out: SandboxStatus[] = [];
  for (const id of ids) {
    // Gone since the listing (a concurrent down), or unreadable: not a sandbox to report.
    const state = await readState(id, stateDir).catch((error: unknown) => {
      if (error instanceof SandboxError && error.kind === 'needs-root') throw error;
      return undefined;
    });
    if (!state) continue;
    const n = state.names;
    const callsMapPresent = await exists(n.callsMapPin);
    out.push({
      endpointId: id,
      identity: state.identity,
      returnCode: state.returnCode,
      complete: state.complete,
      removing: state.removing ?? false,
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
