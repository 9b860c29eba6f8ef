import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDumpEntry } from '../../../src/core/maps/bpftoolJson';
import { decodeDumpElement, decodeScalarElementText } from '../../../src/core/maps/watch/dumpElement';
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

  it('reads a scalar BTF element from its text exactly as the full parse does, and declines every other shape', () => {
    const texts: string[] = [];
    for (const file of DUMPS) {
      const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8').trim();
      // bpftool's elements, as the entry scanner cuts them out of the array.
      for (const raw of JSON.parse(text) as unknown[]) texts.push(JSON.stringify(raw));
    }
    texts.push(
      '{"key":["0xFF","0x0a"],"value":["0x01"],"formatted":{"key":{"value":3},"value":-12.5e3}}',
      '{"key":["0x01"],"value":["0x01"],"formatted":{"key":1,"value":{"packets":1,"bytes":2}}}',
      '{"key":["0x01"],"value":["0x01"],"formatted":{"key":1,"value":"text"}}',
      '{"key":["0x01"],"value":["0x01"]}',
      '{"key":["0x1"],"value":["0x01"],"formatted":{"key":1,"value":1}}',
      '{"key":["0xzz"],"value":["0x01"],"formatted":{"key":1,"value":1}}',
      '{"key":[],"value":["0x01"],"formatted":{"key":1,"value":1}}',
      '{ "key": ["0x01"], "value": ["0x01"], "formatted": {"key": 1, "value": 1}}',
    );
    let fast = 0;
    for (const text of texts) {
      const quick = decodeScalarElementText(text);
      if (!quick) continue;
      fast++;
      const full = decodeDumpElement(JSON.parse(text));
      assert.ok(full, text);
      assert.deepEqual({ id: quick.id, value: quick.value }, { id: full.id, value: full.value }, text);
    }
    assert.ok(fast >= 3, `${fast} elements took the text path`);
    assert.deepEqual(decodeScalarElementText('{"key":["0xFF","0x0a"],"value":["0x01"],"formatted":{"key":{"value":3},"value":-12.5e3}}'), { id: 'ff0a', value: { fields: [''], values: [-12500] } });
    for (const declined of texts.slice(-7)) assert.equal(decodeScalarElementText(declined), undefined, declined);
  });
});
