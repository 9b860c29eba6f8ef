// The node lock with real processes: it serialises holders, says "busy" after the wait, and never outlives its
// owner, whether the owner ends, is SIGKILLed, or loses its SSH connection. The "remote" node of the SSH cases is
// this machine (a throwaway sshd on 127.0.0.1), so local and remote holders contend for the same file.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalTarget, SshTarget } from '../../src/core/target';
import { acquireNodeLock, NodeLockBusy, nodeStateDir, withNodeLock } from '../../src/core/target/nodeLock';
import { killSshdOnly } from './helpers/faults';
import { REPO } from './helpers/fixtures';
import { hasCommand, isRoot, requireOrSkip } from './helpers/require';
import { sshdAvailable, sshTargetConfig, startSshd, type Sshd } from './helpers/sshd';

// A bpffs root of its own (only its name is used for the lock folder), so this suite contends with nobody else.
const ROOT = `/sys/fs/bpf-lock-test-${process.pid}`;
const NAME = 'lock-test';

async function timeToLock(target: LocalTarget, waitMs = 20_000): Promise<number> {
  const started = Date.now();
  await withNodeLock(target, NAME, async () => undefined, { waitMs });
  return Date.now() - started;
}

describe('node lock (system, real flock, real sshd)', function () {
  this.timeout(120_000);
  const local = new LocalTarget({ bpffsRoot: ROOT });

  before(function () {
    requireOrSkip(this, isRoot(), 'the node lock lives in /run, which needs root');
    requireOrSkip(this, hasCommand('flock'), 'flock is not installed (util-linux)');
  });

  after(() => fs.rmSync(nodeStateDir(ROOT), { recursive: true, force: true }));

  it('serialises holders, and a waiter that runs out of time gets NodeLockBusy', async () => {
    const order: string[] = [];
    const first = withNodeLock(local, NAME, async () => {
      order.push('first in');
      await new Promise((resolve) => setTimeout(resolve, 800));
      order.push('first out');
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const busy = withNodeLock(local, NAME, async () => order.push('impatient in'), { waitMs: 200 }).catch((error: unknown) => error);
    const second = withNodeLock(local, NAME, async () => order.push('second in'));
    await Promise.all([first, second]);
    assert.ok((await busy) instanceof NodeLockBusy);
    assert.deepEqual(order, ['first in', 'first out', 'second in']);
  });

  it('is released when its owner is SIGKILLed', async () => {
    const script = `
      const { acquireNodeLock } = require(${JSON.stringify(path.join(REPO, 'out/src/core/target/nodeLock.js'))});
      const { LocalTarget } = require(${JSON.stringify(path.join(REPO, 'out/src/core/target/localTarget.js'))});
      acquireNodeLock(new LocalTarget({ bpffsRoot: ${JSON.stringify(ROOT)} }), ${JSON.stringify(NAME)}).then(() => console.log('held'));
      setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => owner.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve()));
    const waiting = timeToLock(local);
    await new Promise((resolve) => setTimeout(resolve, 300));
    owner.kill('SIGKILL');
    assert.ok((await waiting) < 5_000, 'the lock was free soon after its owner died');
  });

  describe('over SSH', () => {
    let sshd: Sshd | undefined;
    before(async function () {
      requireOrSkip(this, sshdAvailable(), 'sshd is not installed (apt-get install openssh-server)');
      sshd = await startSshd();
    });
    after(async () => sshd?.stop());

    it('a remote holder excludes a local one on the same node, and is released when the connection drops', async () => {
      const remote = new SshTarget(sshTargetConfig(sshd!, { bpffsRoot: ROOT }));
      try {
        const release = await acquireNodeLock(remote, NAME);
        await assert.rejects(withNodeLock(local, NAME, async () => undefined, { waitMs: 300 }), NodeLockBusy);
        await release();
        assert.ok((await timeToLock(local)) < 2_000, 'released by its owner');

        await acquireNodeLock(remote, NAME);
        const waiting = timeToLock(local);
        await new Promise((resolve) => setTimeout(resolve, 300));
        killSshdOnly(sshd!); // The holder on the node survives sshd, but its input ends.
        assert.ok((await waiting) < 10_000, 'released when the SSH connection dropped');
      } finally {
        await remote.dispose();
      }
    });
  });
});
