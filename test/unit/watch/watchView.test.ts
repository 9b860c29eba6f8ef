import * as assert from 'node:assert/strict';
import { SampleStore } from '../../../src/core/maps/watch/sampleStore';
import { DEFAULT_CHARTED, MAX_ROWS, watchState, type ViewOptions } from '../../../src/core/maps/watch/watchView';

const OPTIONS: ViewOptions = { title: 'bytecount/bytecount_map', path: '/sys/fs/bpf/x', mapType: 'hash', perCpu: false, status: 'sampling', intervalMs: 1000, lastDumpMs: 3, selected: null };

function filled(keys: number, samples: number): SampleStore {
  const store = new SampleStore(10);
  for (let s = 0; s < samples; s++) {
    store.add(s * 1000, Array.from({ length: keys }, (_, k) => ({ id: `k${k}`, label: () => `key ${k}`, value: { fields: [''], values: [k * (s + 1)] } })));
  }
  return store;
}

describe('watch: the state the webview draws', () => {
  it('charts the largest series by default, with values, rates and times in seconds', () => {
    const state = watchState(filled(8, 3), OPTIONS);
    assert.equal(state.charted.length, DEFAULT_CHARTED);
    assert.deepEqual(state.charted.map((s) => s.label), ['key 7', 'key 6', 'key 5', 'key 4', 'key 3']);
    assert.deepEqual(state.charted[0].values, [7, 14, 21]);
    assert.deepEqual(state.charted[0].rates, [null, 7, 7]);
    assert.deepEqual(state.times, [0, 1, 2]);
    assert.equal(state.chosen, false);
    assert.deepEqual(state.rows[0], { id: 'k7/0', label: 'key 7', latest: 21, rate: 7 });
    assert.equal(state.perCpuChart, undefined);
    assert.deepEqual([state.samples, state.keys, state.capacity], [3, 8, 10]);
  });

  it('charts the chosen series, in the order chosen, ignoring ids that are gone', () => {
    const state = watchState(filled(4, 2), { ...OPTIONS, selected: ['k1/0', 'gone/0', 'k0/0'] });
    assert.deepEqual(state.charted.map((s) => s.id), ['k1/0', 'k0/0']);
    assert.equal(state.chosen, true);
  });

  it('caps the table', () => {
    const store = new SampleStore(2);
    store.add(0, Array.from({ length: MAX_ROWS + 50 }, (_, k) => ({ id: `k${k}`, label: () => `key ${k}`, value: { fields: [''], values: [k] } })));
    assert.equal(watchState(store, OPTIONS).rows.length, MAX_ROWS);
  });

  it('per-CPU maps: the first charted series per CPU, with the sum line', () => {
    const store = new SampleStore(5);
    store.add(0, [{ id: 'a', label: () => 'identity 1', value: { fields: [''], perCpu: { cpus: [0, 1], values: [[1], [2]] } } }]);
    store.add(1000, [{ id: 'a', label: () => 'identity 1', value: { fields: [''], perCpu: { cpus: [0, 1], values: [[4], [2]] } } }]);
    const state = watchState(store, { ...OPTIONS, perCpu: true, error: 'x' });
    assert.deepEqual(state.perCpuChart, {
      id: 'a/0',
      label: 'identity 1',
      cpus: [
        { cpu: 0, values: [1, 4] },
        { cpu: 1, values: [2, 2] },
      ],
      sum: [3, 6],
    });
    assert.equal(state.error, 'x');
  });
});
