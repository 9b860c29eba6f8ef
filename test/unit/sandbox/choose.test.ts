import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describeCondition, firstFreeSandboxId, sandboxCondition, sandboxIdFromArgument } from '../../../src/core/sandbox/choose';
import { parseEchoSummary, SANDBOX_NEEDS_ROOT, SandboxError, sandboxLockName, UDP_ECHO_SCRIPT } from '../../../src/core/sandbox/names';
import type { SandboxStatus } from '../../../src/core/sandbox/sandbox';

function status(overrides: Partial<SandboxStatus> = {}): SandboxStatus {
  return {
    endpointId: 4400,
    identity: 12345,
    returnCode: 0,
    complete: true,
    removing: false,
    netns: 'cilium-custom-sb-4400',
    hostIf: 'ccsb4400h',
    hostV4: '10.200.150.1',
    nsV4: '10.200.150.2',
    hostV6: 'fd00:cc:0:1130::1',
    nsV6: 'fd00:cc:0:1130::2',
    callsMapPin: '/sys/fs/bpf/tc/globals/cilium_calls_custom_04400',
    netnsPresent: true,
    hostIfPresent: true,
    callsMapPresent: true,
    occupiedSlots: [],
    ...overrides,
  };
}

describe('sandbox choice (which sandbox a command acts on)', () => {
  it('takes the id from { endpointId }, an Endpoints view row, or a number', () => {
    assert.equal(sandboxIdFromArgument({ endpointId: 4400 }), 4400);
    assert.equal(sandboxIdFromArgument({ kind: 'endpoint', endpoint: { id: 4401, mapPath: '/x' }, sandbox: true }), 4401);
    assert.equal(sandboxIdFromArgument(4402), 4402);
    assert.equal(sandboxIdFromArgument({ endpointId: 4403, count: 5 }), 4403);
  });

  it('gives undefined (the command then asks) for no argument or anything that is not an endpoint id', () => {
    for (const arg of [undefined, null, {}, { count: 20 }, { kind: 'hook', endpoint: { id: 4400 } }, { kind: 'endpoint' }, 'abc', '4400', 0, 65536, 1.5, -1]) {
      assert.equal(sandboxIdFromArgument(arg), undefined, JSON.stringify(arg));
    }
    assert.equal(sandboxIdFromArgument({ endpointId: '4400' }), undefined, 'a string id from an untyped caller is not trusted');
    assert.equal(sandboxIdFromArgument({ kind: 'endpoint', endpoint: { id: 70000 } }), undefined);
  });

  it('tells up, being removed, incomplete and broken sandboxes apart', () => {
    assert.equal(sandboxCondition(status()), 'up');
    assert.equal(sandboxCondition(status({ removing: true })), 'being-removed');
    assert.equal(sandboxCondition(status({ complete: false })), 'incomplete');
    assert.equal(sandboxCondition(status({ netnsPresent: false })), 'broken');
    assert.equal(sandboxCondition(status({ callsMapPresent: false })), 'broken');
    assert.equal(describeCondition('up'), 'up');
    assert.match(describeCondition('incomplete'), /being created/);
  });

  it('suggests the first id from 4242 that nothing uses, wrapping around', () => {
    const taken = new Set([4242, 4243, 4245]);
    assert.equal(firstFreeSandboxId(4242, (id) => taken.has(id)), 4244);
    assert.equal(firstFreeSandboxId(65535, (id) => id === 65535), 1);
  });
});

describe('sandbox errors and locks', () => {
  it('carry a kind for the CLI and the editor to add their own next step', () => {
    const error = new SandboxError('sandbox 4400 is not up', 'not-up');
    assert.ok(error instanceof Error);
    assert.equal(error.kind, 'not-up');
    assert.equal(new SandboxError('x').kind, 'failed');
    assert.equal(SANDBOX_NEEDS_ROOT, 'cilium-custom sandbox needs root (or CAP_BPF and CAP_NET_ADMIN)');
  });

  it('name the lock of each id with the characters node locks accept', () => {
    assert.equal(sandboxLockName(4242), 'sandbox-4242');
    assert.match(sandboxLockName(65535), /^[a-z0-9][a-z0-9-]{0,63}$/);
    assert.throws(() => sandboxLockName(0), SandboxError);
  });
});

describe('the UDP echo server script', () => {
  it('prints its summary and exits on SIGTERM (traffic stopped early) instead of waiting out its timeout', async function () {
    this.timeout(20_000);
    const child = spawn(process.execPath, ['-e', UDP_ECHO_SCRIPT, 'udp4', '127.0.0.1', '1000', '600000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => /ready \d+/.test(out) && resolve());
      child.once('exit', () => reject(new Error(`exited before ready: ${out}`)));
    });
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(parseEchoSummary(out), { received: 0, bytes: 0 });
  });
});
