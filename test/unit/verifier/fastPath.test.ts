// The parser's fast path (fastLines.ts) must answer exactly what the full path would, or not at all: line by line
// against the full path's steps, and log by log against a parser with the fast path off, over the corpus, mutated
// corpus logs and lines built to sit on its edges.
import * as assert from 'node:assert/strict';
import { FastLineScanner } from '../../../src/core/verifier/fastLines';
import { classifyFraming } from '../../../src/core/verifier/framing';
import { DetailedLogReader, type ReadResult } from '../../../src/core/verifier/insight/reader';
import { VerifierLogParser, parseVerifierLog } from '../../../src/core/verifier/parser';
import { classifyTraceLine, splitGlued } from '../../../src/core/verifier/traceLines';
import { unwrapLine } from '../../../src/core/verifier/unwrap';
import { loadCorpus, mutateLines, rng } from './corpus';

const EDGES = [
  '12: (bf) r2 = r10                      ; R2=fp0 R10=fp0',
  '12: (bf) r2 = r10                      ; R2=fp0 R10=fp0 ',
  '12: (bf) r2 = r10\r',
  '12: (bf) r2 = r10 ; \u00a0R2=fp0',
  '12: (bf) r2 = r10 ;  \u2028R2=fp0',
  '12: (bf) r2 = r10 ; R2=fp0\u00a0',
  '\ufeff12: (bf) r2 = r10',
  '5: R1=ctx()\rR2=1',
  '5: R1=ctx()\u2028R2=1',
  ' 12: (bf) r2 = r10',
  '12: (85) call foo processed 4 insns (limit 1000000)',
  '12: (85) call fooverification time 58 usec',
  '1234-(bf) r1 = 0',
  '2024-03-05T12:34:56+0000 host prog[1]: 0: (b7) r0 = 0',
  '12: (b7) r0 = 0 level=error msg="x"',
  '; x = 1; level=info msg="0: (b7) r0 = 0\\nR0 !read_ok"',
  'ERRO[0045] 0: (b7) r0 = 0',
  '0: (b7) r0 = 0 ; [',
  '5: (15) if r1 == 0x0 goto pc+13 19: R0=1 R10=fp0',
  '5: (15) if r1 == 0x0 goto pc+13 19: R0=1 R10=fp0 ; R1=0',
  '5: (15) if r1 == 0x0 goto pc+13 ;',
  '5: R1=ctx() R10=fp0',
  '5: R1=ctx() 6: (bf) r2 = r10 ',
  '5: R1=ctx() 6: (bf) r2 = r10 x',
  '5: R1=ctx() x6: (bf) r2 = r10 x',
  '5: frame1: R1=ctx()',
  '5: fp-8=mmmm????',
  '5: safe',
  '5: safe!',
  '5: safety',
  '0: the BPF_PROG_LOAD syscall failed. Verifier output: 0: (b7) r0 = 0',
  'from 18 to 6: R0=map_value(map=m,ks=4,vs=8) R10=fp0',
  'from 18 to 6: safe',
  'from 18 to 6: load program: permission denied',
  'from 18 to 6:',
  'from x',
  'from 18 to 6:R10=fp0',
  'from 18 to 6:  R10=fp0',
  'from 18 to 6:safe',
  'from 18 to 6: R10=fp0\rR1=1',
  'from 18 to 6: R10=fp0\u2029R1=1',
  'from  18 to 6: R10=fp0',
  'from 18 to : R10=fp0',
  'from 123456789012345678 to 6: R10=fp0',
  '5: frame1: R1=1',
  '5: frame: R1=1',
  '5: frame1:R1=1',
  '5: fp1=1',
  '5: fp-=1',
  '5: fr1=1',
  '5: R=1',
  '5: R1_w=1',
  '5: R1_w =1',
  '5: R1',
  '5: R1=',
  '5: R1=1\u2028',
  '123456789012345678: R1=1',
  '; int custom_hook(const struct __ctx_buff *ctx) @ bpf_custom.c:31',
  ';  @ too_many_insns.h:0',
  ';',
  '; a @ b @ c.h:3',
  '; café @ ünï.h:3',
  `12: (bf) r2 = r10 ; ${'R'.repeat(70_000)}`,
  '123456789012345678: (b7) r0 = 0',
  '12: <invalid CO-RE relocation>',
  '12: (BF) r0 = 0',
];

/** Every line of `text` through the scanner (one chunk, so its cursors are exercised) and through the full path. */
function checkLines(text: string): void {
  const scanner = new FastLineScanner();
  scanner.reset(text);
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return;
    const line = text.slice(start, nl);
    const fast = nl > start && nl - start <= 64 * 1024 ? scanner.classify(start, nl) : null;
    if (fast) {
      assert.equal(unwrapLine(line), null, `unwrapped: ${line}`);
      assert.equal(line.trim(), line, `trimmed: ${line}`);
      assert.equal(classifyFraming(line), null, `framing: ${line}`);
      assert.equal(splitGlued(line), null, `glued: ${line}`);
      assert.deepEqual(fast, classifyTraceLine(line), `classified: ${line}`);
    }
    start = nl + 1;
  }
}

function streamed(text: string, rand: () => number): ReturnType<typeof parseVerifierLog> {
  const parser = new VerifierLogParser();
  for (let i = 0; i < text.length; ) {
    const n = 1 + Math.floor(rand() * 300);
    parser.push(text.slice(i, i + n));
    i += n;
  }
  return parser.end();
}

/** The insight reader (parser + collector through the parser's lines), streamed in random chunks. */
function detailed(text: string, fastPath: boolean, rand: () => number): ReadResult {
  const reader = new DetailedLogReader({ detail: true, fastPath });
  for (let i = 0; i < text.length; ) {
    const n = 1 + Math.floor(rand() * 300);
    reader.push(text.slice(i, i + n));
    i += n;
  }
  return reader.end();
}

describe('verifier parser fast path', () => {
  const cases = loadCorpus();

  it('classifies edge lines as the full path does, or leaves them to it', () => {
    checkLines(`${EDGES.join('\n')}\n`);
    for (const line of EDGES) checkLines(`${line}\n`);
    assert.deepEqual(parseVerifierLog(`${EDGES.join('\n')}\n`), parseVerifierLog(`${EDGES.join('\n')}\n`, { fastPath: false }));
  });

  it('takes the bulk of a level-2 log', () => {
    const lines = ['; x = 1; @ a.h:3', '5: (15) if r1 == 0x0 goto pc+13', '5: R1=ctx() R10=fp0', 'from 18 to 6: R10=fp0', '5: safe'];
    const scanner = new FastLineScanner();
    for (const line of lines) {
      scanner.reset(`${line}\n`);
      assert.ok(scanner.classify(0, line.length), line);
    }
  });

  it('corpus logs: every line, and the whole log, as the full path', () => {
    for (const c of cases) {
      checkLines(c.text);
      assert.deepEqual(parseVerifierLog(c.text), parseVerifierLog(c.text, { fastPath: false }), c.name);
    }
  });

  it('mutated corpus logs, streamed in random chunks: the same as the full path', () => {
    const rand = rng(15_17);
    for (const c of cases) {
      const lines = c.text.split('\n');
      for (let round = 0; round < 20; round++) {
        const text = mutateLines(lines, rand, EDGES);
        checkLines(text);
        assert.deepEqual(streamed(text, rand), parseVerifierLog(text, { fastPath: false }), `${c.name} round ${round}`);
      }
    }
  });

  it('insight (heat map, path, origin) is the same through the fast path, corpus and mutated logs', () => {
    const rand = rng(15_2);
    for (const c of cases) {
      assert.deepEqual(detailed(c.text, true, rand), detailed(c.text, false, rand), c.name);
      const lines = c.text.split('\n');
      for (let round = 0; round < 5; round++) {
        const text = mutateLines(lines, rand, EDGES);
        assert.deepEqual(detailed(text, true, rand), detailed(text, false, rand), `${c.name} round ${round}`);
      }
    }
  });
});
