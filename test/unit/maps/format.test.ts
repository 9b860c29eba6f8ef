// How map entries and map rows read in the Pinned Maps view (src/core/maps/format.ts), on real `bpftool -j map dump`
// output (test/unit/maps/fixtures) and on BTF shapes written here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDumpEntry, parseMapDump } from '../../../src/core/maps/bpftoolJson';
import { formatBtf, formatEntry, formatMapValue, mapLabel, mapLabels, needsTypeNames, parseBtfTypeName } from '../../../src/core/maps/format';
import { toMapEntry, type MapEntry } from '../../../src/core/maps/maps';

const FIXTURES = path.resolve(__dirname, '../../../../test/unit/maps/fixtures');
const dump = (name: string): MapEntry[] => {
  const parsed = parseMapDump(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
  assert.ok(parsed.ok);
  return parsed.value.map(toMapEntry);
};
const entry = (json: unknown): MapEntry => {
  const parsed = parseDumpEntry(json);
  assert.ok(parsed.ok, JSON.stringify(json));
  return toMapEntry(parsed.value, 0);
};

describe('map entry formatting', () => {
  it('struct keys and values read by field name: identity 12345 → bytes 2840', () => {
    const e = entry({
      key: ['0x39', '0x30', '0x00', '0x00'],
      value: ['0x18', '0x0b', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00'],
      formatted: { key: { identity: 12345 }, value: { bytes: 2840 } },
    });
    assert.deepEqual(formatEntry(e), { label: 'identity 12345 → bytes 2840' });
    assert.equal(needsTypeNames([e]), false, 'field names say it all');
    assert.equal(formatBtf({ len: 1, addr: [10, 0, 0, 1], inner: { a: 1, b: 'x' } }), 'len 1, addr [10, 0, 0, 1], inner {a 1, b "x"}');
  });

  it('BTF scalars read after the type names the map was declared with', () => {
    const [big, small] = dump('map-dump-hash-btf.json');
    assert.equal(needsTypeNames([small!]), true);
    assert.deepEqual(formatEntry(small!, { key: '__u32', value: '__u64' }), { label: '__u32 7 → __u64 100' });
    assert.deepEqual(formatEntry(small!), { label: '7 → 100' }, 'no names known: the numbers alone');
    // 2^56 + 256 does not fit a JSON number: taken from the bytes, exactly.
    assert.deepEqual(formatEntry(big!, { key: '__u32', value: '__u64' }), { label: '__u32 42 → __u64 72057594037928192' });
  });

  it('per-CPU maps: the sum after the arrow, each CPU in the description', () => {
    const [e] = dump('map-dump-percpu-btf.json');
    assert.deepEqual(formatEntry(e!, { key: '__u32', value: '__u64' }), { label: '__u32 7 → Σ __u64 200', description: 'cpu0 100, cpu1 100' });
    const struct = entry({
      key: ['0x00', '0x00', '0x00', '0x00'],
      values: [0, 1].map((cpu) => ({ cpu, value: ['0x01', '0x00', '0x00', '0x00', '0x02', '0x00', '0x00', '0x00'] })),
      formatted: { key: 0, values: [0, 1].map((cpu) => ({ cpu, value: { len: 1, stages: 2 } })) },
    });
    assert.deepEqual(formatEntry(struct, { key: '__u32', value: 'struct ctx' }), { label: '__u32 0 → Σ len 2, stages 4', description: 'cpu0 {len 1, stages 2}, cpu1 {len 1, stages 2}' });
    const [raw] = dump('map-dump-percpu-array-nobtf.json');
    const text = formatEntry(raw!);
    assert.match(text.label, /^00 00 00 00 \(0\) → Σ \d+$/);
    assert.match(text.description!, /^cpu0 [0-9a-f ]+ \(\d+\)/);
  });

  it('falls back to hex (with the little-endian integer when there is one) without BTF', () => {
    const [slot] = dump('map-dump-prog-array.json');
    assert.match(formatEntry(slot!).label, /^00 00 00 00 \(0\) → [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} \(\d+\)$/);
    assert.equal(formatMapValue({ hex: '01 02 03', integer: null }), '01 02 03');
  });

  it('reads the type name from `bpftool -j btf dump map ... key|value`', () => {
    assert.equal(parseBtfTypeName('{"types":[{"id":6,"kind":"TYPEDEF","name":"__u32","type_id":7}]}'), '__u32');
    assert.equal(parseBtfTypeName('{"types":[{"id":21,"kind":"STRUCT","name":"tail_context","size":24,"vlen":0,"members":[]}]}'), 'struct tail_context');
    assert.equal(parseBtfTypeName('{"types":[{"id":7,"kind":"INT","name":"unsigned int","size":4}]}'), 'unsigned int');
    for (const garbage of ['', 'x', '{}', '{"types":[]}', '{"types":[{"kind":"STRUCT","name":"(anon)"}]}', '{"types":[{"kind":"PTR","name":"(anon)"}]}',
      '{"error":"can\'t get BTF object by id (0): No such file or directory"},{"error":"get btf by id (0)"}']) {
      assert.equal(parseBtfTypeName(garbage), undefined, garbage);
    }
  });
});

describe('map row labels', () => {
  it('the pin folder and name, without our layout\'s maps/ folder', () => {
    assert.equal(mapLabel('/sys/fs/bpf/cilium-custom/bytecount/maps/bytecount_map'), 'bytecount/bytecount_map');
    assert.equal(mapLabel('/sys/fs/bpf/tc/globals/cilium_calls_custom_04242'), 'globals/cilium_calls_custom_04242');
    assert.equal(mapLabel('/sys/fs/bpf/cilium-custom-verify-1-abc/tail_progs'), 'cilium-custom-verify-1-abc/tail_progs');
  });

  it('two maps of one name read apart, with more of the path where the folders match too', () => {
    const labels = mapLabels([
      '/sys/fs/bpf/cilium-custom/bytecount/maps/bytecount_map',
      '/sys/fs/bpf/cilium-custom/other/maps/bytecount_map',
      '/sys/fs/bpf/a/x/m',
      '/sys/fs/bpf/b/x/m',
      '/sys/fs/bpf/tc/globals/cilium_calls_custom_04242',
    ]);
    assert.deepEqual([...labels.values()], ['bytecount/bytecount_map', 'other/bytecount_map', 'a/x/m', 'b/x/m', 'globals/cilium_calls_custom_04242']);
    assert.equal(new Set(labels.values()).size, labels.size);
  });
});
