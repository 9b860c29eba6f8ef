// Per-program figures of a verifier log (src/extension/verify/programFigures.ts): a header with tail-called stages
// loads several programs, and the status item shows the entry program's figures and the largest, not the last one's.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { programFiguresOf, readProgramFigures, stackBytes, summarizePrograms } from '../../../src/extension/verify/programFigures';
import { repoRoot } from '../verifier/corpus';

const ACCEPTED = () => path.join(repoRoot(), 'test', 'fixtures', 'verifier-logs-accepted');

describe('verify: figures per program', () => {
  it('reads each stage of a tail-call chain, named, the landing program first', async () => {
    const programs = await readProgramFigures(path.join(ACCEPTED(), 'tail_context.log'));
    assert.deepEqual(
      programs.map((p) => [p.name, p.insnsProcessed, p.insnLimit, p.stackDepth]),
      [
        ['custom_hook', 33, 1_000_000, '8'],
        ['tail_context_stage1', 38, 1_000_000, '8'],
        ['tail_context_stage2', 43, 1_000_000, '8'],
      ],
    );
    const summary = summarizePrograms(programs);
    assert.equal(summary?.entry.name, 'custom_hook');
    assert.equal(summary?.largest.name, 'tail_context_stage2');
    assert.equal(summary?.count, 3);
  });

  it('reads a single program', async () => {
    const programs = await readProgramFigures(path.join(ACCEPTED(), 'bytecount.log'));
    assert.deepEqual(programs.map((p) => [p.name, p.insnsProcessed]), [['custom_hook', 34]]);
  });

  it('keeps the entry program when a later stage is smaller (the last one is not the answer)', () => {
    const log = [
      "libbpf: prog 'entry': -- BEGIN PROG LOAD LOG --",
      'stack depth 16',
      'processed 27 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 0',
      '-- END PROG LOAD LOG --',
      "libbpf: prog 'stage': -- BEGIN PROG LOAD LOG --",
      'stack depth 0',
      'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
      '-- END PROG LOAD LOG --',
    ].join('\n');
    const summary = summarizePrograms(programFiguresOf(log));
    assert.equal(summary?.entry.insnsProcessed, 27);
    assert.equal(summary?.entry.stackDepth, '16');
    assert.equal(summary?.largest.name, 'entry');
    assert.equal(summary?.maxStack, 16);
  });

  it('copes with unframed logs, 4.x stack depth on the processed line, glued lines and subprogram stacks', () => {
    const programs = programFiguresOf(
      [
        'processed 39 insns (limit 131072), stack depth 0',
        'stack depth 0+8',
        'expected prog array map for tail callprocessed 4 insns (limit 1000000) max_states_per_insn 0',
        'libbpf: map processed nothing here',
      ].join('\n'),
    );
    assert.deepEqual(programs.map((p) => [p.name, p.insnsProcessed, p.insnLimit, p.stackDepth]), [
      [null, 39, 131072, '0'],
      [null, 4, 1_000_000, '0+8'],
    ]);
    assert.equal(stackBytes('0+8'), 8);
    assert.equal(stackBytes(null), 0);
    assert.equal(summarizePrograms([]), undefined);
  });
});
