import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseVerifierLog } from '../../../src/core/verifier/parser';
import { resolveLogLocations } from '../../../src/core/verifier/sourceLines';
import type { VerifierLog } from '../../../src/core/verifier/model';
import { loadCorpus, type CorpusCase } from './corpus';

// Loaded at definition time on purpose: a missing corpus must fail the run, not skip it.
const cases = loadCorpus();

function processedCount(statsLine: string): number {
  const m = /processed (\d+) insns/.exec(statsLine);
  assert.ok(m, `sidecar stats_line is not a processed line: ${statsLine}`);
  return Number(m[1]);
}

function checkAgainstSidecar(c: CorpusCase, log: VerifierLog, opts: { locations: boolean }): void {
  const s = c.sidecar;
  assert.equal(log.verdict, s.load_succeeded ? 'accepted' : 'rejected', 'verdict');
  if (s.load_succeeded) {
    assert.equal(log.error, null, 'an accepted log has no error');
  } else {
    assert.ok(log.error, 'a rejected log has an error');
    assert.equal(log.error.message, s.final_error_line, 'message');
    assert.equal(log.error.insn, s.failing_insn_idx ?? null, 'failing insn');
    if (opts.locations) {
      assert.equal(log.error.file, s.source_file ? path.basename(s.source_file) : null, 'file');
      assert.equal(log.error.line, s.source_line ?? null, 'line');
      assert.equal(log.error.sourceText, s.source_text ?? null, 'source text');
    }
  }
  if (s.stats_line) assert.equal(log.stats?.insnsProcessed, processedCount(s.stats_line), 'processed insns');
  assert.equal(log.truncated, s.truncated === true, 'truncated');
}

describe('verifier corpus', () => {
  it('has cases', () => assert.ok(cases.length >= 20, `only ${cases.length} corpus logs`));

  for (const c of cases) {
    it(`${c.name}: matches its sidecar`, () => {
      checkAgainstSidecar(c, parseVerifierLog(c.text), { locations: true });
    });
  }

  // The same logs as a kernel < 6.8 prints them (`; text` without `@ file:line`): the line comes from
  // matching the text against the .c next to the log.
  for (const c of cases) {
    it(`${c.name}: plain "; source" resolves to the sidecar line`, () => {
      const plain = c.text.replace(/^(;.*?) @ \S*:\d+$/gm, '$1');
      const log = parseVerifierLog(plain);
      checkAgainstSidecar(c, log, { locations: false });
      if (!log.error || c.sidecar.source_line == null) return;
      assert.equal(log.error.line, null, 'plain line info carries no line');
      assert.ok(c.source, `${c.name} has no .c next to it`);
      const resolved = resolveLogLocations(log, [c.source]);
      assert.equal(resolved.error?.line, c.sidecar.source_line, 'resolved line');
      assert.equal(resolved.error?.file, path.basename(c.sidecar.source_file ?? ''), 'resolved file');
    });
  }

  it('a level-2 log keeps the path of the failing branch only (16: from 2 to 4)', () => {
    const c = cases.find((x) => x.name.startsWith('16-'));
    assert.ok(c);
    const log = parseVerifierLog(c.text);
    assert.deepEqual(
      log.path.map((p) => p.line),
      [23, 11, 13, 16],
    );
    assert.equal(log.error?.registers?.R0, 'map_value_or_null(id=1,map=stats,ks=4,vs=8)');
    assert.equal(log.stats?.stackDepth, '0+8');
  });

  it('keeps multi-line error context (03, 05, 11)', () => {
    const ctx = (prefix: string) => parseVerifierLog(cases.find((x) => x.name.startsWith(prefix))?.text ?? '').error?.context;
    assert.deepEqual(ctx('03-'), ['R1 offset is outside of the packet']);
    assert.deepEqual(ctx('05-'), ['cur state: R1=0 R10=fp0 fp-8=0000????', 'old state: R1=P0 R10=fp0 fp-8=0000????']);
    assert.deepEqual(ctx('11-'), ['BPF_EXIT instruction in main prog would lead to reference leak']);
  });
});
