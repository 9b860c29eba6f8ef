import * as assert from 'node:assert/strict';
import { checkDestination, parseSshSpec, validateDestination } from '../../../src/core/target/sshSpec';
import { createTarget } from '../../../src/core/target';

describe('parseSshSpec', () => {
  const good: Array<[string, { destination: string; host: string; user?: string; port?: number }]> = [
    ['node1', { destination: 'node1', host: 'node1' }],
    ['node1:2222', { destination: 'node1', host: 'node1', port: 2222 }],
    ['root@node1', { destination: 'root@node1', host: 'node1', user: 'root' }],
    ['root@node1.example.com:22', { destination: 'root@node1.example.com', host: 'node1.example.com', user: 'root', port: 22 }],
    ['10.0.0.7:65535', { destination: '10.0.0.7', host: '10.0.0.7', port: 65535 }],
    ['[::1]:2222', { destination: '::1', host: '::1', port: 2222 }],
    ['[::1]', { destination: '::1', host: '::1' }],
    ['::1', { destination: '::1', host: '::1' }],
    ['admin@[fe80::1%eth0]:22', { destination: 'admin@fe80::1%eth0', host: 'fe80::1%eth0', user: 'admin', port: 22 }],
    ['alice@corp@bastion', { destination: 'alice@corp@bastion', host: 'bastion', user: 'alice@corp' }],
    ['k8s_node-3', { destination: 'k8s_node-3', host: 'k8s_node-3' }],
  ];
  for (const [spec, expected] of good) {
    it(`parses ${spec}`, () => assert.deepEqual(parseSshSpec(spec), expected));
  }

  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['-oProxyCommand=touch_x', /starts with '-'/],
    ['root@-oProxyCommand=x', /starts with '-'/],
    ['-root@host', /starts with '-'/],
    ['host:0', /1 to 65535/],
    ['host:65536', /1 to 65535/],
    ['host:22x', /not a number/],
    ['host:', /not a number/],
    ['[::1', /closing/],
    ['[::1]x', /':port'/],
    ['a b', /whitespace/],
    ['host\n', /whitespace or control/],
    ['@host', /empty user/],
    ['root@', /empty host/],
    ['$(id)@host', /shell would interpret/],
    ['root@host;id', /may contain only/],
    ['root@ho`st`', /may contain only/],
  ];
  for (const [spec, message] of bad) {
    it(`rejects ${JSON.stringify(spec)}`, () => assert.throws(() => parseSshSpec(spec), message));
  }
});

describe('destination validation', () => {
  it('accepts ordinary destinations', () => {
    for (const d of ['node1', 'root@10.0.0.1', 'user.name@host-1.example', '::1', 'u@fe80::1%eth0']) {
      assert.equal(checkDestination(d), undefined, d);
    }
  });

  it('rejects destinations that ssh could take for options, or that carry whitespace or metacharacters', () => {
    for (const d of ['', '-p', '-oProxyCommand=sh', ' host', 'host name', 'host\t', 'ho\x00st', 'a@b c', "o'neil@host", 'u@[::1]']) {
      assert.throws(() => validateDestination(d), Error, JSON.stringify(d));
    }
  });

  it('is enforced by createTarget', () => {
    assert.throws(() => createTarget({ kind: 'ssh', name: 'x', destination: '-oProxyCommand=touch_x' }), /starts with '-'/);
    assert.throws(() => createTarget({ kind: 'ssh', name: 'x', destination: 'host', port: 0 }), /1 to 65535/);
    assert.throws(() => createTarget({ kind: 'ssh', name: 'x', destination: 'host', extraOptions: ['A=b\nC=d'] }), /control characters/);
    const target = createTarget({ kind: 'ssh', name: 'node1', destination: 'root@node1', port: 2222 });
    assert.equal(target.isRemote, true);
    assert.equal(target.bpftool, 'bpftool');
    assert.equal(target.bpffsRoot, '/sys/fs/bpf');
  });
});
