import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  bpftoolError,
  littleEndian,
  parseDumpEntry,
  parseHexBytes,
  parseMapDump,
  parseMapList,
  parseMapShow,
  parseProgArrayDump,
  parseProgShow,
} from '../../../src/core/maps/bpftoolJson';
import { JsonArrayStream } from '../../../src/core/maps/jsonArrayStream';
import { mapOwner, sumFormatted, toMapEntry } from '../../../src/core/maps/maps';
import { callsMapMismatch } from '../../../src/core/endpoints/slots';

// Real `bpftool -j` output captured on kernel 6.18 with bpftool 7.1.
const FIXTURES = path.resolve(__dirname, '../../../../test/unit/maps/fixtures');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const ALL = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

const GARBAGE = ['', ' ', 'garbage', 'null', 'true', '0', '"x"', '[', ']', '{', '}', '[{]', '{"id":', '\u0000\u0001', '[null]', '[1,2,3]', '{"id":-1}', '{"id":"1","type":"hash"}', '[{"key":"00"}]', '[{"key":["0x1ff"],"value":[]}]', '[{"key":["0x01"]}]', '{"error":42}', 'Error: something\n'];

describe('bpftool JSON parsers', () => {
  it('parse map show (prog_array and BTF hash)', () => {
    const calls = parseMapShow(fixture('map-show-prog-array.json'));
    assert.ok(calls.ok);
    assert.equal(calls.value.type, 'prog_array');
    assert.equal(calls.value.name, 'cilium_calls_cu');
    assert.equal(calls.value.maxEntries, 4);
    assert.equal(callsMapMismatch(calls.value), undefined);
    const hash = parseMapShow(fixture('map-show-hash-btf.json'));
    assert.ok(hash.ok);
    assert.deepEqual([hash.value.type, hash.value.keySize, hash.value.valueSize, hash.value.maxEntries, hash.value.btfId], ['hash', 4, 8, 1024, 3181]);
    assert.match(callsMapMismatch(hash.value)!, /type hash \(expected prog_array\)/);
  });

  it('parse the whole map list with its pins (bpftool -j -f map show): a map pinned twice keeps both paths', () => {
    const listed = parseMapList(fixture('map-list-pinned.json'));
    assert.ok(listed.ok);
    assert.deepEqual(
      listed.value.map((m) => [m.name, m.type, m.pinned]),
      [
        ['counts', 'hash', ['/sys/fs/bpf/ccp-fixture/a/counts', '/sys/fs/bpf/ccp-fixture/b/counts_again']],
        ['calls', 'prog_array', ['/sys/fs/bpf/ccp-fixture/b/calls']],
      ],
    );
    // An odd entry is skipped, not the listing; an error object or garbage is the listing's problem.
    const odd = parseMapList(`[{"id": 1}, ${JSON.stringify(JSON.parse(fixture('map-list-pinned.json'))[1])}]`);
    assert.ok(odd.ok);
    assert.deepEqual(odd.value.map((m) => m.name), ['calls']);
    const error = parseMapList('{"error": "can\'t get next map: Operation not permitted"}');
    assert.ok(!error.ok);
    assert.match(error.error, /bpftool map show: can't get next map: Operation not permitted/);
    for (const text of GARBAGE) {
      const garbage = parseMapList(text);
      assert.ok(!garbage.ok || garbage.value.length === 0, `${JSON.stringify(text)} gave maps`);
    }
  });

  it('turns bpftool error objects into clear errors', () => {
    const enoent = parseMapShow(fixture('map-show-error-enoent.json'));
    assert.ok(!enoent.ok);
    assert.match(enoent.error, /No such file or directory/);
    const prog = parseMapShow(fixture('map-show-error-prog.json'));
    assert.ok(!prog.ok);
    assert.match(prog.error, /incorrect object type: prog/);
    assert.match(bpftoolError(fixture('map-dump-error-dir.json'))!, /Permission denied/);
    const dump = parseMapDump(fixture('map-dump-error-dir.json'));
    assert.ok(!dump.ok && /Permission denied/.test(dump.error));
  });

  it('parse prog show', () => {
    const prog = parseProgShow(fixture('prog-show-sched-cls.json'));
    assert.ok(prog.ok);
    assert.deepEqual(prog.value, { id: 1865, type: 'sched_cls', name: 'custom_hook', tag: '0bb9eaf8494b2b2d', loadedAt: 1795432459, mapIds: [451] });
  });

  it('parse a prog_array dump into slot -> program id', () => {
    const slots = parseProgArrayDump(fixture('map-dump-prog-array.json'));
    assert.ok(slots.ok);
    assert.deepEqual([...slots.value], [[0, 1865], [3, 1865]]);
    const empty = parseProgArrayDump('[]');
    assert.ok(empty.ok && empty.value.size === 0);
    assert.ok(!parseProgArrayDump(fixture('map-dump-hash-btf.json')).ok, 'an 8-byte value is not a prog_array slot');
  });

  it('parse BTF-formatted, hex-only and per-CPU dumps', () => {
    const hash = parseMapDump(fixture('map-dump-hash-btf.json'));
    assert.ok(hash.ok);
    const entries = hash.value.map(toMapEntry);
    assert.deepEqual(entries[1].key, { hex: '07 00 00 00', integer: '7', formatted: 7 });
    assert.deepEqual(entries[1].value, { hex: '64 00 00 00 00 00 00 00', integer: '100', formatted: 100 });
    // 2^56 + 256 does not fit a double exactly: the integer is kept exact as text.
    assert.equal(entries[0].value?.integer, '72057594037928192');

    const pcpu = parseMapDump(fixture('map-dump-percpu-btf.json'));
    assert.ok(pcpu.ok);
    const [e] = pcpu.value.map(toMapEntry);
    assert.equal(e.value, undefined);
    assert.deepEqual(e.perCpu?.map((c) => [c.cpu, c.value.integer, c.value.formatted]), [[0, '100', 100], [1, '100', 100]]);
    assert.deepEqual(e.sum, { integer: '200', formatted: 200 });

    const nobtf = parseMapDump(fixture('map-dump-percpu-array-nobtf.json'));
    assert.ok(nobtf.ok);
    const plain = nobtf.value.map(toMapEntry);
    assert.equal(plain.length, 2);
    assert.equal(plain[1].key.formatted, undefined);
    assert.deepEqual(plain[1].sum, { integer: '0' });
  });

  it('sums formatted per-CPU structs field by field', () => {
    assert.deepEqual(sumFormatted([{ a: 1, b: { c: 2 } }, { a: 3, b: { c: 4 } }]), { a: 4, b: { c: 6 } });
    assert.equal(sumFormatted([1, 'x']), undefined);
    assert.equal(sumFormatted([]), undefined);
  });

  it('hex helpers', () => {
    assert.deepEqual(parseHexBytes(['0x00', '0xff', '0x7']), [0, 255, 7]);
    for (const bad of [['0x100'], ['ff'], [1], 'x', null, [null]]) assert.equal(parseHexBytes(bad), undefined);
    assert.equal(littleEndian([0x49, 0x07, 0, 0]), 1865n);
  });

  it('never throw on garbage', () => {
    for (const text of GARBAGE) {
      for (const parse of [parseMapShow, parseProgShow, parseMapDump, parseProgArrayDump]) {
        const result = parse(text);
        assert.equal(typeof result.ok, 'boolean');
        if (!result.ok) assert.ok(result.error.length > 0);
      }
      assert.doesNotThrow(() => parseDumpEntry(text));
      assert.doesNotThrow(() => bpftoolError(text));
    }
    for (const value of [undefined, null, 1, 'x', [], {}, { key: [] }, { key: ['0x00'], values: [{}] }, { key: ['0x00'], values: 'x' }]) {
      const entry = parseDumpEntry(value);
      if (entry.ok) assert.ok(Array.isArray(entry.value.key));
    }
  });

  it('never throw on mutated real output (truncation, byte flips, deletions)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = '{}[]",:0x-9aZ \\\n\u0000';
    for (const name of ALL) {
      const text = fixture(name);
      const variants: string[] = [];
      for (let cut = 0; cut < text.length; cut += 7) variants.push(text.slice(0, cut));
      for (let i = 0; i < 300; i++) {
        const at = Math.floor(random() * text.length);
        const ch = alphabet[Math.floor(random() * alphabet.length)];
        variants.push(random() < 0.5 ? text.slice(0, at) + ch + text.slice(at + 1) : text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 5)));
      }
      for (const v of variants) {
        for (const parse of [parseMapShow, parseProgShow, parseMapDump, parseProgArrayDump]) {
          let result;
          assert.doesNotThrow(() => (result = parse(v)), `${name}: ${JSON.stringify(v)}`);
          assert.ok(result);
        }
        const parsed = parseMapDump(v);
        if (parsed.ok) assert.doesNotThrow(() => parsed.value.map(toMapEntry));
        const stream = new JsonArrayStream(() => undefined);
        assert.doesNotThrow(() => stream.push(v));
      }
    }
  });

  it('classifies owners', () => {
    assert.equal(mapOwner('/sys/fs/bpf/cilium-custom/bytecount/maps/bytecount_map', '/sys/fs/bpf/cilium-custom'), 'ours');
    assert.equal(mapOwner('/sys/fs/bpf/tc/globals/cilium_calls_custom_00042', '/sys/fs/bpf/cilium-custom'), 'cilium');
    assert.equal(mapOwner('/sys/fs/bpf/cilium-custom-verify-1/x', '/sys/fs/bpf/cilium-custom'), 'other');
    assert.equal(mapOwner('/sys/fs/bpf/tc/globals/other_map', '/sys/fs/bpf/cilium-custom'), 'other');
  });
});

describe('JsonArrayStream', () => {
  it('splits a streamed array into elements whatever the chunk boundaries', () => {
    const text = fixture('map-dump-hash-btf.json') + '\n';
    const expected = (JSON.parse(text) as unknown[]).map((e) => JSON.stringify(e));
    for (const size of [1, 2, 3, 7, 64, text.length]) {
      const seen: string[] = [];
      const stream = new JsonArrayStream((t) => seen.push(JSON.stringify(JSON.parse(t))));
      for (let i = 0; i < text.length; i += size) stream.push(text.slice(i, i + size));
      assert.deepEqual(seen, expected, `chunk size ${size}`);
      assert.ok(stream.done);
      assert.equal(stream.error, null);
    }
  });

  it('handles strings with brackets, commas and escapes, empty arrays and garbage', () => {
    const seen: string[] = [];
    const s = new JsonArrayStream((t) => seen.push(t));
    s.push('[ {"a":"],[\\"{"} , [1,[2]], "x\\\\" ]');
    assert.deepEqual(seen, ['{"a":"],[\\"{"}', '[1,[2]]', '"x\\\\"']);
    const empty = new JsonArrayStream(() => assert.fail('no element'));
    empty.push('[]');
    assert.ok(empty.done);
    const bad = new JsonArrayStream(() => undefined);
    bad.push('{"error":"x"}');
    assert.match(bad.error!, /expected a JSON array/);
    const unbalanced = new JsonArrayStream(() => undefined);
    unbalanced.push('[}]');
    assert.match(unbalanced.error!, /unbalanced/);
  });
});
