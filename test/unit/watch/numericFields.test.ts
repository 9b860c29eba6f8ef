import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseMapDump, type HexEntry } from '../../../src/core/maps/bpftoolJson';
import { numericValue, SCALAR_FIELD, sumOverCpus } from '../../../src/core/maps/watch/numericFields';

// Real `bpftool -j map dump` output (test/unit/maps/fixtures).
const FIXTURES = path.resolve(__dirname, '../../../../test/unit/maps/fixtures');
function dump(name: string): HexEntry[] {
  const parsed = parseMapDump(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
  assert.ok(parsed.ok);
  return parsed.value;
}

describe('watch: the numbers of a map value', () => {
  it('a BTF scalar value is one number', () => {
    const [entry] = dump('map-dump-hash-btf.json');
    const n = numericValue(entry);
    assert.deepEqual(n.fields, [SCALAR_FIELD]);
    assert.equal(n.values?.length, 1);
    assert.equal(n.perCpu, undefined);
  });

  it('a value without BTF is its little-endian integer when it is 1, 2, 4 or 8 bytes', () => {
    assert.deepEqual(numericValue({ key: [1, 0, 0, 0], value: [0x10, 0x27, 0, 0, 0, 0, 0, 0] }), { fields: [''], values: [10000] });
    assert.deepEqual(numericValue({ key: [1], value: [1, 2, 3] }), { fields: [], values: [] }, 'a 3-byte value has no number');
  });

  it('a BTF struct gives one number per numeric leaf, named by its path; strings and booleans are left out', () => {
    const entry: HexEntry = {
      key: [1, 0, 0, 0],
      value: new Array<number>(40).fill(0),
      formatted: { key: 1, value: { packets: 3, bytes: 420, name: 'x', flag: true, inner: { drops: 1 }, slots: [5, 6] } },
    };
    assert.deepEqual(numericValue(entry), { fields: ['packets', 'bytes', 'inner.drops', 'slots[0]', 'slots[1]'], values: [3, 420, 1, 5, 6] });
  });

  it('per-CPU values, with and without BTF, per CPU in bpftool order', () => {
    const [withBtf] = dump('map-dump-percpu-btf.json');
    assert.deepEqual(numericValue(withBtf), { fields: [''], perCpu: { cpus: [0, 1], values: [[100], [100]] } });
    const [noBtf] = dump('map-dump-percpu-array-nobtf.json');
    assert.deepEqual(numericValue(noBtf), { fields: [''], perCpu: { cpus: [0, 1], values: [[0], [0]] } });
  });

  it('sums per field over CPUs', () => {
    assert.deepEqual(sumOverCpus([[1, 10], [2, 20], [3, 30]], 2), [6, 60]);
    assert.deepEqual(sumOverCpus([], 1), [0]);
  });
});
