import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDumpEntry } from '../../../src/core/maps/bpftoolJson';
import { decodeDumpElement } from '../../../src/core/maps/watch/dumpElement';
import { numericValue } from '../../../src/core/maps/watch/numericFields';

const FIXTURES = path.resolve(__dirname, '../../../../test/unit/maps/fixtures');
const DUMPS = fs.readdirSync(FIXTURES).filter((f) => f.startsWith('map-dump-') && !f.includes('error'));

describe('watch: reading one dump element fast', () => {
  it('gives the same key and numbers as parseDumpEntry + numericValue on real bpftool output', () => {
    let checked = 0;
    for (const file of DUMPS) {
      for (const raw of JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as unknown[]) {
        const slow = parseDumpEntry(raw);
        assert.ok(slow.ok, file);
        const fast = decodeDumpElement(raw);
        assert.ok(fast, file);
        assert.equal(fast.id, slow.value.key.map((b) => b.toString(16).padStart(2, '0')).join(''), file);
        assert.deepEqual(fast.value, numericValue(slow.value), file);
        checked++;
      }
    }
    assert.ok(checked >= 4, `${checked} entries checked`);
  });

  it('takes the fast path for BTF values (no full parse) and falls back otherwise', () => {
    const btf = decodeDumpElement({ key: ['0x07', '0x00', '0x00', '0x00'], value: ['0x64', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00'], formatted: { key: 7, value: 100 } });
    assert.deepEqual(btf, { id: '07000000', value: { fields: [''], values: [100] } });
    const hex = decodeDumpElement({ key: ['0x0A'], value: ['0x01', '0x01'] });
    assert.equal(hex?.id, '0a');
    assert.deepEqual(hex?.value, { fields: [''], values: [257] });
    assert.ok(hex?.entry, 'the full parse, reused for the label');
  });

  it('refuses what is no map entry', () => {
    for (const raw of [null, 1, 'x', [], {}, { key: 'x' }, { key: ['0x1ff'], value: [] }, { key: ['0x01'] }]) assert.equal(decodeDumpElement(raw), undefined, JSON.stringify(raw));
  });
});
