// Wall time of the verify pipeline against doing the same by hand, locally and over SSH.
//  local:  verifyHeaderOrObject(header whose object is up to date) vs `bpftool -d prog load OBJ PIN type classifier
//          pinmaps DIR` + `rm -rf` through child_process, interleaved, median of N each;
//  remote: the first verification on an SshTarget (connects) vs the later ones (shared connection), and both vs
//          plain `ssh` commands on fresh connections: upload (scp-style, `cat >` over ssh), load, clean up.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LocalTarget, SshTarget } from '../src/core/target';
import { verifyHeaderOrObject } from '../src/core/verify/verifyHeader';
import { SDK_DIR } from '../test/system/helpers/fixtures';
import { sshTargetConfig, startSshd } from '../test/system/helpers/sshd';
import { cliSshBench, type CliSshResult } from './cliBench';

const execFileP = promisify(execFile);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export interface LocalVerifyResult {
  runs: number;
  pipelineMs: number[];
  byHandMs: number[];
  pipelineMedianMs: number;
  byHandMedianMs: number;
}

/** bpftool load + rm -rf by hand, with the output collected as the pipeline collects it. */
async function loadByHand(object: string, pinDir: string): Promise<void> {
  fs.mkdirSync(pinDir);
  try {
    const run = await execFileP('bpftool', ['-d', 'prog', 'load', object, `${pinDir}/prog`, 'type', 'classifier', 'pinmaps', `${pinDir}/maps`], {
      maxBuffer: 256 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string }) => error);
    if (!/processed \d+ insns/.test(`${run.stdout}${run.stderr}`)) throw new Error(`bpftool printed no statistics:\n${run.stderr}`);
  } finally {
    await execFileP('rm', ['-rf', '--', pinDir]);
  }
}

export async function localVerifyBench(header: string, object: string, bpffsRoot: string, runs: number): Promise<LocalVerifyResult> {
  const target = new LocalTarget();
  const pipeline = async () => {
    const result = await verifyHeaderOrObject({ input: header, target, bundledSdkDir: SDK_DIR });
    if (result.build) throw new Error('the object was rebuilt: the benchmark wants an up-to-date object');
    if (result.log.verdict !== 'accepted') throw new Error(`verdict ${result.log.verdict}`);
  };
  const byHand = () => loadByHand(object, path.join(bpffsRoot, `ccp-bench-${process.pid}`));
  await pipeline();
  await byHand();
  const pipelineMs: number[] = [];
  const byHandMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    pipelineMs.push(await timed(pipeline));
    byHandMs.push(await timed(byHand));
  }
  await target.dispose();
  return { runs, pipelineMs, byHandMs, pipelineMedianMs: median(pipelineMs), byHandMedianMs: median(byHandMs) };
}

export interface RemoteVerifyResult {
  runs: number;
  firstMs: number;
  laterMs: number[];
  laterMedianMs: number;
  /** Three fresh ssh connections: upload (cat > over ssh), mkdir + bpftool load, rm -rf. */
  rawThreeMs: number[];
  rawThreeMedianMs: number;
  /** One fresh ssh connection doing all of it in one remote shell command. */
  rawOneMs: number[];
  rawOneMedianMs: number;
  /** The CLI over SSH (cliBench.ts), against the same sshd. */
  cli: CliSshResult;
}

/** Runs `argv` with `input` on stdin; rejects on a non-zero exit. */
function runWithInput(argv: string[], input: Buffer | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.slice(-1)[0]} exited ${code}: ${err}`))));
    child.stdin.end(input ?? undefined);
  });
}

export async function remoteVerifyBench(object: string, bpffsRoot: string, runs: number): Promise<RemoteVerifyResult> {
  const sshd = await startSshd();
  const target = new SshTarget(sshTargetConfig(sshd, { name: 'bench', connectTimeoutSec: undefined }));
  try {
    const verify = async () => {
      const result = await verifyHeaderOrObject({ input: object, target, bundledSdkDir: SDK_DIR });
      if (result.log.verdict !== 'accepted') throw new Error(`remote verdict ${result.log.verdict}`);
    };
    const firstMs = await timed(verify);
    const laterMs: number[] = [];
    for (let i = 0; i < runs; i++) laterMs.push(await timed(verify));

    const ssh = (command: string) => [
      'ssh', '-F', '/dev/null', '-p', String(sshd.port), '-i', sshd.identityFile,
      ...sshd.clientOptions.flatMap((option) => ['-o', option]), '-o', 'BatchMode=yes', '-T', '--', `${sshd.user}@${sshd.host}`, command,
    ];
    const bytes = fs.readFileSync(object);
    const pin = `${bpffsRoot}/ccp-bench-raw-${process.pid}`;
    const load = (dir: string) => `mkdir -p ${pin} && { bpftool -d prog load ${dir}/o.o ${pin}/prog type classifier pinmaps ${pin}/maps 2>&1 | tail -1; }`;
    const rawThree = async () => {
      const dir = (await runWithInput(ssh('d=$(mktemp -d) && cat > "$d/o.o" && echo "$d"'), bytes)).trim();
      await runWithInput(ssh(load(dir)), null);
      await runWithInput(ssh(`rm -rf ${pin} ${dir}`), null);
    };
    const rawOne = () => runWithInput(ssh(`d=$(mktemp -d) && cat > "$d/o.o" && ${load('"$d"')}; rm -rf ${pin} "$d"`), bytes);
    await rawThree();
    await rawOne();
    const rawThreeMs: number[] = [];
    const rawOneMs: number[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
      rawThreeMs.push(await timed(rawThree));
      rawOneMs.push(await timed(rawOne));
    }
    const cli = await cliSshBench(sshd, object, bpffsRoot, runs);
    return {
      cli,
      runs,
      firstMs,
      laterMs,
      laterMedianMs: median(laterMs),
      rawThreeMs,
      rawThreeMedianMs: median(rawThreeMs),
      rawOneMs,
      rawOneMedianMs: median(rawOneMs),
    };
  } finally {
    await target.dispose();
    await sshd.stop();
  }
}
