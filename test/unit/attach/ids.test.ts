import * as assert from 'node:assert/strict';
import { attach, detach } from '../../../src/core/attach/attach';
import {
  callsMapName,
  callsMapPath,
  checkSlotKey,
  endpointIdOfMapName,
  hookKey,
  HOOKS,
  keyHook,
  parseEndpointId,
  parseHook,
  parseHooks,
  parsePinName,
  parsePinPrefix,
  sanitizePinName,
  slotKeyArgv,
  ValidationError,
} from '../../../src/core/ids';
import { ScriptedTarget } from './scriptedTarget';

const HOSTILE_IDS: unknown[] = ['1; rm -rf /', '-1', '65536', '0x10', ' 5', '5 ', '0', '', '1e3', '1.0', '+5', '０5', '5\n', '$(id)', '`id`', '00000', '123456', -1, 0, 65536, 1.5, NaN, Infinity, null, undefined, {}, [], '99999'];
const HOSTILE_HOOKS: unknown[] = ['ipv4-ingress; rm -rf /', 'IPV4-INGRESS', ' ipv4-ingress', 'ipv4-ingress ', 'ipv4_ingress', '0', '4', 'ingress', '', '--force', 'ipv4-ingress\n', null, 0, 4];

describe('endpoint id and hook validation', () => {
  it('accepts 1..65535 as numbers and plain decimal text', () => {
    assert.equal(parseEndpointId('1'), 1);
    assert.equal(parseEndpointId('65535'), 65535);
    assert.equal(parseEndpointId('00042'), 42);
    assert.equal(parseEndpointId(3000), 3000);
  });

  for (const id of HOSTILE_IDS) {
    it(`rejects endpoint id ${JSON.stringify(id) ?? String(id)}`, () => {
      assert.throws(() => parseEndpointId(id), ValidationError);
    });
  }

  for (const hook of HOSTILE_HOOKS) {
    it(`rejects hook ${JSON.stringify(hook)}`, () => {
      assert.throws(() => parseHook(hook), ValidationError);
    });
  }

  it('maps hooks to keys 0-3 in Cilium order and back', () => {
    assert.deepEqual(HOOKS.map(hookKey), [0, 1, 2, 3]);
    assert.equal(hookKey('ipv4-ingress'), 0);
    assert.equal(hookKey('ipv4-egress'), 1);
    assert.equal(hookKey('ipv6-ingress'), 2);
    assert.equal(hookKey('ipv6-egress'), 3);
    for (const key of [0, 1, 2, 3]) assert.equal(hookKey(keyHook(key)), key);
    for (const key of [4, -1, 1.5, 255]) assert.throws(() => checkSlotKey(key), /keys 0 to 3/);
    assert.deepEqual(slotKeyArgv(3), ['3', '0', '0', '0']);
    assert.throws(() => slotKeyArgv(4), ValidationError);
  });

  it('rejects empty and duplicate hook lists', () => {
    assert.throws(() => parseHooks([]), /no hook/);
    assert.throws(() => parseHooks(['ipv4-ingress', 'ipv4-ingress']), /twice/);
    assert.deepEqual(parseHooks(['ipv6-egress', 'ipv4-ingress']), ['ipv6-egress', 'ipv4-ingress']);
  });

  it('names and parses the calls map like Cilium (%05d)', () => {
    assert.equal(callsMapName(42), 'cilium_calls_custom_00042');
    assert.equal(callsMapPath('/sys/fs/bpf/', 65535), '/sys/fs/bpf/tc/globals/cilium_calls_custom_65535');
    assert.equal(endpointIdOfMapName('cilium_calls_custom_00042'), 42);
    for (const name of ['cilium_calls_custom_00000', 'cilium_calls_custom_99999', 'cilium_calls_custom_42', 'cilium_calls_custom_000420', 'cilium_calls_00042', 'cilium_calls_custom_0004a']) {
      assert.equal(endpointIdOfMapName(name), undefined, name);
    }
  });

  it('derives safe pin names and validates explicit ones', () => {
    assert.equal(sanitizePinName('/x/y/bytecount.h'), 'bytecount');
    assert.equal(sanitizePinName('my prog$(id).o'), 'my_prog_id_');
    assert.equal(sanitizePinName('../..'), 'custom');
    assert.equal(sanitizePinName('-rf.h'), 'rf');
    assert.ok(sanitizePinName('a'.repeat(300)).length <= 64);
    assert.equal(parsePinName('bytecount-2'), 'bytecount-2');
    for (const bad of ['', '.', '..', '-rf', 'a/b', 'a b', 'a;b', 'x'.repeat(65)]) assert.throws(() => parsePinName(bad), ValidationError, bad);
    assert.equal(parsePinPrefix('/sys/fs/bpf/cilium-custom/'), '/sys/fs/bpf/cilium-custom');
    for (const bad of ['relative', '/sys/fs/bpf/../etc', '/a b', '/a\nb']) assert.throws(() => parsePinPrefix(bad), ValidationError, bad);
  });

  it('rejects hostile input in attach and detach before running any command', async () => {
    for (const endpointId of ['1; rm -rf /', '-1', '65536', '0x10', ' 5']) {
      const target = new ScriptedTarget();
      await assert.rejects(attach({ target, input: '/nonexistent.h', endpointId, hooks: ['ipv4-ingress'], bundledSdkDir: '/nonexistent' }), ValidationError);
      await assert.rejects(detach({ target, endpointId, hooks: ['ipv4-ingress'] }), ValidationError);
      assert.deepEqual(target.runs, []);
    }
    for (const hook of ['ipv4-ingress; reboot', 'ipv4', '4']) {
      const target = new ScriptedTarget();
      await assert.rejects(attach({ target, input: '/nonexistent.h', endpointId: 5, hooks: [hook], bundledSdkDir: '/nonexistent' }), ValidationError);
      await assert.rejects(detach({ target, endpointId: 5, hooks: [hook] }), ValidationError);
      assert.deepEqual(target.runs, []);
    }
    const target = new ScriptedTarget();
    await assert.rejects(attach({ target, input: '/x.h', endpointId: 5, hooks: ['ipv4-ingress'], pinName: '../x', bundledSdkDir: '/n' }), ValidationError);
    await assert.rejects(attach({ target, input: '/x.h', endpointId: 5, hooks: ['ipv4-ingress'], pinPrefix: '/sys/fs/bpf', bundledSdkDir: '/n' }), ValidationError);
    await assert.rejects(attach({ target, input: '/x.h', endpointId: 5, hooks: ['ipv4-ingress'], pinPrefix: '/sys/fs/bpf/tc/globals', bundledSdkDir: '/n' }), ValidationError);
    await assert.rejects(attach({ target, input: '/x.h', endpointId: 5, hooks: ['ipv4-ingress'], pinPrefix: '/tmp/elsewhere', bundledSdkDir: '/n' }), ValidationError);
    assert.deepEqual(target.runs, []);
  });
});
