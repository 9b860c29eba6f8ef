// SshTarget against a real, throwaway sshd on 127.0.0.1 (root only). Since that "remote" machine is this one, the
// tests can look at its files and processes directly.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess, succeeded } from '../../../src/core/process';
import { SshTarget, type SshTargetConfig } from '../../../src/core/target/sshTarget';
import { hostileStrings, longHostile } from '../../unit/target/hostile';
import { hasCommand, isRoot, requireOrSkip } from '../helpers/require';
import { freePort, sshdAvailable, sshTargetConfig, startSshd, type Sshd } from '../helpers/sshd';

/** Live (non-zombie) processes whose command line contains `text`. */
function processesMatching(text: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(text)) found.push({ pid: Number(entry), cmdline });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

const acceptedLogins = (sshd: Sshd) => sshd.log().split('\n').filter((line) => line.startsWith('Accepted publickey')).length;

describe('SshTarget (system, real sshd)', function () {
  let sshd: Sshd | undefined;
  let scratch: string;
  let marker: string;
  const targets: SshTarget[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  before(async function () {
    requireOrSkip(this, isRoot(), 'SSH target tests start sshd, which needs root');
    requireOrSkip(this, sshdAvailable(), 'sshd is not installed (apt-get install openssh-server)');
    requireOrSkip(this, hasCommand('ssh'), 'the ssh client is not installed (apt-get install openssh-client)');
    sshd = await startSshd();
  });

  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-ssh-test-'));
    marker = path.join(os.tmpdir(), `ccp-marker-${crypto.randomBytes(6).toString('hex')}`);
  });

  afterEach(async () => {
    for (const target of targets.splice(0)) await target.dispose();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(marker, { force: true });
  });

  after(async () => {
    await sshd?.stop();
  });

  function server(): Sshd {
    if (!sshd) throw new Error('sshd not started');
    return sshd;
  }

  function newTarget(overrides: Partial<SshTargetConfig> = {}, of: Sshd = server()): SshTarget {
    const target = new SshTarget(sshTargetConfig(of, overrides));
    targets.push(target);
    return target;
  }

  it('runs a command remotely, with clean stderr and the remote exit code', async () => {
    const target = newTarget();
    const who = await target.run(['id', '-un']);
    assert.ok(succeeded(who), target.describeFailure(who));
    assert.equal(who.stdout, 'root\n');
    assert.equal(who.stderr, '');
    assert.ok(who.remotePid && who.remotePid > 1);

    let streamed = '';
    const failing = await target.run(['sh', '-c', 'echo oops >&2; exit 3'], { onStderr: (chunk) => (streamed += chunk) });
    assert.equal(failing.exitCode, 3);
    assert.equal(failing.stderr, 'oops\n');
    assert.equal(streamed, 'oops\n');
    assert.equal(target.describeFailure(failing), 'sh on test-node exited with code 3');

    const missing = await target.run(['no-such-tool-ccp']);
    assert.equal(missing.exitCode, 127);
    assert.match(target.describeFailure(missing), /no-such-tool-ccp is not installed on test-node/);

    const piped = await target.run(['tr', 'a-z', 'A-Z'], { input: 'hello\n' });
    assert.equal(piped.stdout, 'HELLO\n');
  });

  it('delivers hostile arguments intact, each as one argument, executing none of them', async () => {
    const target = newTarget();
    const strings = hostileStrings(marker);
    const all = await target.run(['printf', '%s\\0', ...strings]);
    assert.ok(succeeded(all), target.describeFailure(all));
    assert.deepEqual(all.stdout.split('\0').slice(0, -1), strings);

    const long = longHostile(marker, 100_000);
    const echoed = await target.run(['printf', '%s', long]);
    assert.ok(succeeded(echoed), target.describeFailure(echoed));
    assert.equal(echoed.stdout, long);

    const count = await target.run(['sh', '-c', 'echo $#', 'sh', ...strings]);
    assert.equal(count.stdout, `${strings.length}\n`);
    assert.equal(fs.existsSync(marker), false, 'an argument was executed by the remote shell');
  });

  it('streams binary input (how verify uploads an object) byte for byte into a file with a hostile name', async () => {
    const target = newTarget();
    const name = `we'ird "name" $(touch ${path.basename(marker)}) ;x\nline.o`;
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), crypto.randomBytes(300_000)]);
    const dir = fs.mkdtempSync(path.join(scratch, 'upload-'));
    const remote = path.posix.join(dir, name);
    const written = await target.run(['sh', '-c', 'cat > "$1" && sha256sum < "$1"', 'sh', remote], { input: bytes });
    assert.ok(succeeded(written), target.describeFailure(written));
    assert.equal(written.stdout.slice(0, 64), crypto.createHash('sha256').update(bytes).digest('hex'));
    assert.deepEqual(fs.readFileSync(remote), bytes);
    assert.equal(fs.existsSync(marker), false);
    assert.equal(fs.existsSync(path.join(dir, path.basename(marker))), false);
  });

  it('shares one master connection between commands', async () => {
    const sshd = server();
    const target = newTarget();
    const loginsBefore = acceptedLogins(sshd);

    let started = Date.now();
    const first = await target.run(['true']);
    const firstMs = Date.now() - started;
    assert.ok(succeeded(first), target.describeFailure(first));
    const socket = target.controlSocket as string;
    assert.ok(fs.statSync(socket).isSocket(), 'the control socket exists after the first command');
    assert.equal(fs.statSync(target.controlDirectory as string).mode & 0o777, 0o700);

    const check = await runProcess(['ssh', '-o', `ControlPath=${socket}`, '-O', 'check', '--', `root@127.0.0.1`]);
    assert.ok(succeeded(check), check.stderr);
    assert.match(check.stderr, /Master running/);

    const laterMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      started = Date.now();
      assert.ok(succeeded(await target.run(['true'])));
      laterMs.push(Date.now() - started);
    }
    const parallel = await Promise.all(Array.from({ length: 5 }, (_, i) => target.run(['echo', String(i)])));
    assert.deepEqual(parallel.map((r) => r.stdout), ['0\n', '1\n', '2\n', '3\n', '4\n']);

    // One login for all of them: every later command went through the master.
    assert.ok(await waitFor(() => acceptedLogins(sshd) === loginsBefore + 1, 2000), `logins: ${acceptedLogins(sshd) - loginsBefore}`);
    const secondMs = Math.min(...laterMs);
    console.log(`      first command ${firstMs} ms (connect + run), later commands ${laterMs.join(', ')} ms`);
    assert.ok(secondMs < firstMs, `a later command (${secondMs} ms) should be faster than the first (${firstMs} ms)`);
  });

  it('fails fast and clearly when nothing listens on the port', async () => {
    const target = newTarget({ port: await freePort(), connectTimeoutSec: 10 });
    const started = Date.now();
    const result = await target.run(['true']);
    const elapsed = Date.now() - started;
    assert.equal(result.exitCode, 255);
    assert.match(target.describeFailure(result), /SSH connection to root@127\.0\.0\.1 port [0-9]+ refused: nothing is listening there/);
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });

  it('times out clearly when the server accepts but never speaks', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as net.AddressInfo).port;
    const target = newTarget({ port, connectTimeoutSec: 2 });
    const started = Date.now();
    const result = await target.run(['true']);
    const elapsed = Date.now() - started;
    assert.equal(result.exitCode, 255);
    assert.match(target.describeFailure(result), /timed out after 2 s \(ConnectTimeout\): the port accepted the connection but no SSH server answered/);
    assert.ok(elapsed >= 1500 && elapsed < 8000, `took ${elapsed} ms`);
  });

  it('reports authentication and host key failures clearly', async () => {
    const otherKey = path.join(scratch, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey], { stdio: 'ignore' });
    const wrongKey = newTarget({ identityFile: otherKey });
    const denied = await wrongKey.run(['true']);
    assert.equal(denied.exitCode, 255);
    assert.equal(
      wrongKey.describeFailure(denied),
      'SSH authentication failed for root@127.0.0.1 (BatchMode: no password prompts; set up a key or agent)',
    );

    const emptyKnownHosts = path.join(scratch, 'known_hosts');
    fs.writeFileSync(emptyKnownHosts, '');
    const unknownHost = newTarget({
      extraOptions: [`UserKnownHostsFile=${emptyKnownHosts}`, 'GlobalKnownHostsFile=/dev/null', 'StrictHostKeyChecking=yes'],
    });
    const rejected = await unknownHost.run(['true']);
    assert.equal(rejected.exitCode, 255);
    assert.match(unknownHost.describeFailure(rejected), /host key verification failed for root@127\.0\.0\.1 port [0-9]+/);
  });

  it('kills the remote command on timeout and on cancellation, and says so', async () => {
    const target = newTarget();
    assert.ok(succeeded(await target.run(['true']))); // connect first: the timeout is the command's own

    const duration = `60.${crypto.randomInt(100000, 999999)}`;
    const started = Date.now();
    const result = await target.run(['sleep', duration], { timeoutMs: 1500 });
    const elapsed = Date.now() - started;
    const seen = JSON.stringify({ ...result, argv: undefined });
    assert.equal(result.timedOut, true, seen);
    assert.equal(result.remoteKilled, true, seen);
    assert.match(target.describeFailure(result), /^sleep on test-node timed out after 1\.5 s; the remote process was killed$/);
    assert.ok(elapsed < 8000, `took ${elapsed} ms: ${seen}`);
    assert.ok(await waitFor(() => processesMatching(`sleep ${duration}`).length === 0, 3000), JSON.stringify(processesMatching(`sleep ${duration}`)));

    // A timeout that fires before the remote command has even started is handled as well.
    const earlyDuration = `60.${crypto.randomInt(100000, 999999)}`;
    const early = await target.run(['sleep', earlyDuration], { timeoutMs: 1 });
    const seenEarly = JSON.stringify({ ...early, argv: undefined });
    assert.equal(early.timedOut, true, seenEarly);
    assert.equal(early.remoteKilled, true, seenEarly);
    assert.ok(await waitFor(() => processesMatching(`sleep ${earlyDuration}`).length === 0, 3000), 'early-timeout sleep still running');

    const cancelDuration = `60.${crypto.randomInt(100000, 999999)}`;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const cancelled = await target.run(['sh', '-c', `sleep ${cancelDuration}; echo never`], { signal: controller.signal });
    const seenCancel = JSON.stringify({ ...cancelled, argv: undefined });
    assert.equal(cancelled.cancelled, true, seenCancel);
    assert.equal(cancelled.remoteKilled, true, seenCancel);
    assert.match(target.describeFailure(cancelled), /was cancelled; the remote process was killed/);
    assert.ok(await waitFor(() => processesMatching(`sleep ${cancelDuration}`).length === 0, 3000), JSON.stringify(processesMatching(`sleep ${cancelDuration}`)));
  });

  it('dispose closes the master, removes its control socket and leaves no ssh process behind', async () => {
    const target = newTarget();
    assert.ok(succeeded(await target.run(['true'])));
    // The directory is the user's, shared by every target (and process); the socket is this target's.
    const socket = target.controlSocket as string;
    assert.ok(processesMatching(socket).length > 0, 'a master runs while the target is in use');

    await target.dispose();
    assert.equal(fs.existsSync(socket), false);
    assert.equal(fs.existsSync(`${socket}.json`), false);
    assert.ok(await waitFor(() => processesMatching(socket).length === 0, 3000), JSON.stringify(processesMatching(socket)));
    const after = await target.run(['true']);
    assert.match(target.describeFailure(after), /has been disposed/);
    await target.dispose(); // twice: fine
  });

  it('runs privileged commands through sudo -n, or says clearly that sudo is missing', async () => {
    const target = newTarget({ sudo: true });
    const plain = await target.run(['id', '-u']);
    assert.equal(plain.stdout, '0\n');
    const result = await target.run(['id', '-u'], { privileged: true });
    if (hasCommand('sudo')) {
      assert.ok(succeeded(result), target.describeFailure(result));
      assert.equal(result.stdout, '0\n');
    } else {
      assert.equal(result.exitCode, 127);
      assert.match(target.describeFailure(result), /^sudo is not installed on root@127\.0\.0\.1; install it, or log in as root/);
    }
  });

  it('says clearly when the server dies under a running command, and when it is gone', async () => {
    const own = await startSshd();
    cleanups.push(() => own.stop());
    const target = newTarget({}, own);
    assert.ok(succeeded(await target.run(['true'])));
    const duration = `30.${crypto.randomInt(100000, 999999)}`;
    let started = false;
    const running = target.run(['sh', '-c', `echo started; exec sleep ${duration}`], { onStdout: () => (started = true) });
    assert.ok(await waitFor(() => started && processesMatching(`sleep ${duration}`).length > 0, 10_000), 'remote sleep did not start');
    own.killAbruptly();
    const lost = await running;
    assert.equal(lost.exitCode, 255);
    assert.equal(lost.connectionLost, true);
    assert.match(target.describeFailure(lost), /^SSH connection to root@127\.0\.0\.1 port [0-9]+ was lost while the command ran/);
    const after = await target.run(['true']);
    assert.equal(after.exitCode, 255);
    assert.match(target.describeFailure(after), /SSH connection to root@127\.0\.0\.1 port [0-9]+ refused/);
  });
});
