import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoverEndpoints, noMapsReason, versionCommandFor } from '../../../src/core/endpoints/discover';
import { parseCiliumEndpoints, parseCiliumVersion, removedCustomCalls } from '../../../src/core/endpoints/cilium';
import { ScriptedTarget } from './scriptedTarget';

const FIXTURES = path.resolve(__dirname, '../../../../test/unit/maps/fixtures');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

const CILIUM_LIST = JSON.stringify([
  {
    id: 1234,
    status: {
      identity: { id: 5678, labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default'] },
      networking: { addressing: [{ ipv4: '10.0.0.12', ipv6: 'fd00::12' }] },
      'external-identifiers': { 'k8s-namespace': 'default', 'k8s-pod-name': 'web-0' },
      state: 'ready',
    },
  },
  { id: 'bad' },
  42,
  { id: 7, status: null },
]);

describe('Cilium CLI parsers', () => {
  it('reads the endpoint list shape', () => {
    const parsed = parseCiliumEndpoints(CILIUM_LIST);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value[0], {
      id: 1234,
      podName: 'web-0',
      namespace: 'default',
      identity: 5678,
      labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default'],
      ipv4: ['10.0.0.12'],
      ipv6: ['fd00::12'],
      state: 'ready',
    });
    assert.equal(parsed.value.length, 2);
    assert.equal(parsed.value[1].podName, null);
  });

  it('never throws on garbage', () => {
    for (const text of ['', 'garbage', '{}', 'null', '[1,2', '{"id":1}', '\u0000', '[[[[]]]]']) {
      const parsed = parseCiliumEndpoints(text);
      if (parsed.ok) assert.ok(Array.isArray(parsed.value));
      else assert.match(parsed.error, /cilium endpoint list/);
    }
  });

  it('reads versions and knows 1.19 removed custom calls', () => {
    const v = parseCiliumVersion('Client: 1.19.0 abcdef 2026-01-01T00:00:00Z go version go1.24 linux/amd64\nDaemon: 1.19.0 ...');
    assert.ok(v.ok);
    assert.equal(v.value.text, '1.19.0');
    assert.ok(removedCustomCalls(v.value));
    const old = parseCiliumVersion('Client: v1.14.5 85db28be 2023-12-11');
    assert.ok(old.ok && !removedCustomCalls(old.value));
    assert.equal(parseCiliumVersion('no version here').ok, false);
    assert.deepEqual(versionCommandFor(['kubectl', '-n', 'kube-system', 'exec', 'ds/cilium', '--', 'cilium-dbg', 'endpoint', 'list', '-o', 'json']), [
      'kubectl', '-n', 'kube-system', 'exec', 'ds/cilium', '--', 'cilium-dbg', 'version',
    ]);
  });
});

describe('discoverEndpoints (scripted target)', () => {
  it('gives the reason when no custom-calls map exists, mentioning 1.19 from cilium-dbg version', async () => {
    const target = new ScriptedTarget((argv) => {
      if (argv[0] === 'ls') return { exitCode: 2, stderr: "ls: cannot access '/sys/fs/bpf/tc/globals': No such file or directory\n" };
      if (argv[0] === 'cilium-dbg' && argv[1] === 'version') return { stdout: 'Client: 1.19.1 x\n' };
      return undefined;
    });
    const result = await discoverEndpoints(target);
    assert.deepEqual(result.endpoints, []);
    assert.ok(result.reason?.startsWith('no cilium_calls_custom_* maps under /sys/fs/bpf/tc/globals: custom calls are disabled in this Cilium (built without ENABLE_CUSTOM_CALLS) or this is Cilium 1.19+, which removed the feature'));
    assert.match(result.reason!, /Cilium 1\.19\.1, which has no custom calls/);
    assert.equal(result.cilium.available, false);
    assert.match(result.cilium.reason!, /not installed/);
    assert.equal(noMapsReason('/b', null), 'no cilium_calls_custom_* maps under /b/tc/globals: custom calls are disabled in this Cilium (built without ENABLE_CUSTOM_CALLS) or this is Cilium 1.19+, which removed the feature');
  });

  it('lists endpoints with their slots, programs and Cilium details', async () => {
    const target = new ScriptedTarget((argv) => {
      const joined = argv.join(' ');
      if (argv[0] === 'ls' && argv.at(-1) === '/sys/fs/bpf/tc/globals') return { stdout: 'cilium_calls_custom_01234\ncilium_calls_01234\ncilium_calls_custom_junk\n' };
      if (argv[0] === 'ls') return { exitCode: 2, stderr: 'No such file or directory' };
      if (joined.includes('map show pinned /sys/fs/bpf/tc/globals/cilium_calls_custom_01234')) return { stdout: fixture('map-show-prog-array.json') };
      if (joined.includes('map dump pinned /sys/fs/bpf/tc/globals/cilium_calls_custom_01234')) return { stdout: fixture('map-dump-prog-array.json') };
      if (joined.includes('prog show id 1865')) return { stdout: fixture('prog-show-sched-cls.json') };
      if (joined.includes('prog show id')) return { exitCode: 255, stdout: '{"error":"get by id (1): No such file or directory"}' };
      if (argv[0] === 'cilium-dbg') return { stdout: CILIUM_LIST };
      return undefined;
    });
    const result = await discoverEndpoints(target);
    assert.equal(result.reason, null);
    assert.equal(result.endpoints.length, 1);
    const [ep] = result.endpoints;
    assert.equal(ep.id, 1234);
    assert.equal(ep.cilium?.podName, 'web-0');
    // The fixture's slots 0 and 3 hold program 0x749 = 1865.
    assert.deepEqual(ep.slots.map((s) => [s.hook, s.progId]), [['ipv4-ingress', 1865], ['ipv4-egress', null], ['ipv6-ingress', null], ['ipv6-egress', 1865]]);
    assert.equal(ep.slots[0].prog?.name, 'custom_hook');
    assert.equal(result.cilium.available, true);
    // Every command is an argv with the pin path as one element.
    assert.ok(target.runs.every((argv) => argv.every((a) => !a.includes(' '))));
  });
});
