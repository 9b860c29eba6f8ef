// The kept SSH connections' directory and socket names: private, short enough for sun_path, one per target.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  controlSocketDirectory,
  controlSocketName,
  ensurePrivateDirectory,
  listKeptConnections,
  probeControlSocket,
  withSocketLock,
} from '../../../src/core/target/controlSocket';
import { SshTarget } from '../../../src/core/target/sshTarget';

describe('SSH control sockets', () => {
  let scratch: string;
  beforeEach(() => (scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-cs-'))));
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('lives under $XDG_RUNTIME_DIR, else ~/.cache, else /tmp when those paths are too long for a socket', () => {
    assert.equal(controlSocketDirectory({ XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/u' }), '/run/user/1000/cilium-custom/ssh');
    assert.equal(controlSocketDirectory({ HOME: '/home/u' }), '/home/u/.cache/cilium-custom/ssh');
    assert.equal(controlSocketDirectory({ XDG_RUNTIME_DIR: 'relative', HOME: '/home/u' }), '/home/u/.cache/cilium-custom/ssh');
    const long = `/${'x'.repeat(100)}`;
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    assert.equal(controlSocketDirectory({ XDG_RUNTIME_DIR: long, HOME: long }), `/tmp/cilium-custom-${uid}/ssh`);
  });

  it('names a socket by a short hash of the connection settings: same target, same socket; any change, another', () => {
    const base = { ssh: 'ssh', destination: 'root@node1', port: 22, identityFile: '/k', configFile: undefined, extraOptions: ['A=b'] };
    const name = controlSocketName(base);
    assert.match(name, /^[a-z2-7]{20}$/);
    assert.equal(controlSocketName({ ...base }), name);
    for (const change of [{ port: 2222 }, { destination: 'root@node2' }, { identityFile: '/k2' }, { extraOptions: ['A=c'] }, { configFile: '/dev/null' }, { ssh: '/usr/bin/ssh' }]) {
      assert.notEqual(controlSocketName({ ...base, ...change }), name, JSON.stringify(change));
    }
    // The longest directory controlSocketDirectory() accepts still leaves room in sun_path (108 bytes with NUL).
    const dir = `/${'d'.repeat(107 - 1 - 20 - '.lock'.length - 1)}`;
    assert.ok(Buffer.byteLength(path.join(dir, name)) < 108);
    const target = new SshTarget({ name: 'n', destination: 'root@node1' });
    assert.equal(target.controlSocket, undefined, 'no socket before the first command');
  });

  it('makes the directory private, and refuses a symlink in its place', async () => {
    const dir = path.join(scratch, 'a', 'b', 'ssh');
    await ensurePrivateDirectory(dir);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    fs.chmodSync(dir, 0o755);
    await ensurePrivateDirectory(dir);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700, 'a loosened directory is made private again');
    const link = path.join(scratch, 'link');
    fs.symlinkSync(dir, link);
    await assert.rejects(ensurePrivateDirectory(link), /not a directory/);
  });

  it('tells a live socket from a stale one and from none', async () => {
    const socket = path.join(scratch, 'sock');
    assert.equal(await probeControlSocket(socket), 'absent');
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    assert.equal(await probeControlSocket(socket), 'alive');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // A socket file nobody listens on, as a master killed with SIGKILL leaves it.
    const deadPath = path.join(scratch, 'dead');
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(deadPath)}, () => console.log('up'))`]);
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    assert.ok(fs.statSync(deadPath).isSocket());
    assert.equal(await probeControlSocket(deadPath), 'stale');
    fs.writeFileSync(path.join(scratch, `${'a'.repeat(20)}.json`), JSON.stringify({ name: 'n', destination: 'd', ssh: 'ssh', startedAt: 'x', persistSec: 1 }));
    const listed = await listKeptConnections(scratch);
    // 'dead' is no socket name (20 base32 characters); an info file without its socket is listed, as stale.
    assert.deepEqual(listed.map((c) => [path.basename(c.socket), c.state, c.info?.name]), [['a'.repeat(20), 'stale', 'n']]);
  });

  it('serialises two holders of one socket lock, and takes over a lock whose holder is gone', async () => {
    const socket = path.join(scratch, 'sock');
    const order: string[] = [];
    const first = withSocketLock(socket, 5000, async () => {
      order.push('first in');
      await new Promise((resolve) => setTimeout(resolve, 150));
      order.push('first out');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = withSocketLock(socket, 5000, async () => order.push('second'));
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first in', 'first out', 'second']);
    assert.equal(fs.existsSync(`${socket}.lock`), false);
    fs.writeFileSync(`${socket}.lock`, '999999999\n');
    const started = Date.now();
    await withSocketLock(socket, 5000, async () => undefined);
    assert.ok(Date.now() - started < 1000, 'a dead holder does not make us wait');
  });
});
