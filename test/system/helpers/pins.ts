// What a verification may leave behind on the kernel side, and checks that it left nothing: the paths under the
// bpffs, the ids of loaded programs and maps, and bpftool processes. Also a Target wrapper that records the commands
// a verification ran (to learn its temporary pin directory and to see its argv).
//
// The kernel frees a program (and then its maps) asynchronously once its last file descriptor is closed, i.e. a
// moment after bpftool exits; so do other processes' short-lived verifications. The leak checks therefore poll for
// a while until the state is back to the snapshot instead of comparing once: only what stays is a leak.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunResult } from '../../../src/core/process';
import type { Target, TargetRunOptions } from '../../../src/core/target/target';
import { verifyScriptPlan } from '../../../src/core/verify/verifyScript';

export const BPFFS_ROOT = '/sys/fs/bpf';
/** Prefix of the temporary pin directories verifyObject makes (see temporaryPinDir). */
export const PIN_DIR_PREFIX = 'cilium-custom-verify-';

/** Every path under the bpffs, relative to its root, sorted; directories end with '/'. */
export function listBpffs(root = BPFFS_ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string, prefix: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // Removed while we looked.
    }
    for (const entry of entries) {
      const relative = prefix + entry.name;
      if (entry.isDirectory()) {
        found.push(`${relative}/`);
        walk(path.join(dir, entry.name), `${relative}/`);
      } else {
        found.push(relative);
      }
    }
  };
  walk(root, '');
  return found.sort();
}

/** Temporary pin directories of any verification currently on the bpffs. */
export function verifyPinDirs(root = BPFFS_ROOT): string[] {
  try {
    return fs.readdirSync(root).filter((name) => name.startsWith(PIN_DIR_PREFIX)).map((name) => path.join(root, name));
  } catch {
    return [];
  }
}

// Program and map ids come from a tiny C helper that only walks BPF_{PROG,MAP}_GET_NEXT_ID and never opens a
// program or map. `bpftool prog|map show` would not do: it opens every map (prog show too, for metadata), which
// takes a user reference, and doing that while a prog_array is being released leaks the map in the kernel
// (6.18: the release of the user reference queues the prog_array's clear work with an extra map reference; a
// second release while that work is still queued takes another reference that is never dropped). bpftool is
// used only to describe what stayed, once a leak is certain.
const IDS_SOURCE = `
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void list(int cmd, const char *kind)
{
	union bpf_attr attr;
	unsigned int id = 0;

	for (;;) {
		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (syscall(__NR_bpf, cmd, &attr, sizeof(attr)) != 0)
			break;
		id = attr.next_id;
		printf("%s %u\\n", kind, id);
	}
}

int main(void)
{
	list(BPF_PROG_GET_NEXT_ID, "prog");
	list(BPF_MAP_GET_NEXT_ID, "map");
	return 0;
}
`;

let idsTool: string | undefined;

/** Compiles the id lister once per process (into a temporary directory removed when the process exits). */
function idsToolPath(): string {
  if (idsTool) return idsTool;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-bpf-ids-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const source = path.join(dir, 'ids.c');
  const binary = path.join(dir, 'ids');
  fs.writeFileSync(source, IDS_SOURCE);
  execFileSync('clang', ['-O2', '-Wall', '-o', binary, source], { stdio: 'pipe' });
  idsTool = binary;
  return binary;
}

/** Ids of the loaded programs and maps, without opening any of them. */
export function bpfIds(): { progs: Set<number>; maps: Set<number> } {
  const out = execFileSync(idsToolPath(), { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const progs = new Set<number>();
  const maps = new Set<number>();
  for (const line of out.split('\n')) {
    const [kind, id] = line.split(' ');
    if (kind === 'prog') progs.add(Number(id));
    else if (kind === 'map') maps.add(Number(id));
  }
  return { progs, maps };
}

/** One line of `bpftool <kind> show id N` (opens the object: use only for a report). */
function describeObject(kind: 'prog' | 'map', id: number): string {
  try {
    const json = JSON.parse(execFileSync('bpftool', ['-j', kind, 'show', 'id', String(id)], { encoding: 'utf8' })) as { type?: string; name?: string };
    return `${id}:${json.type ?? '?'}:${json.name ?? ''}`;
  } catch {
    return `${id}:gone`;
  }
}

export interface KernelSnapshot {
  bpffs: string[];
  progs: Set<number>;
  maps: Set<number>;
}

export function snapshot(root = BPFFS_ROOT): KernelSnapshot {
  return { bpffs: listBpffs(root), ...bpfIds() };
}

export interface Difference {
  addedPaths: string[];
  removedPaths: string[];
  newProgs: number[];
  newMaps: number[];
}

export function difference(before: KernelSnapshot, root = BPFFS_ROOT): Difference {
  const now = listBpffs(root);
  const was = new Set(before.bpffs);
  const is = new Set(now);
  const ids = bpfIds();
  return {
    addedPaths: now.filter((p) => !was.has(p)),
    removedPaths: before.bpffs.filter((p) => !is.has(p)),
    newProgs: [...ids.progs].filter((id) => !before.progs.has(id)),
    newMaps: [...ids.maps].filter((id) => !before.maps.has(id)),
  };
}

function isEmpty(d: Difference): boolean {
  return d.addedPaths.length + d.removedPaths.length + d.newProgs.length + d.newMaps.length === 0;
}

/**
 * Waits (up to `timeoutMs`) until the bpffs holds exactly the paths of `before` and every program and map loaded
 * since has been freed; throws an Error listing what stayed.
 */
export async function assertKernelClean(before: KernelSnapshot, options: { timeoutMs?: number; root?: string } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const d = difference(before, options.root);
    if (isEmpty(d)) return;
    if (Date.now() > deadline) {
      throw new Error(
        'the kernel is not as before the test:' +
          (d.addedPaths.length ? `\n  new bpffs paths: ${d.addedPaths.join(', ')}` : '') +
          (d.removedPaths.length ? `\n  removed bpffs paths: ${d.removedPaths.join(', ')}` : '') +
          (d.newProgs.length ? `\n  programs still loaded: ${d.newProgs.map((id) => describeObject('prog', id)).join(', ')}` : '') +
          (d.newMaps.length ? `\n  maps still allocated: ${d.newMaps.map((id) => describeObject('map', id)).join(', ')}` : ''),
      );
    }
    await sleep(50);
  }
}

export interface ProcessInfo {
  pid: number;
  cmdline: string[];
}

/** Live (non-zombie) processes other than this one whose argv satisfies `match`. */
export function processes(match: (argv: string[]) => boolean): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').slice(0, -1);
      if (match(argv)) found.push({ pid: Number(entry), cmdline: argv });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** bpftool processes whose argv mentions `text` (an object path or a pin directory). */
export function bpftoolProcesses(text: string): ProcessInfo[] {
  return processes((argv) => argv.length > 0 && path.basename(argv[0]) === 'bpftool' && argv.some((a) => a.includes(text)));
}

export interface RecordedRun {
  argv: readonly string[];
  privileged: boolean;
  startedAt: number;
  endedAt: number;
  result: RunResult;
}

/** A Target that passes everything to `inner` and records each run (argv, timing, result). */
export class RecordingTarget implements Target {
  readonly runs: RecordedRun[] = [];
  /** Every argv run so far, recorded as it starts (a verify script makes its pins before it ends). */
  readonly started: (readonly string[])[] = [];

  constructor(readonly inner: Target) {}

  get name(): string {
    return this.inner.name;
  }
  get isRemote(): boolean {
    return this.inner.isRemote;
  }
  get bpffsRoot(): string {
    return this.inner.bpffsRoot;
  }
  get bpftool(): string {
    return this.inner.bpftool;
  }

  async run(argv: readonly string[], options: TargetRunOptions = {}): Promise<RunResult> {
    const startedAt = Date.now();
    this.started.push([...argv]);
    const result = await this.inner.run(argv, options);
    this.runs.push({ argv: [...argv], privileged: options.privileged ?? false, startedAt, endedAt: Date.now(), result });
    return result;
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
  describeFailure(result: RunResult): string {
    return this.inner.describeFailure?.(result) ?? `exit code ${result.exitCode}`;
  }

  /** The bpftool `prog load` runs seen so far, each with bpftool's own argv (verifies run it inside their script). */
  get loads(): RecordedRun[] {
    return this.runs.flatMap((r) => {
      const argv = verifyScriptPlan(r.argv)?.bpftoolArgv ?? r.argv;
      return argv[0] === this.bpftool && argv.includes('load') ? [{ ...r, argv }] : [];
    });
  }

  /** The temporary pin directories the runs made (a verify script's, or `mkdir ... <bpffs>/cilium-custom-verify-...`). */
  get pinDirs(): string[] {
    return this.started.flatMap((argv) => {
      const plan = verifyScriptPlan(argv);
      if (plan) return plan.keepUnder ? [] : [plan.pinDir];
      return argv[0] === 'mkdir' && path.basename(argv[argv.length - 1]).startsWith(PIN_DIR_PREFIX) ? [argv[argv.length - 1]] : [];
    });
  }

  /** The directories verify scripts uploaded objects into (remote targets only). */
  get uploadDirs(): string[] {
    return this.started.flatMap((argv) => verifyScriptPlan(argv)?.uploadDir ?? []);
  }

  /** Upload directories that still exist (for SSH tests, whose "remote" is this machine). */
  get remainingUploads(): string[] {
    return this.uploadDirs.filter((dir) => fs.existsSync(dir));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds; false after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
  return true;
}
