import * as assert from 'node:assert/strict';
import { CSV_HEADER, csvCell, samplesToCsv } from '../../../src/core/maps/watch/csv';
import { SampleStore } from '../../../src/core/maps/watch/sampleStore';

describe('watch: CSV export', () => {
  it('one row per sample, key and field, with the rate since the sample before', () => {
    const store = new SampleStore(5);
    store.add(Date.UTC(2026, 0, 1, 0, 0, 0), [{ id: '07000000', label: () => '__u32 7', value: { fields: [''], values: [100] } }]);
    store.add(Date.UTC(2026, 0, 1, 0, 0, 2), [{ id: '07000000', label: () => '__u32 7', value: { fields: [''], values: [300] } }]);
    assert.equal(
      samplesToCsv(store),
      [CSV_HEADER, '2026-01-01T00:00:00.000Z,1767225600000,__u32 7,value,,100,', '2026-01-01T00:00:02.000Z,1767225602000,__u32 7,value,,300,100', ''].join('\n'),
    );
  });

  it('per-CPU maps: a sum row and a row per CPU; struct fields by name', () => {
    const store = new SampleStore(5);
    store.add(0, [{ id: 'k', label: () => 'identity 1, port 80', value: { fields: ['packets'], perCpu: { cpus: [0, 3], values: [[1], [2]] } } }]);
    const lines = samplesToCsv(store).trim().split('\n');
    assert.deepEqual(lines.slice(1), [
      '1970-01-01T00:00:00.000Z,0,"identity 1, port 80",packets,sum,3,',
      '1970-01-01T00:00:00.000Z,0,"identity 1, port 80",packets,0,1,',
      '1970-01-01T00:00:00.000Z,0,"identity 1, port 80",packets,3,2,',
    ]);
  });

  it('quotes cells (RFC 4180) and defuses text a spreadsheet would run as a formula', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('@cmd'), "'@cmd");
    assert.equal(csvCell('-5', true), '-5', 'numbers stay numbers');
  });

  it('an empty store is the header alone', () => {
    assert.equal(samplesToCsv(new SampleStore(3)), `${CSV_HEADER}\n`);
  });
});
