// Folding ranges of verifier logs, on corpus logs and synthetic ones.
import * as assert from 'node:assert/strict';
import { computeFoldingRanges, type FoldRange } from '../../../src/extension/verifierLog/logStructure';
import { corpusLog, corpusLogs } from './paths';

const tuples = (ranges: FoldRange[]) => ranges.map((r) => [r.start, r.end, r.kind]);

/** Sorted by start, start < end, and any two ranges are disjoint or nested. */
function assertWellFormed(ranges: FoldRange[], lineCount: number, label: string): void {
  for (let i = 0; i < ranges.length; i++) {
    const a = ranges[i]!;
    assert.ok(a.start < a.end && a.start >= 0 && a.end < lineCount, `${label}: bad range ${JSON.stringify(a)}`);
    if (i > 0) assert.ok(ranges[i - 1]!.start <= a.start, `${label}: not sorted at ${i}`);
    for (let j = 0; j < i; j++) {
      const b = ranges[j]!;
      const disjoint = b.end < a.start || a.end < b.start;
      const nested = (b.start <= a.start && a.end <= b.end) || (a.start <= b.start && b.end <= a.end);
      assert.ok(disjoint || nested, `${label}: ${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`);
    }
  }
}

describe('verifierLog: computeFoldingRanges', () => {
  it('folds the bpftool -d log of corpus 01 (libbpf, load log, live regs, source blocks)', () => {
    const { lines } = corpusLog('01-');
    assert.deepEqual(tuples(computeFoldingRanges(lines)), [
      [0, 21, 'libbpf'], // libbpf: loading … map 'counts': created successfully
      [22, 51, 'loadLog'], // -- BEGIN PROG LOAD LOG -- … (END stays visible)
      [24, 35, 'liveRegs'], // Live regs before insn: + 11 rows
      [37, 40, 'source'], // ; __u32 key = skb->len; … 2: (bf) r2 = r10
      [41, 42, 'source'], // ;  @ …:0 / 3: (07) r2 += -4
      [43, 45, 'source'], // ; __u64 *val = bpf_map_lookup_elem(…) … 6: call
      [46, 47, 'source'], // ; *val += 1; / 7: (79) … — the error line 48 stays visible
      [53, 54, 'libbpf'], // failed to load: -13 / failed to load object
    ]);
    assert.equal(lines[48], "R0 invalid mem access 'map_value_or_null'");
  });

  it('folds `from X to Y` branches with their source blocks nested inside (corpus 16)', () => {
    const { lines } = corpusLog('16-');
    const ranges = computeFoldingRanges(lines);
    const branches = ranges.filter((r) => r.kind === 'branch');
    assert.deepEqual(tuples(branches), [
      [86, 89, 'branch'], // from 15 to 5: … 6: (95) exit
      [91, 110, 'branch'], // from 2 to 4: … 14: (db) lock … (the error on 111 stays out)
    ]);
    assert.match(lines[86]!, /^from 15 to 5:/);
    assert.match(lines[91]!, /^from 2 to 4:/);
    assert.match(lines[111]!, /^R0 invalid mem access/);
    // The source block of `; __sync_fetch_and_add(v, 1);` ends with the branch, before the error.
    assert.deepEqual(tuples(ranges.filter((r) => r.start === 109)), [[109, 110, 'source']]);
    // `; return 0;` runs through the liveness notes and the returning-from-callee state.
    assert.deepEqual(tuples(ranges.filter((r) => r.start === 76)), [[76, 84, 'source']]);
    // A source block that goes through caller:/callee: state lines and mark_precise lines.
    assert.deepEqual(tuples(ranges.filter((r) => r.start === 54 || r.start === 61)), [
      [54, 60, 'source'],
      [61, 67, 'source'],
    ]);
    assertWellFormed(ranges, lines.length, '16');
  });

  it('keeps ranges well-formed on every corpus log, and never folds the error line into a trace block', () => {
    const logs = corpusLogs();
    assert.ok(logs.length >= 20, `expected the corpus, found ${logs.length} logs`);
    for (const log of logs) {
      const ranges = computeFoldingRanges(log.lines);
      assertWellFormed(ranges, log.lines.length, log.name);
      if (!log.finalErrorLine) continue;
      const errorIndex = log.lines.findIndex((line) => line.includes(log.finalErrorLine!));
      if (errorIndex < 0) continue;
      for (const r of ranges.filter((x) => x.kind === 'source' || x.kind === 'branch')) {
        assert.ok(
          errorIndex <= r.start || errorIndex > r.end,
          `${log.name}: error line ${errorIndex} hidden by ${JSON.stringify(r)}`,
        );
      }
    }
  });

  it('folds an unterminated load log and a log without line info', () => {
    const lines = [
      "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --",
      '0: R1=ctx(off=0,imm=0) R10=fp0',
      '0: (b7) r0 = 0',
      '1: (95) exit',
      'from 0 to 1: R0_w=0 R10=fp0',
      '1: (95) exit',
      '',
    ];
    assert.deepEqual(tuples(computeFoldingRanges(lines)), [
      [0, 5, 'loadLog'],
      [4, 5, 'branch'],
    ]);
  });

  it('stays linear and caps the number of ranges on huge logs', () => {
    const lines: string[] = [];
    for (let i = 0; i < 250_000; i++) {
      lines.push(`; acc = acc * 31 + i; @ loop.c:${12 + (i % 3)}`, `${i % 8}: (27) r1 *= 31                      ; R1=scalar()`);
    }
    const started = Date.now();
    const ranges = computeFoldingRanges(lines);
    assert.equal(ranges.length, 5000);
    assert.deepEqual(tuples(ranges.slice(0, 2)), [
      [0, 1, 'source'],
      [2, 3, 'source'],
    ]);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.equal(computeFoldingRanges(lines, { maxRanges: 10 }).length, 10);
    // Without the cap the whole log is scanned.
    assert.equal(computeFoldingRanges(lines, { maxRanges: Infinity }).length, 250_000);
  });
});
