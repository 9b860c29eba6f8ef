import * as assert from 'node:assert/strict';
import type { NumericValue } from '../../../src/core/maps/watch/numericFields';
import { columnIndex, rate, SampleStore } from '../../../src/core/maps/watch/sampleStore';

const plain = (...values: number[]): NumericValue => ({ fields: values.map((_, i) => (values.length === 1 ? '' : `f${i}`)), values });
const perCpu = (...cpuValues: number[]): NumericValue => ({ fields: [''], perCpu: { cpus: cpuValues.map((_, i) => i), values: cpuValues.map((v) => [v]) } });
const entry = (id: string, value: NumericValue, label = `key ${id}`) => ({ id, label: () => label, value });

describe('watch: the sample store', () => {
  it('keeps values per key aligned with the times, and computes rates per second', () => {
    const store = new SampleStore(10);
    store.add(1000, [entry('a', plain(100))]);
    store.add(2000, [entry('a', plain(300))]);
    store.add(2500, [entry('a', plain(400)), entry('b', plain(7))]);
    const a = store.key('a')!;
    const b = store.key('b')!;
    assert.deepEqual(store.timeline(), [1000, 2000, 2500]);
    assert.deepEqual(store.values(a, { field: 0 }), [100, 300, 400]);
    assert.deepEqual(store.rates(a, { field: 0 }), [null, 200, 200]);
    assert.deepEqual(store.values(b, { field: 0 }), [null, null, 7], 'a key that appears later has gaps before');
    assert.deepEqual(store.latest(a, { field: 0 }), { value: 400, rate: 200 });
    assert.deepEqual(store.latest(b, { field: 0 }), { value: 7, rate: null });
  });

  it('is a ring: the oldest samples go once capacity is reached', () => {
    const store = new SampleStore(3);
    for (let i = 0; i < 7; i++) store.add(i * 1000, [entry('a', plain(i * 10))]);
    assert.equal(store.length, 3);
    assert.deepEqual(store.timeline(), [4000, 5000, 6000]);
    assert.deepEqual(store.values(store.key('a')!, { field: 0 }), [40, 50, 60]);
    assert.deepEqual(store.rates(store.key('a')!, { field: 0 }), [null, 10, 10]);
  });

  it('marks a missing key as a gap and forgets it once it has been absent for the whole ring', () => {
    const store = new SampleStore(3);
    store.add(0, [entry('a', plain(1)), entry('b', plain(2))]);
    store.add(1000, [entry('a', plain(2))]);
    assert.deepEqual(store.values(store.key('b')!, { field: 0 }), [2, null]);
    assert.deepEqual(store.rates(store.key('b')!, { field: 0 }), [null, null]);
    store.add(2000, [entry('a', plain(3))]);
    assert.ok(store.key('b'), 'still held while one of its samples is');
    store.add(3000, [entry('a', plain(4))]);
    assert.equal(store.key('b'), undefined);
    assert.equal(store.keyCount, 1);
  });

  it('formats a key label only the first time it is seen', () => {
    const store = new SampleStore(5);
    let calls = 0;
    const counted = (v: number) => ({ id: 'k', label: () => `label ${++calls}`, value: plain(v) });
    store.add(0, [counted(1)]);
    store.add(1000, [counted(2)]);
    store.add(2000, [counted(3)]);
    assert.equal(calls, 1);
    assert.equal(store.key('k')!.label, 'label 1');
  });

  it('per-CPU keys hold the sum and each CPU, per field', () => {
    const store = new SampleStore(4);
    store.add(0, [entry('a', perCpu(1, 2, 3))]);
    store.add(2000, [entry('a', perCpu(5, 2, 7))]);
    const a = store.key('a')!;
    assert.deepEqual(a.cpus, [0, 1, 2]);
    assert.equal(columnIndex(a, { field: 0 }), 0);
    assert.equal(columnIndex(a, { field: 0, cpu: 2 }), 3);
    assert.deepEqual(store.values(a, { field: 0 }), [6, 14], 'the sum');
    assert.deepEqual(store.values(a, { field: 0, cpu: 0 }), [1, 5]);
    assert.deepEqual(store.values(a, { field: 0, cpu: 2 }), [3, 7]);
    assert.deepEqual(store.rates(a, { field: 0 }), [null, 4]);
  });

  it('struct values keep one column per field', () => {
    const store = new SampleStore(4);
    store.add(0, [entry('a', plain(1, 100))]);
    store.add(1000, [entry('a', plain(2, 300))]);
    const a = store.key('a')!;
    assert.deepEqual(a.fields, ['f0', 'f1']);
    assert.deepEqual(store.values(a, { field: 1 }), [100, 300]);
    assert.deepEqual(store.rates(a, { field: 1 }), [null, 200]);
  });

  it('keeps no key beyond the cell budget, and counts the ones left out', () => {
    const store = new SampleStore(10, 25);
    store.add(0, [entry('a', plain(1)), entry('b', plain(2)), entry('c', plain(3))]);
    assert.equal(store.keyCount, 2, 'two keys of 10 cells fit in 25');
    assert.equal(store.untracked, 1);
  });

  it('skips values with no numbers, and clear() starts over', () => {
    const store = new SampleStore(4);
    store.add(0, [entry('a', { fields: [], values: [] }), entry('b', plain(1))]);
    assert.equal(store.keyCount, 1);
    store.clear();
    assert.deepEqual([store.length, store.keyCount, store.timeline()], [0, 0, []]);
    store.add(5000, [entry('b', plain(9))]);
    assert.deepEqual(store.values(store.key('b')!, { field: 0 }), [9]);
  });

  it('rate() needs two values and time passing', () => {
    assert.equal(rate(1, 3, 0, 500), 4);
    assert.equal(rate(5, 3, 0, 1000), -2, 'a falling value is a negative rate, not hidden');
    assert.equal(rate(null, 3, 0, 1000), null);
    assert.equal(rate(1, 3, 1000, 1000), null);
    assert.throws(() => new SampleStore(1), RangeError);
  });
});

describe('watch: a sample written as it streams', () => {
  it('abandon() leaves the store as before; a sample begun again starts afresh', () => {
    const store = new SampleStore(3);
    store.add(0, [{ id: 'a', label: () => 'a', value: { fields: [''], values: [1] } }]);
    store.begin(1000);
    store.put('a', () => 'a', { fields: [''], values: [99] });
    store.put('new', () => 'new', { fields: [''], values: [5] });
    store.abandon();
    assert.deepEqual([store.length, store.keyCount, store.timeline()], [1, 1, [0]]);
    // A begin() over an unfinished sample drops it first: 'a' is absent from this one, so it is a gap.
    store.begin(2000);
    store.put('a', () => 'a', { fields: [''], values: [50] });
    store.begin(3000);
    store.commit();
    assert.deepEqual(store.values(store.key('a')!, { field: 0 }), [1, null]);
    assert.deepEqual(store.timeline(), [0, 3000]);
  });

  it('a full ring keeps its oldest sample while the next one is written, and after it is abandoned', () => {
    const store = new SampleStore(2);
    store.add(0, [{ id: 'a', label: () => 'a', value: { fields: [''], values: [1] } }]);
    store.add(1000, [{ id: 'a', label: () => 'a', value: { fields: [''], values: [2] } }]);
    store.begin(2000);
    store.put('a', () => 'a', { fields: [''], values: [3] });
    assert.deepEqual(store.values(store.key('a')!, { field: 0 }), [1, 2], 'the held samples are untouched while writing');
    store.abandon();
    assert.deepEqual([store.timeline(), store.values(store.key('a')!, { field: 0 })], [[0, 1000], [1, 2]]);
  });

  it('ignores entries written after clear() (a dump under way when the user cleared)', () => {
    const store = new SampleStore(3);
    store.begin(0);
    store.clear();
    store.put('a', () => 'a', { fields: [''], values: [1] });
    store.commit();
    assert.deepEqual([store.length, store.keyCount], [0, 0]);
  });
});
