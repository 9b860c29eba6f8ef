// One build per object at a time: a second lock on the same object waits for the first, across open file
// descriptions (two builds in one process exclude each other just like two processes), and can be cancelled.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuildLockCancelled, lockFileFor, withBuildLock } from '../../../src/core/build/buildLock';
import { requireOrSkip } from '../../system/helpers/require';

function hasFlock(): boolean {
  try {
    execFileSync('flock', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('build lock (flock on a per-object file)', function () {
  let dir: string;
  let lockDir: string;
  before(function () {
    requireOrSkip(this, hasFlock(), 'flock (util-linux) is not installed: the build lock needs it');
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-lock-'));
    lockDir = path.join(dir, 'locks');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serialises two holders of one object and lets two objects run together', async () => {
    const events: string[] = [];
    const hold = (object: string, name: string, ms: number) =>
      withBuildLock(
        object,
        async () => {
          events.push(`${name} in`);
          await sleep(ms);
          events.push(`${name} out`);
        },
        { lockDir, onWait: () => events.push(`${name} waits`) },
      );
    const a = path.join(dir, 'a.o');
    await Promise.all([hold(a, 'first', 300), sleep(50).then(() => hold(a, 'second', 10))]);
    assert.deepEqual(events, ['first in', 'second waits', 'first out', 'second in', 'second out']);

    events.length = 0;
    await Promise.all([hold(a, 'a', 200), hold(path.join(dir, 'b.o'), 'b', 200)]);
    assert.deepEqual(events.slice(0, 2).sort(), ['a in', 'b in']);
  });

  it('excludes another process holding the lock, and takes it once that process dies', async () => {
    const object = path.join(dir, 'p.o');
    const lockFile = lockFileFor(object, lockDir);
    fs.mkdirSync(lockDir, { recursive: true, mode: 0o700 });
    // Its own process group: flock's child (sleep) inherits the locked descriptor, so both must die.
    const holder = spawn('flock', ['-x', lockFile, 'sleep', '30'], { stdio: 'ignore', detached: true });
    await sleep(200);
    let waited = false;
    let ran = false;
    const pending = withBuildLock(object, async () => void (ran = true), { lockDir, onWait: () => (waited = true) });
    await sleep(300);
    assert.equal(waited, true);
    assert.equal(ran, false);
    process.kill(-holder.pid!, 'SIGKILL');
    await pending;
    assert.equal(ran, true);
  });

  it('cancelling the wait rejects with BuildLockCancelled and leaves the holder alone', async () => {
    const object = path.join(dir, 'p.o');
    const abort = new AbortController();
    let release: () => void = () => {};
    const first = withBuildLock(object, () => new Promise<void>((resolve) => (release = resolve)), { lockDir });
    await sleep(100);
    const second = withBuildLock(object, async () => assert.fail('must not run'), { lockDir, signal: abort.signal });
    await sleep(100);
    abort.abort();
    await assert.rejects(second, BuildLockCancelled);
    release();
    await first;
  });

  it('keys the lock by the real path: two spellings of one object share it', () => {
    fs.mkdirSync(path.join(dir, 'real'));
    fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
    assert.equal(lockFileFor(path.join(dir, 'link', 'x.o'), lockDir), lockFileFor(path.join(dir, 'real', 'x.o'), lockDir));
    assert.notEqual(lockFileFor(path.join(dir, 'real', 'x.o'), lockDir), lockFileFor(path.join(dir, 'real', 'y.o'), lockDir));
  });

  it('builds anyway, saying so, when the lock directory is not ours', async () => {
    fs.writeFileSync(lockDir, 'not a directory');
    let note = '';
    let ran = false;
    await withBuildLock(path.join(dir, 'p.o'), async () => void (ran = true), { lockDir, onUnlocked: (why) => (note = why) });
    assert.equal(ran, true);
    assert.match(note, /no build lock/);
  });
});
