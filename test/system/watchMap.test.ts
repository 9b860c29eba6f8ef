// Watch Map's sampler on the real kernel: maps pinned in a private bpffs folder, sampled while they are updated,
// with values, rates, per-CPU columns, BTF labels and its CPU cost checked; everything removed afterwards.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MapSampler, type SampleResult } from '../../src/core/maps/watch/sampler';
import { samplesToCsv } from '../../src/core/maps/watch/csv';
import { DUMP_LOOP_NAME } from '../../src/core/maps/watch/dumpLoop';
import { LocalTarget, SshTarget } from '../../src/core/target';
import { bpftoolProcesses, processes, sleep, waitFor } from './helpers/pins';
import { hasCommand, requireBpf, requireOrSkip } from './helpers/require';
import { sshdAvailable, sshTargetConfig, startSshd } from './helpers/sshd';
import { bpftoolSync, cpuTimeMs, leHex, loadBtfMap, privateBpffsDir, updateMap } from './helpers/watchMaps';

describe('Watch Map sampler (system, real kernel)', function () {
  let bpffs: ReturnType<typeof privateBpffsDir>;
  let work: string;
  let target: LocalTarget;
  const samplers: MapSampler[] = [];

  before(function () {
    requireBpf(this);
  });

  beforeEach(() => {
    bpffs = privateBpffsDir();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-watch-'));
    target = new LocalTarget();
  });

  afterEach(async () => {
    await Promise.all(samplers.splice(0).map((s) => s.stop()));
    await target.dispose();
    bpffs.remove();
    fs.rmSync(work, { recursive: true, force: true });
    assert.ok(!fs.existsSync(bpffs.dir), 'the private bpffs folder is gone');
  });

  const sampler = (pin: string, intervalMs = 1000, onSample?: (r: SampleResult) => void) => {
    const s = new MapSampler(target, pin, { intervalMs, ...(onSample ? { onSample } : {}) });
    samplers.push(s);
    return s;
  };

  it('samples a hash map while it is updated: values per key and rates per second', async () => {
    const pin = path.join(bpffs.dir, 'watch_hash');
    bpftoolSync('map', 'create', pin, 'type', 'hash', 'key', '4', 'value', '8', 'entries', '16', 'name', 'watch_hash');
    updateMap(work, pin, [[leHex(7, 4), leHex(100, 8)]]);
    const s = sampler(pin);
    const map = await s.open();
    assert.deepEqual([map.type, map.perCpu, map.btfId], ['hash', false, null]);

    const first = await s.sampleOnce();
    assert.equal(first.error, undefined);
    assert.equal(first.entries, 1);
    await sleep(200);
    updateMap(work, pin, [
      [leHex(7, 4), leHex(2100, 8)],
      [leHex(9, 4), leHex(5, 8)],
    ]);
    const second = await s.sampleOnce();
    assert.equal(second.entries, 2);

    const key7 = s.store.key('07000000');
    assert.ok(key7, `key 7 kept: ${[...s.store.keys].map((k) => k.id).join(', ')}`);
    assert.equal(key7.label, '07 00 00 00 (7)', 'no BTF: hex and the integer, as the Pinned Maps view writes it');
    assert.deepEqual(s.store.values(key7, { field: 0 }), [100, 2100]);
    const [t0, t1] = s.store.timeline();
    const [, rate] = s.store.rates(key7, { field: 0 });
    assert.ok(Math.abs(rate! - (2000 * 1000) / (t1 - t0)) < 1e-9, `rate ${rate} from ${t1 - t0} ms`);
    assert.ok(rate! > 0 && rate! < 2000 / 0.2, 'at most 2000 per 200 ms');
    assert.deepEqual(s.store.values(s.store.key('09000000')!, { field: 0 }), [null, 5]);
    assert.match(samplesToCsv(s.store), /,07 00 00 00 \(7\),value,,2100,\d/);
  });

  it('per-CPU maps: one column per possible CPU and their sum', async () => {
    const pin = path.join(bpffs.dir, 'watch_pcpu');
    bpftoolSync('map', 'create', pin, 'type', 'percpu_hash', 'key', '4', 'value', '8', 'entries', '4', 'name', 'watch_pcpu');
    // bpftool writes the value given to every CPU.
    updateMap(work, pin, [[leHex(1, 4), leHex(25, 8)]]);
    const s = sampler(pin);
    assert.equal((await s.open()).perCpu, true);
    assert.equal((await s.sampleOnce()).error, undefined);
    const key = s.store.key('01000000')!;
    assert.ok(key.cpus.length >= 1);
    for (let cpu = 0; cpu < key.cpus.length; cpu++) assert.deepEqual(s.store.values(key, { field: 0, cpu }), [25]);
    assert.deepEqual(s.store.values(key, { field: 0 }), [25 * key.cpus.length], 'the sum over CPUs');
  });

  it('labels keys by BTF and charts each numeric field of a struct value', async () => {
    const pin = loadBtfMap(
      work,
      bpffs.dir,
      'watch_btf',
      `struct flow { __u32 identity; __u32 port; };
struct counters { __u64 packets; __u64 bytes; };
struct { __uint(type, 1); __uint(max_entries, 8); __type(key, struct flow); __type(value, struct counters); } watch_btf SEC(".maps");`,
    );
    updateMap(work, pin, [[`${leHex(12345, 4)} ${leHex(80, 4)}`, `${leHex(3, 8)} ${leHex(420, 8)}`]]);
    const s = sampler(pin);
    assert.ok((await s.open()).btfId, 'the map has BTF');
    await s.sampleOnce();
    const [key] = [...s.store.keys];
    assert.equal(key.label, 'identity 12345, port 80');
    assert.deepEqual(key.fields, ['packets', 'bytes']);
    assert.deepEqual(s.store.values(key, { field: 1 }), [420]);
  });

  it('samples on its own every interval through one shell loop, stops when told (nothing left running), and says when the map is gone', async () => {
    const pin = path.join(bpffs.dir, 'watch_loop');
    bpftoolSync('map', 'create', pin, 'type', 'array', 'key', '4', 'value', '8', 'entries', '2', 'name', 'watch_loop');
    const results: SampleResult[] = [];
    const s = sampler(pin, 100, (r) => results.push(r));
    await s.open();
    s.start();
    for (let i = 1; i <= 6; i++) {
      updateMap(work, pin, [[leHex(0, 4), leHex(i * 1000, 8)]]);
      await sleep(120);
    }
    const loops = () => processes((argv) => argv.includes(DUMP_LOOP_NAME) && argv.includes(pin));
    assert.equal(loops().length, 1, 'one loop on the target, not a process per sample');
    await s.stop();
    const taken = results.length;
    assert.ok(taken >= 3, `${taken} samples in 720 ms at 100 ms`);
    assert.ok(results.every((r) => r.error === undefined && r.entries === 2), JSON.stringify(results));
    assert.equal(s.store.length, taken);
    const values = s.store.values(s.store.key('00000000')!, { field: 0 }).filter((v): v is number => v !== null);
    assert.ok(values.every((v, i) => i === 0 || v >= values[i - 1]), `rising: ${values.join(', ')}`);
    assert.ok(values[values.length - 1] > values[0], `rose: ${values.join(', ')}`);
    const rates = s.store.rates(s.store.key('00000000')!, { field: 0 }).filter((r): r is number => r !== null);
    assert.ok(rates.some((r) => r > 0), `some rate above 0: ${rates.join(', ')}`);
    await sleep(300);
    assert.equal(results.length, taken, 'no sample after stop()');
    assert.deepEqual(loops(), [], 'the loop is gone');
    assert.deepEqual(bpftoolProcesses(pin), []);

    // The pin goes away while sampling: each sample says why, records nothing, and the loop keeps going.
    results.length = 0;
    s.start();
    await waitFor(() => results.length >= 1, 5000);
    fs.rmSync(pin);
    await waitFor(() => results.some((r) => r.error), 5000);
    await s.stop();
    const failed = results.find((r) => r.error)!;
    assert.match(failed.error!, /No such file or directory/);
    assert.equal(failed.entries, 0);
    assert.equal(s.store.length, taken + results.filter((r) => !r.error).length, 'failed samples record nothing');
    const once = await s.sampleOnce();
    assert.match(once.error ?? '', /No such file or directory/);
  });

  it('costs little CPU: a 1,000-entry BTF map sampled by the loop (this process, the shell and bpftool)', async function () {
    this.timeout(60_000);
    const pin = loadBtfMap(work, bpffs.dir, 'watch_cost', 'struct { __uint(type, 1); __uint(max_entries, 1024); __type(key, __u32); __type(value, __u64); } watch_cost SEC(".maps");');
    updateMap(work, pin, Array.from({ length: 1000 }, (_, i) => [leHex(i, 4), leHex(i * 1500, 8)] as const));
    let samples = 0;
    const s = sampler(pin, 100, (r) => {
      assert.equal(r.entries, 1000, r.error);
      samples++;
    });
    await s.open();
    const before = cpuTimeMs();
    s.start();
    await waitFor(() => samples >= 20, 30_000);
    // The loop's shell and its bpftool runs are counted once reaped: after stop().
    await s.stop();
    const after = cpuTimeMs();
    const perSampleMs = (after.self - before.self + after.children - before.children) / samples;
    console.log(`      (CPU per sample of 1,000 entries, start-up included: ${perSampleMs.toFixed(1)} ms, i.e. ${(perSampleMs / 10).toFixed(2)}% of a core at 1 Hz)`);
    // The bench measures the 1% budget at 1 Hz over 30 s; this is a sane bound that a busy test machine still meets.
    assert.ok(perSampleMs < 25, `${perSampleMs.toFixed(1)} ms of CPU per sample`);
    assert.equal(s.store.keyCount, 1000);
  });

  it('samples over SSH the same way: one loop on the target, stopped with the run', async function () {
    requireOrSkip(this, sshdAvailable(), 'sshd is not installed (apt-get install openssh-server)');
    requireOrSkip(this, hasCommand('ssh'), 'the ssh client is not installed (apt-get install openssh-client)');
    this.timeout(60_000);
    const sshd = await startSshd();
    const remote = new SshTarget(sshTargetConfig(sshd));
    try {
      const pin = path.join(bpffs.dir, 'watch_ssh');
      bpftoolSync('map', 'create', pin, 'type', 'hash', 'key', '4', 'value', '8', 'entries', '4', 'name', 'watch_ssh');
      updateMap(work, pin, [[leHex(3, 4), leHex(10, 8)]]);
      const results: SampleResult[] = [];
      const s = new MapSampler(remote, pin, { intervalMs: 200, onSample: (r) => results.push(r) });
      samplers.push(s);
      assert.equal((await s.open()).type, 'hash');
      s.start();
      await waitFor(() => results.length >= 2, 20_000);
      updateMap(work, pin, [[leHex(3, 4), leHex(500, 8)]]);
      const seen = results.length;
      await waitFor(() => results.length >= seen + 2, 20_000);
      await s.stop();
      assert.ok(results.every((r) => r.error === undefined && r.entries === 1), JSON.stringify(results));
      const values = s.store.values(s.store.key('03000000')!, { field: 0 });
      assert.equal(values[0], 10);
      assert.equal(values[values.length - 1], 500);
      assert.ok(await waitFor(() => processes((argv) => argv.includes(DUMP_LOOP_NAME) && argv.includes(pin)).length === 0, 5000), 'the remote loop is gone');
    } finally {
      await remote.dispose();
      await sshd.stop();
    }
  });
});
