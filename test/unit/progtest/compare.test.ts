// Expected against actual (src/core/progtest/compare.ts) and how it reads (report.ts), on bpftool -j map dump
// output as bpftool prints it for the bundled examples' maps; and the runner's output protocol (runnerOutput.ts).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { requireOrSkip } from '../../system/helpers/require';
import { compareMap, mapState, type MapState } from '../../../src/core/progtest/compare';
import { benchTable, caseLines, formatMismatch, reportLines, summaryLine } from '../../../src/core/progtest/report';
import { parseProgRun, parseRunnerOutput } from '../../../src/core/progtest/runnerOutput';
import { MARK, octalEscapes } from '../../../src/core/progtest/runnerScript';
import { median, seedBytes, type CaseResult, type ProgTestResult } from '../../../src/core/progtest/runTests';
import type { MapExpectation } from '../../../src/core/progtest/testFile';

const hex = (n: bigint, size: number) => Array.from({ length: size }, (_, i) => `0x${((n >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')}`);
/** A bytecount_map dump: __u32 identity -> __u64 bytes, with BTF. */
const bytecount = (entries: [number, number][]): MapState => {
  const state = mapState(JSON.stringify(entries.map(([k, v]) => ({ key: hex(BigInt(k), 4), value: hex(BigInt(v), 8), formatted: { key: k, value: v } }))));
  assert.ok(typeof state !== 'string', String(state));
  return state;
};
/** A per-CPU array dump on two CPUs. */
const perCpu = (values: [number, number][]): MapState => {
  const json = values.map(([a, b], k) => ({
    key: hex(BigInt(k), 4),
    values: [
      { cpu: 0, value: hex(BigInt(a), 8) },
      { cpu: 1, value: hex(BigInt(b), 8) },
    ],
    formatted: { key: k, values: [{ cpu: 0, value: a }, { cpu: 1, value: b }] },
  }));
  const state = mapState(JSON.stringify(json));
  assert.ok(typeof state !== 'string');
  return state;
};
const expectation = (e: Partial<MapExpectation>): MapExpectation => ({ entries: [], deltas: [], absent: [], othersUnchanged: true, ...e });

describe('progtest comparison', () => {
  it('passes exact deltas and entries, and leaves untouched keys alone', () => {
    const before = bytecount([[54321, 7]]);
    const after = bytecount([
      [54321, 7],
      [12345, 106],
    ]);
    assert.deepEqual(compareMap('bytecount_map', expectation({ deltas: [{ key: 12345, delta: 106 }], entries: [{ key: 54321, value: 7 }] }), before, after), []);
  });

  it('says expected against actual, with the key as BTF formats it', () => {
    const before = bytecount([]);
    const after = bytecount([[12345, 106]]);
    const diff = compareMap('bytecount_map', expectation({ entries: [{ key: 12345, value: 100 }] }), before, after);
    assert.deepEqual(diff.map(formatMismatch), ['bytecount_map[12345]: expected 100, got 106']);
  });

  it('reports a delta on the wrong key, and the change nobody expected', () => {
    const diff = compareMap('bytecount_map', expectation({ deltas: [{ key: 8, delta: 80 }] }), bytecount([]), bytecount([[7, 80]])).map(formatMismatch);
    assert.deepEqual(diff, ['bytecount_map[8] change: expected +80, got absent after the run', 'bytecount_map[7] (not expected to change): expected absent, got 80']);
    assert.deepEqual(compareMap('bytecount_map', expectation({ deltas: [{ key: 8, delta: 80 }], othersUnchanged: false }), bytecount([]), bytecount([[7, 80]])).length, 1);
  });

  it('shows a wrong delta with the values before and after', () => {
    const diff = compareMap('m', expectation({ deltas: [{ key: 1, delta: 100 }] }), bytecount([[1, 6]]), bytecount([[1, 112]])).map(formatMismatch);
    assert.deepEqual(diff, ['m[1] change: expected +100, got +106 (6 → 112)']);
  });

  it('checks absent keys', () => {
    const diff = compareMap('m', expectation({ absent: [5, 6] }), bytecount([]), bytecount([[5, 1]])).map(formatMismatch);
    assert.deepEqual(diff, ['m[5]: expected absent, got 1']);
  });

  it('compares per-CPU values as their sum', () => {
    const before = perCpu([
      [0, 0],
      [0, 0],
    ]);
    const after = perCpu([
      [0, 0],
      [2, 3],
    ]);
    assert.deepEqual(compareMap('hookcount_map', expectation({ deltas: [{ key: 1, delta: 5 }], entries: [{ key: 1, value: 5 }] }), before, after), []);
    const diff = compareMap('hookcount_map', expectation({ deltas: [{ key: 0, delta: 1 }] }), before, after).map(formatMismatch);
    assert.deepEqual(diff, ['hookcount_map[0] change: expected +1, got +0 (0 → 0)', 'hookcount_map[1] (not expected to change): expected 0, got 5']);
  });

  it('matches BTF struct values field by field (only the fields given)', () => {
    const dump = JSON.stringify([
      {
        key: hex(0n, 4),
        values: [{ cpu: 0, value: hex(0n, 24) }],
        formatted: { key: 0, values: [{ cpu: 0, value: { len: 106, identity: 12345, ret: 2, protocol: 8, pad1: 0, stages: 7 } }] },
      },
    ]);
    const state = mapState(dump) as MapState;
    assert.deepEqual(compareMap('tail_context_map', expectation({ entries: [{ key: 0, value: { ret: 2, stages: 7 } }] }), state, state), []);
    const diff = compareMap('tail_context_map', expectation({ entries: [{ key: 0, value: { ret: 0, stages: 7 } }] }), state, state).map(formatMismatch);
    assert.equal(diff.length, 1);
    assert.match(diff[0], /^tail_context_map\[0\]: expected ret 0, stages 7, got \{?len 106, identity 12345, ret 2/);
  });

  it('matches keys given as hex bytes', () => {
    assert.deepEqual(compareMap('m', expectation({ entries: [{ key: { hex: '39 30 00 00' }, value: 106 }] }), bytecount([]), bytecount([[12345, 106]])), []);
  });

  it('says what is wrong with an unreadable dump', () => {
    assert.match(String(mapState('{"error":"bpf obj get failed"}')), /./);
    assert.equal(typeof mapState(undefined), 'string');
  });
});

describe('progtest report', () => {
  const passed: CaseResult = { name: 'IPv4', packet: 'IPv4 UDP 106 B', ok: true, expectedReturn: 0, returnCode: 0, mismatches: [], bench: { nsPerPacket: 90, rounds: [91, 90, 89], repeat: 1000 } };
  const failed: CaseResult = {
    name: 'wrong',
    packet: 'IPv6 TCP 80 B',
    ok: false,
    expectedReturn: 2,
    returnCode: 0,
    mismatches: [{ what: 'return code', expected: '2', actual: '0' }],
  };
  const result = (cases: CaseResult[], extra: Partial<ProgTestResult> = {}): ProgTestResult =>
    ({ testFile: 't', header: 'h', target: 'local', verify: {} as ProgTestResult['verify'], cases, leftovers: [], durationMs: 1, ...extra }) as ProgTestResult;

  it('prints a TAP-like line per case, the differences under a failure, and the closing count', () => {
    assert.deepEqual(caseLines(failed, 2), ['not ok 2 - wrong (IPv6 TCP 80 B)', '  # return code: expected 2, got 0']);
    assert.deepEqual(reportLines(result([passed, failed])), ['1..2', 'ok 1 - IPv4 (IPv4 UDP 106 B)', 'not ok 2 - wrong (IPv6 TCP 80 B)', '  # return code: expected 2, got 0', '1 passed, 1 failed']);
    assert.equal(summaryLine([passed, passed]), '2 passed, 0 failed');
    assert.deepEqual(caseLines({ ...failed, error: 'the program did not load: x' }, 1).slice(1), ['  # the program did not load: x']);
  });

  it('prints the bench table in ns/packet, or says why there are no timings', () => {
    const table = benchTable(result([passed]));
    assert.match(table[0], /^case\s+packet\s+ns\/packet\s+median of$/);
    assert.match(table[1], /^IPv4\s+IPv4 UDP 106 B\s+90\s+3 rounds x 1000 runs$/);
    assert.deepEqual(benchTable(result([passed], { timingsHidden: 'no timings: TCG' })), ['# no timings: TCG']);
  });

  it('takes the median of the rounds', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 3);
  });
});

describe('progtest runner protocol', () => {
  it('encodes seed integers as 16 little-endian bytes and normalizes hex', () => {
    assert.deepEqual(seedBytes(12345), { mode: 'int', hex: '39 30 00 00 00 00 00 00 00 00 00 00 00 00 00 00' });
    assert.equal(seedBytes('18446744073709551615').hex.startsWith('ff ff ff ff ff ff ff ff 00'), true);
    assert.deepEqual(seedBytes({ hex: '3930 0000' }), { mode: 'hex', hex: '39 30 00 00' });
  });

  for (const shell of ['dash', 'busybox']) {
    it(`octal escapes come back as the same bytes through ${shell}'s printf %b (NUL and 0xff included)`, function () {
      const argv = shell === 'busybox' ? ['busybox', 'sh'] : ['dash'];
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      let out: Buffer;
      try {
        out = execFileSync(argv[0], [...argv.slice(1), '-c', 'printf "%b" "$1"', 'sh', octalEscapes(bytes)]);
      } catch (error) {
        // setup.sh installs both (dash is Debian's sh); a missing one skips loudly, and fails under CI=true.
        requireOrSkip(this, (error as NodeJS.ErrnoException).code !== 'ENOENT', `${shell} is not installed`);
        throw error;
      }
      assert.deepEqual([...out], [...bytes]);
    });
  }

  it('reads the runner output back into cases, maps, runs and failures', () => {
    const text = [
      'noise',
      `${MARK} case 0`,
      `${MARK} map before bytecount_map`,
      '[]',
      `${MARK} run`,
      '{"retval":2,"duration":1663}',
      `${MARK} map after bytecount_map`,
      '[{"key":["0x39","0x30","0x00","0x00"],"value":["0x6a","0x00","0x00","0x00","0x00","0x00","0x00","0x00"]}]',
      `${MARK} bench`,
      '{"retval":2,"duration":90}',
      '',
      `${MARK} case 1`,
      'libbpf: prog: load failed',
      `${MARK} failed load`,
      `${MARK} end`,
    ].join('\n');
    const out = parseRunnerOutput(text);
    assert.equal(out.complete, true);
    assert.equal(out.preamble, 'noise');
    assert.equal(out.cases.length, 2);
    assert.equal(out.cases[0].before.get('bytecount_map'), '[]');
    assert.deepEqual(parseProgRun(out.cases[0].run), { retval: 2, durationNs: 1663 });
    assert.deepEqual(out.cases[0].bench.map(parseProgRun), [{ retval: 2, durationNs: 90 }]);
    assert.deepEqual(out.cases[1].failures, [{ what: 'load', output: '' }]);
    assert.deepEqual(parseProgRun('{"error":"failed to run program: Invalid argument"}'), { error: 'failed to run program: Invalid argument' });
  });
});
