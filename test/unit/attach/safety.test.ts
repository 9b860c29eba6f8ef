// The pure parts of the destructive-path rules: which pin prefixes are ours to use, which names are one path
// component, how the node-state folder is named, and that a journal is read only when it is whole.
import * as assert from 'node:assert/strict';
import { parseJournal } from '../../../src/core/attach/journal';
import { isPinName, resolvePinPrefix } from '../../../src/core/pins/pinScope';
import { misplaced } from '../../../src/core/attach/removal';
import { ValidationError } from '../../../src/core/ids';
import { LocalTarget } from '../../../src/core/target';
import { nodeStateDir } from '../../../src/core/target/nodeLock';

const target = { bpffsRoot: '/sys/fs/bpf' };

describe('pin prefix and removal rules', () => {
  it('accepts a folder of its own inside the bpffs, the default included', () => {
    assert.equal(resolvePinPrefix(target, undefined), '/sys/fs/bpf/cilium-custom');
    assert.equal(resolvePinPrefix(target, '/sys/fs/bpf/team-a/progs/'), '/sys/fs/bpf/team-a/progs');
  });

  for (const prefix of [
    '/sys/fs/bpf',
    '/sys/fs/bpf/',
    '/',
    '/tmp/x',
    '/sys/fs/bpfx/a',
    '/sys/fs/bpf/tc',
    '/sys/fs/bpf/tc/globals',
    '/sys/fs/bpf/tc/globals/mine',
    '/sys/fs/bpf/ip',
    '/sys/fs/bpf/xdp/x',
    '/sys/fs/bpf/cilium',
    '/sys/fs/bpf/cilium/devices',
    '/sys/fs/bpf/cilium-custom-verify-1-ab',
    '/sys/fs/bpf/a/../tc',
    'relative/path',
  ]) {
    it(`refuses the pin prefix ${prefix}`, () => {
      assert.throws(() => resolvePinPrefix(target, prefix), ValidationError);
    });
  }

  it('pin names are one path component', () => {
    for (const name of ['bytecount', 'bytecount-2', 'a.b_c']) assert.ok(isPinName(name), name);
    for (const name of ['', '.', '..', '.hidden', '-x', 'a/b', '../tc', 'a b', 'x'.repeat(65)]) assert.ok(!isPinName(name), name);
  });

  it('removal requests are placed before anything runs: our pins, a verify folder, a verify upload, nothing else', () => {
    const local = new LocalTarget();
    const prefix = '/sys/fs/bpf/cilium-custom';
    assert.equal(misplaced(local, { kind: 'pins', path: `${prefix}/bytecount` }, prefix), undefined);
    assert.equal(misplaced(local, { kind: 'pins', path: '/sys/fs/bpf/cilium-custom-verify-12-abc' }, prefix), undefined);
    assert.equal(misplaced(local, { kind: 'upload', path: '/tmp/cilium-custom-verify-12-abc' }, prefix), undefined);
    for (const path of [prefix, `${prefix}/a/b`, `${prefix}/..`, '/sys/fs/bpf/tc/globals', '/etc', '/tmp/cilium-custom-verify-12-abc/../../etc']) {
      assert.match(misplaced(local, { kind: 'pins', path }, prefix) ?? '', /not one of ours/, path);
    }
    assert.match(misplaced(local, { kind: 'upload', path: '/sys/fs/bpf/cilium-custom-verify-12-abc' }, prefix) ?? '', /not one of ours/);
  });

  it('node state lives in one folder per bpffs mount, with the path escaped', () => {
    assert.equal(nodeStateDir('/sys/fs/bpf'), '/run/cilium-custom/_2fsys_2ffs_2fbpf');
    assert.equal(nodeStateDir('/sys/fs/bpf/'), nodeStateDir('/sys/fs/bpf'));
    assert.notEqual(nodeStateDir('/a_b'), nodeStateDir('/a/b'));
    assert.ok(!nodeStateDir('/x/../y').slice('/run/cilium-custom/'.length).includes('/'));
  });
});

describe('slot journal', () => {
  const journal = {
    version: 1,
    op: 'attach',
    endpointId: 42,
    pid: 7,
    startedAt: '2026-01-01T00:00:00.000Z',
    changes: [{ mapPath: '/sys/fs/bpf/tc/globals/cilium_calls_custom_00042', key: 0, before: null, after: 12 }],
    pinPrefix: '/sys/fs/bpf/cilium-custom',
    pinDir: '/sys/fs/bpf/cilium-custom/bytecount',
  };

  it('reads a whole journal', () => {
    assert.deepEqual(parseJournal(JSON.stringify(journal)), journal);
  });

  it('refuses a half-written or wrong one rather than guess', () => {
    const text = JSON.stringify(journal);
    for (const bad of [
      text.slice(0, text.length / 2),
      '',
      'null',
      JSON.stringify({ ...journal, version: 2 }),
      JSON.stringify({ ...journal, op: 'replace' }),
      JSON.stringify({ ...journal, changes: [{ ...journal.changes[0], key: 4 }] }),
      JSON.stringify({ ...journal, changes: [{ ...journal.changes[0], after: -1 }] }),
      JSON.stringify({ ...journal, changes: 'all' }),
    ]) {
      assert.equal(parseJournal(bad), undefined, bad);
    }
  });
});
