import * as assert from 'node:assert/strict';
import {
  callsMapPinPath,
  configValueBytes,
  isValidIfName,
  isValidNetnsName,
  keyBytes,
  parseEchoSummary,
  sandboxCommands,
  sandboxNames,
  SandboxError,
  validateEndpointId,
  validateIdentity,
  validateReturnCode,
} from '../../../src/core/sandbox/names';

describe('sandbox names and validation', () => {
  it('accepts endpoint ids 1..65535 only', () => {
    assert.equal(validateEndpointId(1), 1);
    assert.equal(validateEndpointId(65535), 65535);
    assert.equal(validateEndpointId('4242'), 4242);
    for (const bad of [0, 65536, -1, 1.5, NaN, '12a', '', '0x10', ' 1', null, undefined, '1;rm -rf /']) {
      assert.throws(() => validateEndpointId(bad), SandboxError, String(bad));
    }
  });

  it('accepts 24-bit identities and 8-bit return codes only', () => {
    assert.equal(validateIdentity(0), 0);
    assert.equal(validateIdentity(0xffffff), 0xffffff);
    assert.equal(validateIdentity('0x3039'), 12345);
    for (const bad of [-1, 0x1000000, 2.5, 'abc']) assert.throws(() => validateIdentity(bad), SandboxError);
    assert.equal(validateReturnCode(255), 255);
    assert.throws(() => validateReturnCode(256), SandboxError);
  });

  it('keeps interface names within 15 bytes for every endpoint id', () => {
    for (const id of [1, 42, 4242, 65535]) {
      const n = sandboxNames(id);
      assert.ok(isValidIfName(n.hostIf) && n.hostIf.length <= 15, n.hostIf);
      assert.ok(isValidIfName(n.peerTmpIf));
      assert.ok(isValidNetnsName(n.netns));
    }
    assert.equal(sandboxNames(65535).hostIf, 'ccsb65535h');
    assert.equal(isValidIfName('a'.repeat(16)), false);
    assert.equal(isValidIfName('a/b'), false);
    assert.equal(isValidNetnsName('../x'), false);
  });

  it('names the calls map as Cilium does (%05d) and addresses inside private ranges', () => {
    assert.equal(callsMapPinPath(42), '/sys/fs/bpf/tc/globals/cilium_calls_custom_00042');
    const n = sandboxNames(4242);
    assert.equal(n.callsMapPin, '/sys/fs/bpf/tc/globals/cilium_calls_custom_04242');
    assert.equal(n.pinDir, '/sys/fs/bpf/cilium-custom-sandbox/4242');
    assert.equal(n.netns, 'cilium-custom-sb-4242');
    assert.equal(n.hostV4, '10.200.242.1');
    assert.equal(n.nsV4, '10.200.242.2');
    assert.equal(n.hostV6, 'fd00:cc:0:1092::1');
  });

  it('encodes the mock config and keys in host byte order', () => {
    assert.deepEqual(configValueBytes(12345, 0, 'LE'), ['57', '48', '0', '0', '0', '0', '0', '0']);
    assert.deepEqual(configValueBytes(12345, 2, 'BE'), ['0', '0', '48', '57', '0', '0', '0', '2']);
    assert.deepEqual(keyBytes(3, 'LE'), ['3', '0', '0', '0']);
  });

  it('builds argv arrays, never shell strings', () => {
    const n = sandboxNames(4242);
    const c = sandboxCommands(n);
    assert.deepEqual(c.createCallsMap(), [
      'bpftool', 'map', 'create', '/sys/fs/bpf/tc/globals/cilium_calls_custom_04242',
      'type', 'prog_array', 'key', '4', 'value', '4', 'entries', '4', 'name', 'cilium_calls_cu',
    ]);
    assert.deepEqual(c.loadMock('/tmp/x/mock_datapath.o'), [
      'bpftool', 'prog', 'loadall', '/tmp/x/mock_datapath.o', '/sys/fs/bpf/cilium-custom-sandbox/4242/progs', 'type', 'classifier',
      'map', 'name', 'mock_calls', 'pinned', '/sys/fs/bpf/tc/globals/cilium_calls_custom_04242',
      'pinmaps', '/sys/fs/bpf/cilium-custom-sandbox/4242/maps',
    ]);
    assert.deepEqual(c.addVeth(), ['ip', 'link', 'add', 'ccsb4242h', 'type', 'veth', 'peer', 'name', 'ccsb4242p', 'netns', 'cilium-custom-sb-4242']);
    assert.deepEqual(c.attach('egress'), [
      'tc', 'filter', 'add', 'dev', 'ccsb4242h', 'egress', 'bpf', 'direct-action', 'object-pinned',
      '/sys/fs/bpf/cilium-custom-sandbox/4242/progs/mock_egress',
    ]);
    assert.deepEqual(c.delNetns(), ['ip', 'netns', 'del', 'cilium-custom-sb-4242']);
    const echo = c.echoServer('/usr/bin/node', 4, 10, 5000);
    assert.deepEqual(echo.slice(0, 5), ['ip', 'netns', 'exec', 'cilium-custom-sb-4242', '/usr/bin/node']);
    assert.deepEqual(echo.slice(-4), ['udp4', '10.200.242.2', '10', '5000']);
    for (const argv of [c.createCallsMap(), c.addVeth(), c.attach('ingress'), c.writeConfig(12345, 0)]) {
      assert.ok(argv.every((w) => typeof w === 'string' && !w.includes('\0')));
    }
  });

  it('parses the echo server summary', () => {
    assert.deepEqual(parseEchoSummary('ready 40000\nreceived 20 2000\n'), { received: 20, bytes: 2000 });
    assert.equal(parseEchoSummary('ready 40000\n'), undefined);
  });
});
