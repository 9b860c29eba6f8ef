// Fault injection with real processes (issue "Hardening", point 3): each test breaks something on purpose and checks
// both what the user is told and that nothing was left behind (bpffs, processes, temp dirs, ssh masters).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attach } from '../../src/core/attach/attach';
import { findOrphans, removeOrphans } from '../../src/core/attach/orphans';
import { buildHeader } from '../../src/core/build/build';
import { discoverEndpoints } from '../../src/core/endpoints/discover';
import { callsMapPath } from '../../src/core/ids';
import { CustomCallsProblem } from '../../src/core/problem';
import { dumpMap, listPinnedMaps } from '../../src/core/maps/maps';
import { LocalTarget, SshTarget, type SshTargetConfig } from '../../src/core/target';
import { verifyHeaderOrObject } from '../../src/core/verify/verifyHeader';
import { VerifyProblem } from '../../src/core/verify/verifyErrors';
import { copyInto, HEADER_FIXTURES, SDK_DIR, tempDir } from './helpers/fixtures';
import { fakeBpftool, fill, isAlive, killSshdOnly, namedProcesses, privateMount, silentListener, sshProcesses } from './helpers/faults';
import { caught, rejectionOf } from './helpers/rejection';
import { assertKernelClean, bpftoolProcesses, RecordingTarget, snapshot, waitFor, type KernelSnapshot } from './helpers/pins';
import { hasCommand, isRoot, requireBpf, requireOrSkip } from './helpers/require';
import { sshdAvailable, sshTargetConfig, startSshd, type Sshd } from './helpers/sshd';

const SLOW_HEADER = path.join(HEADER_FIXTURES, 'slow', 'too_many_insns.h');
const BYTECOUNT = path.join(SDK_DIR, 'examples', 'bytecount.h');

const verifyProblem = (pending: Promise<unknown>) => rejectionOf(pending, VerifyProblem);
const callsProblem = (pending: Promise<unknown>) => rejectionOf(pending, CustomCallsProblem);

function bpftoolCli(...args: string[]): string {
  return execFileSync('bpftool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('fault injection (system, real processes)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let kernelBefore: KernelSnapshot;
  const cleanups: (() => void | Promise<void>)[] = [];

  before(function () {
    requireBpf(this);
  });

  beforeEach(() => {
    tmp = tempDir('ccp-faults-test-');
    kernelBefore = snapshot();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    tmp?.remove();
  });

  /**
   * bpffs and kernel as before, no temp dir the target made, no bpftool running on `mention`. (Temp dirs are tracked
   * per target, not by listing /tmp: other suites may run concurrently.)
   */
  async function assertNothingLeft(mention?: string, t?: RecordingTarget): Promise<void> {
    if (mention) assert.ok(await waitFor(() => bpftoolProcesses(mention).length === 0, 10_000), `bpftool still runs for ${mention}`);
    await assertKernelClean(kernelBefore, { timeoutMs: 10_000 });
    if (t) assert.deepEqual(t.remainingUploads, [], 'temporary directories left behind');
  }

  /** The one-million-instruction fixture, built into this test's directory (no test may depend on another's build). */
  async function slowObject(): Promise<string> {
    const header = copyInto(SLOW_HEADER, tmp.dir);
    const built = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
    assert.ok(built.ok, built.output);
    return built.objectPath;
  }

  describe('over SSH', function () {
    let sshd: Sshd | undefined;

    before(async function () {
      requireOrSkip(this, isRoot(), 'SSH fault tests start sshd, which needs root');
      requireOrSkip(this, sshdAvailable(), 'sshd is not installed (apt-get install openssh-server)');
      requireOrSkip(this, hasCommand('ssh'), 'the ssh client is not installed (apt-get install openssh-client)');
    });

    beforeEach(async () => {
      sshd = await startSshd();
    });

    afterEach(async () => {
      await sshd?.stop();
      sshd = undefined;
    });

    function newTarget(overrides: Partial<SshTargetConfig> = {}): { t: RecordingTarget; ssh: SshTarget } {
      const of = sshd!;
      const ssh = new SshTarget(sshTargetConfig(of, overrides));
      const t = new RecordingTarget(ssh);
      cleanups.push(() => t.dispose());
      return { t, ssh };
    }

    /** After dispose: no master (or any ssh) on the control socket, and the socket itself gone. */
    async function assertDisposed(t: RecordingTarget, ssh: SshTarget): Promise<void> {
      const socket = ssh.controlSocket;
      await t.dispose();
      if (!socket) return;
      assert.ok(await waitFor(() => sshProcesses(socket).length === 0, 5000), `ssh still running: ${JSON.stringify(sshProcesses(socket))}`);
      assert.ok(!fs.existsSync(socket), `control socket left: ${socket}`);
    }

    /** Removes (and returns) what a lost connection left on the "remote" (this machine): pin dirs and upload dirs. */
    function collectRemoteLeftovers(t: RecordingTarget): { pins: string[]; uploads: string[] } {
      const pins = t.pinDirs.filter((dir) => fs.existsSync(dir));
      const uploads = t.remainingUploads;
      for (const dir of [...pins, ...uploads]) fs.rmSync(dir, { recursive: true, force: true });
      return { pins, uploads };
    }

    /** What the user must be told after a lost connection: every pin and upload directory left on the remote is named. */
    function assertLeftoversReported(problem: { message: string; full: string }, left: { pins: string[]; uploads: string[] }): void {
      for (const dir of [...left.pins, ...left.uploads]) {
        assert.ok(problem.full.includes(dir), `the problem does not name the leftover ${dir}: ${problem.full}`);
      }
    }

    it('sshd killed with its sessions mid-verify: "connection lost", the leftovers named, and Clean Up Leftovers removes them', async () => {
      const object = await slowObject();
      const { t, ssh } = newTarget();
      const pending = verifyProblem(verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR }));
      assert.ok(await waitFor(() => bpftoolProcesses('too_many_insns.o').length > 0, 20_000), 'bpftool never started');
      // SIGKILL for the whole session, the verify script included: nothing on the node can clean up.
      sshd!.killAbruptly();
      const problem = await pending;
      assert.equal(problem.kind, 'connection', problem.full);
      assert.match(problem.message, /Loading the program failed: SSH connection to root@127\.0\.0\.1 port \d+ was lost while the command ran/);
      assert.ok(await waitFor(() => bpftoolProcesses('too_many_insns.o').length === 0, 10_000), 'remote bpftool survived');
      await assertDisposed(t, ssh);
      const pins = t.pinDirs.filter((dir) => fs.existsSync(dir));
      const uploads = t.remainingUploads;
      console.log(`      user sees: ${problem.full}\n      left on the remote: ${JSON.stringify({ pins, uploads })}`);
      assert.equal(pins.length + uploads.length, 2, 'the pin and upload directories of a killed script stay');
      cleanups.push(() => {
        for (const dir of [...pins, ...uploads]) fs.rmSync(dir, { recursive: true, force: true });
      });
      assertLeftoversReported(problem, { pins, uploads });

      // Once they are old enough to belong to no running verify, the leftovers search finds and removes both.
      const old = new Date(Date.now() - 3600_000);
      for (const dir of [...pins, ...uploads]) fs.utimesSync(dir, old, old);
      const node = new LocalTarget();
      const found = (await findOrphans(node)).filter((o) => [...pins, ...uploads].includes(o.path));
      assert.deepEqual(found.map((o) => o.kind).sort(), ['verify-pins', 'verify-upload']);
      assert.deepEqual(await removeOrphans(node, found), []);
      for (const dir of [...pins, ...uploads]) assert.ok(!fs.existsSync(dir), `not removed: ${dir}`);
      await assertKernelClean(kernelBefore, { timeoutMs: 10_000 });
    });

    it('sshd killed under a running bpftool that survives: the node removes the temporary files itself', async () => {
      const object = await slowObject();
      const { t, ssh } = newTarget();
      const pending = verifyProblem(verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR }));
      assert.ok(await waitFor(() => bpftoolProcesses('too_many_insns.o').length > 0, 20_000), 'bpftool never started');
      const survivors = killSshdOnly(sshd!);
      const problem = await pending;
      assert.equal(problem.kind, 'connection', problem.full);
      assert.match(problem.message, /was lost while the command ran/);
      // The remote bpftool runs on (no tty: no SIGHUP) until the verifier gives up; then the script's EXIT trap cleans.
      assert.ok(survivors.length > 0, 'the remote command should have survived sshd');
      assert.ok(await waitFor(() => bpftoolProcesses('too_many_insns.o').length === 0, 60_000), 'remote bpftool never ended');
      await assertDisposed(t, ssh);
      const made = [...t.pinDirs, ...t.uploadDirs];
      assert.equal(made.length, 2);
      assert.ok(await waitFor(() => made.every((dir) => !fs.existsSync(dir)), 10_000), `left on the remote: ${made.filter((dir) => fs.existsSync(dir))}`);
      console.log(`      user sees: ${problem.full}`);
      assertLeftoversReported(problem, { pins: t.pinDirs, uploads: t.uploadDirs });
      await assertKernelClean(kernelBefore, { timeoutMs: 10_000 });
    });

    it('sshd killed mid-attach (as the verify-and-load step starts): a clear SSH error, nothing attached', async () => {
      const { ssh } = newTarget();
      const header = copyInto(BYTECOUNT, tmp.dir);
      const endpoint = 60000 + Math.floor(Math.random() * 5000);
      const root = privateMount('bpf');
      cleanups.push(root.remove);
      fs.mkdirSync(path.join(root.dir, 'tc', 'globals'), { recursive: true });
      bpftoolCli('map', 'create', callsMapPath(root.dir, endpoint), 'type', 'prog_array', 'key', '4', 'value', '4', 'entries', '4', 'name', 'cilium_calls_cu');
      const bpffsBefore = fs.readdirSync(root.dir).sort();
      const remote = new RecordingTarget(new SshTarget({ ...(ssh as unknown as { config: SshTargetConfig }).config, bpffsRoot: root.dir }));
      cleanups.push(() => remote.dispose());
      let killed = false;
      const problem = await callsProblem(
        attach({
          target: remote,
          input: header,
          endpointId: endpoint,
          hooks: ['ipv4-ingress'],
          bundledSdkDir: SDK_DIR,
          onStep: (step) => {
            if (step === 'verify and load' && !killed) {
              killed = true;
              sshd!.killAbruptly();
            }
          },
        }),
      );
      assert.ok(killed, 'the load step was never reached');
      console.log(`      user sees (${problem.kind}): ${problem.full}`);
      // The load step starts with the upload, which fails first; an upload failure is reported as kind 'target'.
      assert.ok(['connection', 'target'].includes(problem.kind), problem.full);
      assert.match(problem.message, /SSH connection to root@127\.0\.0\.1 port \d+ (refused|was lost)/);
      // The rollback could not reach the node either: it must say so rather than claim a clean rollback.
      if (problem.rollbackFailures.length === 0) assert.doesNotMatch(problem.message, /rolled back/);
      // And it says what state the endpoint is in.
      assert.match(problem.message, new RegExp(`No slot of endpoint ${endpoint} was changed\\.`));
      await remote.dispose();
      assert.deepEqual(fs.readdirSync(root.dir).sort(), bpffsBefore, 'the private bpffs changed');
      assert.deepEqual(JSON.parse(bpftoolCli('-j', 'map', 'dump', 'pinned', callsMapPath(root.dir, endpoint))), [], 'a slot was filled');
      const left = collectRemoteLeftovers(remote);
      console.log(`      left on the remote: ${JSON.stringify(left)}`);
      assertLeftoversReported(problem, left);
    });

    it('a remote that accepts TCP and never speaks: the connect timeout fires with a clear message', async () => {
      const listener = await silentListener();
      cleanups.push(listener.close);
      const { t, ssh } = newTarget({ port: listener.port, connectTimeoutSec: 2 });
      const started = Date.now();
      const problem = await verifyProblem(verifyHeaderOrObject({ input: await slowObject(), target: t, bundledSdkDir: SDK_DIR }));
      assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
      assert.equal(problem.kind, 'connection', problem.full);
      assert.match(problem.message, /timed out after 2 s \(ConnectTimeout\): the port accepted the connection but no SSH server answered/);
      assert.ok(listener.connections() > 0);
      await assertDisposed(t, ssh);
      await assertNothingLeft(undefined, t);
    });

    it('a command timeout kills the remote bpftool and removes the pins', async () => {
      const object = await slowObject();
      const { t, ssh } = newTarget();
      const problem = await verifyProblem(verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR, timeoutMs: 1500 }));
      assert.equal(problem.kind, 'timeout', problem.full);
      assert.match(problem.message, /Loading the program timed out on test-node/);
      assert.ok(bpftoolProcesses('too_many_insns.o').length === 0, 'the remote bpftool still runs');
      await assertDisposed(t, ssh);
      await assertNothingLeft('too_many_insns.o', t);
    });

    it('two verifies of the same header at once on one SshTarget: both succeed, distinct pin dirs', async () => {
      const header = copyInto(BYTECOUNT, tmp.dir);
      // Built once first: two makes writing the same object at once is a separate matter (see the local test).
      const { t, ssh } = newTarget();
      const [a, b] = await Promise.all([0, 1].map(() => verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR })));
      assert.equal(a.log.verdict, 'accepted');
      assert.equal(b.log.verdict, 'accepted');
      assert.equal(new Set(t.pinDirs).size, 2, JSON.stringify(t.pinDirs));
      await assertDisposed(t, ssh);
      await assertNothingLeft(header, t);
    });
  });

  describe('locally', function () {
    it('bpftool missing: bpftool-missing with the apt-get fix', async () => {
      const t = new RecordingTarget(new LocalTarget({ bpftool: '/nonexistent' }));
      const problem = await verifyProblem(verifyHeaderOrObject({ input: await slowObject(), target: t, bundledSdkDir: SDK_DIR }));
      assert.equal(problem.kind, 'bpftool-missing');
      assert.equal(problem.message, 'bpftool (/nonexistent) was not found on this machine.');
      assert.match(problem.fix, /apt-get install bpftool/);
      await t.dispose();
      await assertNothingLeft();
    });

    for (const mode of ['garbage-json', 'random-bytes', 'garbage-255'] as const) {
      it(`a bpftool printing garbage (${mode}): clear errors from discovery, map listing, dump and attach`, async () => {
        const root = privateMount('bpf');
        cleanups.push(root.remove);
        const endpoint = 60001;
        fs.mkdirSync(path.join(root.dir, 'tc', 'globals'), { recursive: true });
        const mapPath = callsMapPath(root.dir, endpoint);
        bpftoolCli('map', 'create', mapPath, 'type', 'prog_array', 'key', '4', 'value', '4', 'entries', '4', 'name', 'cilium_calls_cu');
        const bpffsBefore = fs.readdirSync(root.dir, { recursive: true }).map(String).sort();
        kernelBefore = snapshot(); // The calls map made above is the test's own.
        const fake = fakeBpftool(tmp.dir, mode);
        const t = new LocalTarget({ bpftool: fake, bpffsRoot: root.dir });

        const found = await discoverEndpoints(t, { skipCilium: true });
        assert.equal(found.endpoints.length, 1);
        assert.match(found.endpoints[0].problem ?? '', /\S/, 'discovery names the problem of the endpoint');
        // Wrapped, never a raw SyntaxError: "bpftool map show: not JSON (...)".
        assert.match(found.endpoints[0].problem ?? '', /not JSON|not a custom-calls map/);

        let listedText: string;
        try {
          listedText = JSON.stringify(await listPinnedMaps(t, { dirs: [path.join(root.dir, 'tc', 'globals')] }));
        } catch (error) {
          assert.ok(error instanceof CustomCallsProblem, `${error instanceof Error ? error.constructor.name : ''}: ${String(error)}`);
          listedText = error.full;
        }
        assert.doesNotMatch(listedText, /^SyntaxError/);

        const dumped = await callsProblem(dumpMap(t, mapPath));
        assert.match(dumped.message, /is not a readable pinned map: bpftool map show: not JSON/);
        assert.match(dumped.message, new RegExp(`${mapPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

        const attached = await callsProblem(
          attach({ target: t, input: copyInto(BYTECOUNT, tmp.dir), endpointId: endpoint, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR }),
        );
        assert.doesNotMatch(attached.message, /^SyntaxError/);
        console.log(`      [${mode}] discover: ${found.endpoints[0].problem}\n      list: ${listedText.slice(0, 300)}\n      dump: ${dumped.full}\n      attach (${attached.kind}): ${attached.full}`);
        await t.dispose();
        assert.deepEqual(fs.readdirSync(root.dir, { recursive: true }).map(String).sort(), bpffsBefore, 'the bpffs changed');
        assert.deepEqual(namedProcesses(['sh', path.basename(fake)], fake), []);
        await assertNothingLeft();
      });
    }

    it('bpffs not mounted: bpffs-not-mounted with the mount fix, for verify and attach', async () => {
      const plain = tempDir('ccp-faults-nobpffs-');
      cleanups.push(plain.remove);
      const t = new LocalTarget({ bpffsRoot: plain.dir });
      const problem = await verifyProblem(verifyHeaderOrObject({ input: await slowObject(), target: t, bundledSdkDir: SDK_DIR }));
      assert.equal(problem.kind, 'bpffs-not-mounted');
      // What it found depends on the machine's /tmp (ext2/ext3, tmpfs, overlayfs...).
      assert.ok(problem.message.startsWith(`bpffs is not mounted at ${plain.dir} (found `), problem.message);
      assert.doesNotMatch(problem.message, /bpf_fs/);
      assert.equal(problem.fix, `Mount it (as root): mount -t bpf bpf ${plain.dir}`);
      const attachProblem = await callsProblem(
        attach({ target: t, input: copyInto(BYTECOUNT, tmp.dir), endpointId: 60002, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR }),
      );
      assert.equal(attachProblem.kind, 'bpffs-not-mounted');
      assert.match(attachProblem.full, /mount -t bpf bpf/);
      assert.deepEqual(fs.readdirSync(plain.dir), []);
      await assertNothingLeft();
    });

    it('a read-only or full runtime directory: an SSH target says it cannot make its control directory', async function () {
      const savedRuntime = process.env.XDG_RUNTIME_DIR;
      const ro = privateMount('tmpfs', 'size=64k,ro');
      const full = privateMount('tmpfs', 'size=64k,nr_inodes=16');
      cleanups.push(ro.remove, full.remove, () => {
        if (savedRuntime === undefined) delete process.env.XDG_RUNTIME_DIR;
        else process.env.XDG_RUNTIME_DIR = savedRuntime;
      });
      fill(full.dir);
      for (const dir of [ro.dir, full.dir]) {
        process.env.XDG_RUNTIME_DIR = dir;
        const target = new SshTarget({ name: 'test-node', destination: 'root@127.0.0.1', port: 1, configFile: '/dev/null', connectTimeoutSec: 2 });
        const problem = await verifyProblem(verifyHeaderOrObject({ input: await slowObject(), target, bundledSdkDir: SDK_DIR }));
        await target.dispose();
        console.log(`      XDG_RUNTIME_DIR ${dir}: ${problem.kind}: ${problem.full}`);
        assert.equal(problem.kind, 'target');
        assert.match(problem.message, /^Starting the verification failed on test-node: ssh could not be started: could not create a private directory for the SSH control socket/, problem.full);
        assert.match(problem.message, /EROFS|ENOSPC|read-only|no space/i);
      }
      process.env.XDG_RUNTIME_DIR = savedRuntime;
      if (savedRuntime === undefined) delete process.env.XDG_RUNTIME_DIR;
      await assertNothingLeft();
    });

    it('a log file on a full filesystem: a clear error, not a crash', async () => {
      const full = privateMount('tmpfs', 'size=64k');
      cleanups.push(full.remove);
      fill(full.dir);
      fs.rmSync(path.join(full.dir, 'filler'));
      fs.writeFileSync(path.join(full.dir, 'filler'), Buffer.alloc(60 * 1024));
      const t = new LocalTarget();
      const error = await caught(
        verifyHeaderOrObject({ input: await slowObject(), target: t, bundledSdkDir: SDK_DIR, logFile: path.join(full.dir, 'verifier.log'), timeoutMs: 60_000 }),
      );
      console.log(`      log file on a full fs: ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)}`);
      assert.ok(error instanceof VerifyProblem, `expected a VerifyProblem, got ${String(error)}`);
      assert.equal(error.kind, 'target');
      assert.match(error.message, /^Could not write the verifier log to .*verifier\.log: ENOSPC: no space left on device/);
      await assertNothingLeft('too_many_insns.o');
    });

    it('cancelling a verify during the build step kills make and its children', async () => {
      const makeDir = path.join(tmp.dir, 'slow');
      fs.mkdirSync(makeDir);
      const pidFile = path.join(tmp.dir, 'child.pid');
      fs.writeFileSync(path.join(makeDir, 'Makefile'), `BPF_CUSTOM_PROG_FILE ?= x.h\nall:\n\tsh -c 'echo $$$$ > ${pidFile}; exec sleep 60'\n`);
      const header = copyInto(BYTECOUNT, makeDir);
      const abort = new AbortController();
      const t = new LocalTarget();
      const pending = verifyProblem(verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR, signal: abort.signal }));
      assert.ok(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', 20_000));
      const childPid = Number(fs.readFileSync(pidFile, 'utf8'));
      abort.abort();
      const problem = await pending;
      assert.equal(problem.kind, 'cancelled');
      assert.equal(problem.message, 'Verification cancelled.');
      assert.ok(await waitFor(() => !isAlive(childPid), 5000), 'sleep survived');
      assert.deepEqual(namedProcesses(['make', 'sleep', 'sh', 'clang'], makeDir), []);
      await assertNothingLeft();
    });

    it('two verifies of the same header at once locally: both succeed, distinct pin dirs', async () => {
      const header = copyInto(BYTECOUNT, tmp.dir);
      const t = new RecordingTarget(new LocalTarget());
      const [a, b] = await Promise.all([0, 1].map(() => verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR })));
      assert.equal(a.log.verdict, 'accepted', JSON.stringify(a.log.error));
      assert.equal(b.log.verdict, 'accepted', JSON.stringify(b.log.error));
      assert.equal(new Set(t.pinDirs).size, 2, JSON.stringify(t.pinDirs));
      await t.dispose();
      await assertNothingLeft(header);
    });
  });
});
