// The CLI as a user runs it (node dist/cli.js), against what it cannot be faster than:
//   start:  `cilium-custom --help` vs `node -e 0`;
//   build:  `cilium-custom build H` vs the `make -B` it runs, alone;
//   ssh:    a later `cilium-custom verify --ssh` (the connection kept by the run before) vs node's start-up plus one
//           hand-written ssh over that kept connection doing the same (upload, load, rm); and the first run (connects),
//           and runs with --ssh-persist 0 (a handshake each time, as before connections were kept).
// Every series is interleaved with its baseline, medians reported.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from '../test/system/helpers/fixtures';
import type { Sshd } from '../test/system/helpers/sshd';
import { interleaved, runChild } from './childProcess';

export const CLI = path.join(REPO, 'dist', 'cli.js');

async function timedOk(argv: string[], options: { env?: NodeJS.ProcessEnv; input?: Buffer; okCodes?: number[] } = {}): Promise<number> {
  const run = await runChild(argv, options);
  if (!(options.okCodes ?? [0]).includes(run.code ?? -1)) throw new Error(`${argv.slice(0, 3).join(' ')} exited ${run.code}: ${run.stderr.slice(-2000)}`);
  return run.ms;
}

export interface CliStartResult {
  runs: number;
  helpMs: number;
  nodeMs: number;
}

export async function cliStartBench(runs: number): Promise<CliStartResult> {
  await timedOk([process.execPath, CLI, '--help']);
  const r = await interleaved(runs, {
    node: () => timedOk([process.execPath, '-e', '0']),
    help: () => timedOk([process.execPath, CLI, '--help']),
  });
  return { runs, helpMs: r.help.median, nodeMs: r.node.median };
}

export interface CliBuildResult {
  runs: number;
  cliMs: number;
  makeMs: number;
}

/** `cilium-custom build` always runs `make -B` (the object is rebuilt); the baseline runs the same make alone. */
export async function cliBuildBench(header: string, sdkDir: string, runs: number): Promise<CliBuildResult> {
  const name = path.basename(header, '.h');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-bench-make-'));
  try {
    const make = ['make', '-B', '-C', sdkDir, '-f', 'Makefile', `BPF_CUSTOM_PROG_FILE=${header}`, `BPF_CUSTOM_PROG_NAME=${name}`, `BPF_CUSTOM_PROG_OBJ=${path.join(scratch, `${name}.o`)}`];
    await timedOk(make);
    await timedOk([process.execPath, CLI, 'build', header]);
    const r = await interleaved(runs, {
      make: () => timedOk(make),
      cli: () => timedOk([process.execPath, CLI, 'build', header]),
    });
    return { runs, cliMs: r.cli.median, makeMs: r.make.median };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export interface CliSshResult {
  runs: number;
  /** The first CLI verify: connects, and leaves the connection up. */
  firstMs: number;
  /** Later CLI verifies, on the kept connection. */
  laterMs: number;
  /** CLI verifies with --ssh-persist 0: a full handshake each, the master closed at exit. */
  noKeepMs: number;
  nodeMs: number;
  /** One hand-written ssh over the kept connection: upload, load, rm. */
  rawKeptMs: number;
}

export async function cliSshBench(sshd: Sshd, object: string, bpffsRoot: string, runs: number): Promise<CliSshResult> {
  const runtime = fs.mkdtempSync(path.join('/tmp', 'ccp-bench-rt-'));
  const env = { ...process.env, XDG_RUNTIME_DIR: runtime };
  // --ssh-persist 0 closes the target's master at exit: in a directory of its own, so it leaves the kept one alone.
  const noKeepRuntime = fs.mkdtempSync(path.join('/tmp', 'ccp-bench-rt-'));
  const noKeepEnv = { ...process.env, XDG_RUNTIME_DIR: noKeepRuntime };
  const flags = [
    '--ssh', `${sshd.user}@${sshd.host}:${sshd.port}`,
    '--identity', sshd.identityFile,
    ...sshd.clientOptions.flatMap((o) => ['--ssh-option', o]),
    '--json',
  ];
  const verify = (extra: string[] = [], inEnv = env) => timedOk([process.execPath, CLI, 'verify', object, ...flags, ...extra], { env: inEnv });
  try {
    const firstMs = await verify();
    const dir = path.join(runtime, 'cilium-custom', 'ssh');
    const socket = fs.readdirSync(dir).find((n) => /^[a-z2-7]+$/.test(n));
    if (!socket) throw new Error(`no kept control socket in ${dir}: ${fs.readdirSync(dir).join(', ')}`);
    const pin = `${bpffsRoot}/ccp-bench-cli-raw-${process.pid}`;
    const raw = [
      'ssh', '-F', '/dev/null', '-p', String(sshd.port), '-i', sshd.identityFile,
      ...sshd.clientOptions.flatMap((o) => ['-o', o]),
      '-o', 'BatchMode=yes', '-o', `ControlPath=${path.join(dir, socket)}`, '-o', 'ControlMaster=no', '-T', '--', `${sshd.user}@${sshd.host}`,
      `d=$(mktemp -d) && cat > "$d/o.o" && mkdir -p ${pin} && { bpftool -d prog load "$d/o.o" ${pin}/prog type classifier pinmaps ${pin}/maps 2>&1 | tail -1; }; rm -rf ${pin} "$d"`,
    ];
    const bytes = fs.readFileSync(object);
    await timedOk(raw, { input: bytes });
    const r = await interleaved(runs, {
      later: () => verify(),
      node: () => timedOk([process.execPath, '-e', '0']),
      rawKept: () => timedOk(raw, { input: bytes }),
      noKeep: () => verify(['--ssh-persist', '0'], noKeepEnv),
    });
    return { runs, firstMs, laterMs: r.later.median, noKeepMs: r.noKeep.median, nodeMs: r.node.median, rawKeptMs: r.rawKept.median };
  } finally {
    await runChild([process.execPath, CLI, 'targets', '--close'], { env }).catch(() => undefined);
    fs.rmSync(runtime, { recursive: true, force: true });
    fs.rmSync(noKeepRuntime, { recursive: true, force: true });
  }
}
