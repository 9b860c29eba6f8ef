// Pinned-map listing and paged dumps on the real kernel, and the attach/detach/endpoints/maps CLI commands.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attach, detach, type AttachRecord } from '../../src/core/attach/attach';
import { callsMapPath } from '../../src/core/ids';
import { dumpMap, listPinnedMaps } from '../../src/core/maps/maps';
import { CustomCallsProblem } from '../../src/core/problem';
import { LocalTarget } from '../../src/core/target';
import { runAttachCli, runDetachCli, runEndpointsCli } from '../../src/cli/attachCli';
import { runMapsCli } from '../../src/cli/mapsCli';
import { copyInto, SDK_DIR, tempDir } from './helpers/fixtures';
import { bpftool, createCallsMap, freeEndpointId, ourBpffsView } from './helpers/callsMap';
import { requireBpf } from './helpers/require';

const BPFFS = '/sys/fs/bpf';
const BYTECOUNT = path.join(SDK_DIR, 'examples', 'bytecount.h');

const ourView = (id: number) => ourBpffsView([id]);

/** Runs a CLI function, capturing what it writes to stdout and stderr. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await fn(), stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

describe('pinned maps (system, real kernel)', function () {
  let tmp: ReturnType<typeof tempDir>;
  let header: string;
  let target: LocalTarget;
  let endpoint: number;
  let removeMap: () => void;
  let record: AttachRecord | undefined;

  before(function () {
    requireBpf(this);
  });

  beforeEach(async () => {
    tmp = tempDir('cilium-custom-maps-');
    header = copyInto(BYTECOUNT, tmp.dir);
    target = new LocalTarget();
    endpoint = freeEndpointId();
    removeMap = createCallsMap(endpoint);
    record = undefined;
  });

  afterEach(async () => {
    if (record) {
      try {
        await detach({ target, endpointId: endpoint, hooks: ['ipv4-ingress'], force: true });
      } catch {
        // Already detached by the test.
      }
      fs.rmSync(record.pinDir, { recursive: true, force: true });
    }
    removeMap();
    await target.dispose();
    tmp.remove();
  });

  it("lists the bytecount map under 'ours' first and dumps a value written by hand, BTF-formatted", async () => {
    record = await attach({ target, input: header, endpointId: endpoint, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR });
    const mapPin = `${record.mapsDir}/bytecount_map`;
    const listed = await listPinnedMaps(target);
    const ours = listed.maps.filter((m) => m.owner === 'ours');
    const mine = ours.find((m) => m.path === mapPin);
    assert.ok(mine, 'bytecount_map listed');
    assert.deepEqual([mine.type, mine.keySize, mine.valueSize, mine.maxEntries, mine.name], ['hash', 4, 8, 1024, 'bytecount_map']);
    assert.equal(listed.maps[0].owner, 'ours', 'ours first');
    const calls = listed.maps.find((m) => m.path === callsMapPath(BPFFS, endpoint));
    assert.equal(calls?.owner, 'cilium');
    assert.ok(!listed.maps.some((m) => m.path === record!.progPin), 'program pins are not maps');

    const empty = await dumpMap(target, mapPin);
    assert.deepEqual([empty.entries, empty.total, empty.hasMore], [[], 0, false]);

    bpftool('map', 'update', 'pinned', mapPin, 'key', '7', '0', '0', '0', 'value', '100', '0', '0', '0', '0', '0', '0', '0');
    const page = await dumpMap(target, mapPin);
    assert.equal(page.btf, true);
    assert.equal(page.total, 1);
    assert.deepEqual(page.entries[0].key, { hex: '07 00 00 00', integer: '7', formatted: 7 });
    assert.deepEqual(page.entries[0].value, { hex: '64 00 00 00 00 00 00 00', integer: '100', formatted: 100 });
  });

  it('pages through a map and stops bpftool after the page', async () => {
    record = await attach({ target, input: header, endpointId: endpoint, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR });
    const mapPin = `${record.mapsDir}/bytecount_map`;
    const batch = path.join(tmp.dir, 'batch');
    fs.writeFileSync(batch, Array.from({ length: 500 }, (_, i) => `map update pinned ${mapPin} key ${i & 255} ${i >> 8} 0 0 value ${i & 255} 0 0 0 0 0 0 0\n`).join(''));
    bpftool('batch', 'file', batch);
    const first = await dumpMap(target, mapPin, { offset: 0, limit: 10 });
    assert.equal(first.entries.length, 10);
    assert.equal(first.hasMore, true);
    assert.equal(first.total, null, 'bpftool was stopped before the end');
    const keys = new Set<string>();
    for (let offset = 0; ; offset += 100) {
      const page = await dumpMap(target, mapPin, { offset, limit: 100 });
      for (const e of page.entries) keys.add(e.key.hex);
      assert.deepEqual(page.entries.map((e) => e.index), Array.from({ length: page.entries.length }, (_, i) => offset + i));
      if (!page.hasMore) {
        assert.equal(page.total, 500);
        break;
      }
    }
    assert.equal(keys.size, 500);
    await assert.rejects(dumpMap(target, '/etc/passwd'), CustomCallsProblem);
    await assert.rejects(dumpMap(target, `${BPFFS}/does-not-exist`), /not a readable pinned map/);
    await assert.rejects(dumpMap(target, mapPin, { limit: 0 }), /invalid limit/);
  });

  it('CLI: attach, endpoints, maps --dump and detach with --json, leaving the bpffs as before', async () => {
    const before = ourView(endpoint);
    const attached = await captured(() => runAttachCli([header, '--endpoint', String(endpoint), '--hook', 'ipv4-ingress', '--hook', 'ipv4-egress', '--json'], new AbortController().signal));
    assert.equal(attached.code, 0, attached.stderr);
    const rec = JSON.parse(attached.stdout) as AttachRecord & { ok: boolean };
    record = rec;
    assert.equal(rec.ok, true);
    assert.deepEqual(rec.hooks.map((h) => h.key), [0, 1]);

    // The same header again: its program is already there (one program per header and endpoint).
    const again = await captured(() => runAttachCli([header, '--endpoint', String(endpoint), '--hook', 'ipv4-ingress'], new AbortController().signal));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`program ${rec.prog.id}, .*the one already loaded for this endpoint`));
    // Another header: the slot is occupied.
    const other = copyInto(header, path.dirname(header), 'other.h');
    const occupied = await captured(() => runAttachCli([other, '--endpoint', String(endpoint), '--hook', 'ipv4-ingress'], new AbortController().signal));
    assert.equal(occupied.code, 1);
    assert.match(occupied.stderr, new RegExp(`ipv4-ingress holds program ${rec.prog.id}.*--replace`));

    const listed = await captured(() => runEndpointsCli(['--json', '--no-cilium'], new AbortController().signal));
    assert.equal(listed.code, 0);
    const ep = (JSON.parse(listed.stdout) as { endpoints: { id: number; slots: { progId: number | null }[] }[] }).endpoints.find((e) => e.id === endpoint);
    assert.deepEqual(ep?.slots.map((s) => s.progId), [rec.prog.id, rec.prog.id, null, null]);

    bpftool('map', 'update', 'pinned', `${rec.mapsDir}/bytecount_map`, 'key', '1', '0', '0', '0', 'value', '42', '0', '0', '0', '0', '0', '0', '0');
    const dumped = await captured(() => runMapsCli(['--dump', `${rec.mapsDir}/bytecount_map`], new AbortController().signal));
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.match(dumped.stdout, /^  1 => 42$/m);

    const text = await captured(() => runMapsCli([], new AbortController().signal));
    assert.match(text.stdout, new RegExp(`^ours .*${rec.mapsDir}/bytecount_map$`, 'm'));

    const detached = await captured(() => runDetachCli(['--endpoint', String(endpoint), '--hook', 'ipv4-ingress', '--hook', 'ipv4-egress', '--json'], new AbortController().signal));
    assert.equal(detached.code, 0, detached.stderr);
    assert.deepEqual(ourView(endpoint), before);

    await assert.rejects(
      captured(() => runDetachCli(['--endpoint', '1; rm -rf /', '--hook', 'ipv4-ingress'], new AbortController().signal)),
      /invalid endpoint id/,
    );
  });
});
