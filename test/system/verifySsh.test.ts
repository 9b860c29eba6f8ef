// The verify job through an SshTarget against a real, throwaway sshd on 127.0.0.1 (as root). The "remote" machine
// is this one, so the tests see its bpffs, files and processes directly: nothing may be left there either.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildHeader } from '../../src/core/build/build';
import { SshTarget, type SshRunResult, type SshTargetConfig } from '../../src/core/target';
import { verifyHeaderOrObject, type VerifyResult } from '../../src/core/verify/verifyHeader';
import { VerifyProblem } from '../../src/core/verify/verifyErrors';
import { copyInto, expectation, HEADER_FIXTURES, REPO, SDK_DIR, tempDir } from './helpers/fixtures';
import { assertKernelClean, bpftoolProcesses, processes, RecordingTarget, snapshot, waitFor, type KernelSnapshot } from './helpers/pins';
import { rejectionOf } from './helpers/rejection';
import { hasCommand, isRoot, requireBpf, requireOrSkip } from './helpers/require';
import { freePort, sshdAvailable, sshTargetConfig, startSshd, type Sshd } from './helpers/sshd';

const CLI = path.join(REPO, 'dist', 'cli.js');
const EXAMPLES_DIR = path.join(SDK_DIR, 'examples');
const examples = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.h')).sort();

const acceptedLogins = (sshd: Sshd) => sshd.log().split('\n').filter((line) => line.startsWith('Accepted publickey')).length;

const problemOf = (pending: Promise<unknown>) => rejectionOf(pending, VerifyProblem);

describe('verify through SSH (system, real sshd on 127.0.0.1)', function () {
  let sshd: Sshd | undefined;
  let tmp: ReturnType<typeof tempDir>;
  let kernelBefore: KernelSnapshot;
  const targets: RecordingTarget[] = [];

  before(async function () {
    requireOrSkip(this, isRoot(), 'SSH verify tests start sshd, which needs root');
    requireOrSkip(this, sshdAvailable(), 'sshd is not installed (apt-get install openssh-server)');
    requireOrSkip(this, hasCommand('ssh'), 'the ssh client is not installed (apt-get install openssh-client)');
    requireBpf(this);
    sshd = await startSshd();
  });

  beforeEach(() => {
    tmp = tempDir('cilium-custom-verify-ssh-');
    kernelBefore = snapshot();
  });

  afterEach(async () => {
    for (const target of targets.splice(0)) await target.dispose();
    tmp?.remove();
  });

  after(async () => {
    await sshd?.stop();
  });

  function server(): Sshd {
    if (!sshd) throw new Error('sshd not started');
    return sshd;
  }

  function newTarget(overrides: Partial<SshTargetConfig> = {}): RecordingTarget {
    const of = server();
    const target = new RecordingTarget(
      new SshTarget(sshTargetConfig(of, overrides)),
    );
    targets.push(target);
    return target;
  }

  function ssh(t: RecordingTarget): SshTarget {
    return t.inner as SshTarget;
  }

  /** The remote objects bpftool loaded. */
  function remoteObjects(t: RecordingTarget): string[] {
    return t.loads.map((load) => load.argv[load.argv.indexOf('load') + 1]);
  }

  /** The remote temporary directories the objects were uploaded into. */
  function remoteTempDirs(t: RecordingTarget): string[] {
    return remoteObjects(t).map((object) => path.posix.dirname(object));
  }

  /** No pin dir, no remote temp dir, no bpftool process, and the bpffs and kernel as before. */
  async function assertNothingLeft(t: RecordingTarget, result?: VerifyResult): Promise<void> {
    if (result) assert.deepEqual(result.leftovers, []);
    for (const dir of [...t.pinDirs, ...remoteTempDirs(t)]) assert.ok(!fs.existsSync(dir), `left on the target: ${dir}`);
    for (const object of remoteObjects(t)) {
      assert.ok(await waitFor(() => bpftoolProcesses(object).length === 0, 5000), `bpftool still runs for ${object}`);
    }
    await assertKernelClean(kernelBefore);
  }

  function examplesCopy(): string {
    const dir = copyInto(EXAMPLES_DIR, tmp.dir);
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.o')) fs.rmSync(path.join(dir, f));
    return dir;
  }

  for (const example of examples) {
    it(`accepts the bundled example ${example} remotely and leaves nothing on the target`, async () => {
      const header = path.join(examplesCopy(), example);
      const t = newTarget();
      const result = await verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR });
      assert.equal(result.log.verdict, 'accepted', JSON.stringify(result.log.error));
      assert.ok((result.log.stats?.insnsProcessed ?? 0) > 0);
      assert.equal(result.located?.error, null);
      assert.equal(t.loads.length, 1);
      const [remoteObject] = remoteObjects(t);
      assert.notEqual(remoteObject, result.objectPath, 'the object was uploaded, not used in place');
      // Named after the verify's pin directory, so that both are known before the one round trip.
      assert.equal(path.posix.dirname(remoteObject), `/tmp/${path.posix.basename(t.pinDirs[0])}`);
      assert.equal(path.posix.basename(remoteObject), path.basename(result.objectPath));
      await assertNothingLeft(t, result);
    });
  }

  it('rejects the null_deref fixture remotely, located on the local header line', async () => {
    const header = copyInto(path.join(HEADER_FIXTURES, 'null_deref.h'), tmp.dir);
    const expected = expectation(header, 'verifier');
    const t = newTarget();
    const result = await verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR });
    assert.equal(result.log.verdict, 'rejected');
    assert.ok(result.log.error?.message.includes(expected.message!), result.log.error?.message);
    assert.equal(result.located?.error?.file, header);
    assert.equal(result.located?.error?.line, expected.line);
    await assertNothingLeft(t, result);
  });

  it('verifies a header and an object whose paths hold quotes, $(...), ;, backticks and spaces, running none of it', async () => {
    const markerName = `ccp-pwned-${crypto.randomBytes(4).toString('hex')}`;
    const hostile = `my dir 'q' "dq" $(touch ${markerName}) ; touch ${markerName} \`touch ${markerName}\` $HOME`;
    const dir = path.join(tmp.dir, hostile);
    fs.mkdirSync(dir);
    const t = newTarget();

    const header = copyInto(path.join(HEADER_FIXTURES, 'null_deref.h'), dir, `null deref 'x' $(touch ${markerName}) ; \`touch ${markerName}\`.h`);
    const expected = expectation(header, 'verifier');
    const rejected = await verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR });
    assert.equal(rejected.log.verdict, 'rejected', JSON.stringify(rejected.log));
    assert.equal(rejected.located?.error?.file, header);
    assert.equal(rejected.located?.error?.line, expected.line);

    const exampleHeader = copyInto(path.join(EXAMPLES_DIR, 'bytecount.h'), dir, `byte "count" $(touch ${markerName}); \`touch ${markerName}\`.h`);
    const build = await buildHeader({ headerPath: exampleHeader, bundledSdkDir: SDK_DIR });
    assert.ok(build.ok, build.output);
    const accepted = await verifyHeaderOrObject({ input: build.objectPath, target: t, bundledSdkDir: SDK_DIR });
    assert.equal(accepted.log.verdict, 'accepted', JSON.stringify(accepted.log.error));

    // The objects reached bpftool on the remote side under their own names, intact.
    const loaded = remoteObjects(t).map((object) => path.posix.basename(object));
    assert.deepEqual(loaded, [path.basename(rejected.objectPath), path.basename(build.objectPath)]);
    const places = [tmp.dir, dir, os.tmpdir(), os.homedir(), '/root', '/', process.cwd(), SDK_DIR, ...remoteTempDirs(t)];
    for (const place of places) assert.ok(!fs.existsSync(path.join(place, markerName)), `a command hidden in a path ran in ${place}`);
    await assertNothingLeft(t, accepted);
  });

  it('reuses the SSH connection: later verifications are faster and log in no more', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const object = (await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR })).objectPath;
    const t = newTarget();
    const loginsBefore = acceptedLogins(server());
    const times: number[] = [];
    /** The first (and only) command of each verification, the verify script: the first one also connects. */
    const firstCommand: number[] = [];
    let socket: string | undefined;
    for (let i = 0; i < 5; i++) {
      const runsBefore = t.runs.length;
      const started = Date.now();
      const result = await verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR });
      times.push(Date.now() - started);
      const first = t.runs[runsBefore];
      firstCommand.push(first.endedAt - first.startedAt);
      assert.equal(t.runs.length - runsBefore, 1, `one round trip per verification: ${t.runs.slice(runsBefore).map((r) => r.argv[0]).join(', ')}`);
      assert.equal(result.log.verdict, 'accepted');
      socket ??= ssh(t).controlSocket;
      assert.ok(socket && fs.statSync(socket).isSocket(), 'the control socket is there after each verification');
      assert.equal(ssh(t).controlSocket, socket, 'the same control socket throughout');
    }
    console.log(
      `      verifications ${times.join(', ')} ms; their first command ${firstCommand.join(', ')} ms (the first one connects)`,
    );
    // One round trip each, noisy on a busy machine: the connection shows in the first one.
    const later = Math.min(...firstCommand.slice(1));
    assert.ok(later < firstCommand[0], `a command on the shared connection (${later} ms) should be faster than connecting (${firstCommand[0]} ms)`);
    assert.ok(Math.min(...times.slice(1)) < times[0] + 250, `later verifications (${times.slice(1).join(', ')} ms) vs the first (${times[0]} ms)`);
    assert.ok(await waitFor(() => acceptedLogins(server()) === loginsBefore + 1, 2000), `logins: ${acceptedLogins(server()) - loginsBefore}`);
    const masters = processes((argv) => argv.includes(`ControlPath=${socket}`) && argv.includes('ControlMaster=yes'));
    assert.equal(masters.length, 1, `one master: ${JSON.stringify(masters)}`);
    await t.dispose();
    assert.ok(!fs.existsSync(socket!), 'dispose removes the control socket');
    const isMaster = (argv: string[]) => argv.includes(`ControlPath=${socket}`) && argv.includes('ControlMaster=yes');
    assert.ok(await waitFor(() => processes(isMaster).length === 0, 3000), 'the master exits on dispose');
    await assertNothingLeft(t);
  });

  it('cancelling a remote verification kills the remote bpftool and removes its pins', async function () {
    this.timeout(60_000);
    const header = copyInto(path.join(HEADER_FIXTURES, 'slow', 'too_many_insns.h'), tmp.dir);
    const object = (await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR })).objectPath;
    const t = newTarget();
    const abort = new AbortController();
    let abortedAt = 0;
    const onOutput = () => {
      if (abortedAt) return;
      abortedAt = -1;
      setTimeout(() => {
        abortedAt = Date.now();
        abort.abort();
      }, 1500);
    };
    const problem = await problemOf(verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR, signal: abort.signal, onOutput }));
    const stopMs = Date.now() - abortedAt;
    assert.equal(problem.kind, 'cancelled', problem.full);
    assert.ok(abortedAt > 0, 'aborted while bpftool ran');
    assert.ok(stopMs < 10_000, `stopping took ${stopMs} ms`);
    console.log(`      everything stopped ${stopMs} ms after the abort`);
    await assertNothingLeft(t);
  });

  it('a port nobody listens on is a "connection" problem, quickly', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const object = (await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR })).objectPath;
    const t = newTarget({ port: await freePort() });
    const started = Date.now();
    const problem = await problemOf(verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR }));
    const elapsed = Date.now() - started;
    assert.equal(problem.kind, 'connection', problem.full);
    assert.match(problem.message, /refused|could not reach/i);
    assert.ok(problem.fix.length > 0);
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
    assert.ok(t.runs.length > 0 && t.runs.every((r) => (r.result as SshRunResult).phase === 'connect'), 'nothing ran past connecting');
  });

  it('the CLI verifies through --ssh with --identity and --ssh-option, keeps one connection for the next run, and targets --close leaves no master behind', async () => {
    const of = server();
    const header = copyInto(path.join(HEADER_FIXTURES, 'null_deref.h'), tmp.dir);
    const expected = expectation(header, 'verifier');
    const example = path.join(examplesCopy(), 'bytecount.h');
    const flags = [
      '--ssh', `root@127.0.0.1:${of.port}`,
      '--identity', of.identityFile,
      '--ssh-option', `UserKnownHostsFile=${of.knownHostsFile}`,
      '--ssh-option', 'StrictHostKeyChecking=yes',
      '--ssh-option', 'GlobalKnownHostsFile=/dev/null',
      '--ssh-option', 'IdentitiesOnly=yes',
      '--json',
    ];
    // A runtime directory of its own: the kept connection lives there, not among the user's.
    const runtime = fs.mkdtempSync(path.join('/tmp', 'ccp-rt-'));
    const env = { ...process.env, XDG_RUNTIME_DIR: runtime };
    const sshDir = path.join(runtime, 'cilium-custom', 'ssh');
    const loginsBefore = acceptedLogins(of);
    const ok = spawnSync(process.execPath, [CLI, 'verify', example, ...flags], { encoding: 'utf8', env });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).verdict, 'accepted');
    assert.equal(fs.statSync(sshDir).mode & 0o777, 0o700, 'the control socket directory is private');
    const sockets = fs.readdirSync(sshDir).filter((name) => /^[a-z2-7]+$/.test(name));
    assert.equal(sockets.length, 1, `one control socket: ${fs.readdirSync(sshDir).join(', ')}`);
    const socket = path.join(sshDir, sockets[0]);
    assert.ok(fs.statSync(socket).isSocket());
    assert.ok(Buffer.byteLength(socket) < 108, 'the socket path fits sun_path');

    const bad = spawnSync(process.execPath, [CLI, 'verify', header, ...flags], { encoding: 'utf8', env });
    assert.equal(bad.status, 1, bad.stderr);
    const json = JSON.parse(bad.stdout);
    assert.equal(json.verdict, 'rejected');
    assert.equal(json.error.line, expected.line);
    assert.ok(json.error.message.includes(expected.message!));
    // One login for both runs: the second CLI process went through the master the first one left up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(acceptedLogins(of), loginsBefore + 1, `logins: ${acceptedLogins(of) - loginsBefore}: the second run reuses the kept connection`);

    const port = String(of.port);
    const masters = () => processes((argv) => path.basename(argv[0] ?? '') === 'ssh' && argv.includes(port) && argv.includes('ControlMaster=yes'));
    assert.equal(masters().length, 1, `one kept master: ${JSON.stringify(masters())}`);
    const listed = spawnSync(process.execPath, [CLI, 'targets', '--json'], { encoding: 'utf8', env });
    assert.equal(listed.status, 0, listed.stderr);
    const connections = JSON.parse(listed.stdout).connections as { socket: string; state: string; info?: { port?: number } }[];
    assert.deepEqual(connections.map((c) => [c.socket, c.state, c.info?.port]), [[socket, 'alive', of.port]]);

    const closed = spawnSync(process.execPath, [CLI, 'targets', '--close'], { encoding: 'utf8', env });
    assert.equal(closed.status, 0, closed.stderr);
    assert.match(closed.stdout, /^closed root@127\.0\.0\.1 port [0-9]+/);
    assert.ok(await waitFor(() => masters().length === 0, 3000), `ssh masters left: ${JSON.stringify(masters())}`);
    assert.deepEqual(fs.readdirSync(sshDir), [], 'targets --close removes the socket and its files');
    const again = spawnSync(process.execPath, [CLI, 'targets'], { encoding: 'utf8', env });
    assert.equal(again.stdout, 'no kept SSH connections\n');
    fs.rmSync(runtime, { recursive: true, force: true });
    await assertKernelClean(kernelBefore);
  });
});
