import * as assert from 'node:assert/strict';
import { VerifierLogParser, parseVerifierLog } from '../../../src/core/verifier/parser';
import { loadCorpus, rng } from './corpus';

const cases = loadCorpus();

function streamed(text: string, nextSize: () => number): ReturnType<typeof parseVerifierLog> {
  const parser = new VerifierLogParser();
  for (let i = 0; i < text.length; ) {
    const n = Math.max(1, nextSize());
    parser.push(text.slice(i, i + n));
    i += n;
  }
  return parser.end();
}

describe('verifier log parser streaming', () => {
  for (const c of cases) {
    it(`${c.name}: 1-byte and random chunks give the whole-text result`, () => {
      const whole = parseVerifierLog(c.text);
      assert.deepEqual(streamed(c.text, () => 1), whole, '1-byte chunks');
      const rand = rng(c.name.length * 7919 + c.text.length);
      for (let round = 0; round < 5; round++) {
        const sizes = [1, 2, 3, 17, 64, 4096];
        const r = streamed(c.text, () => {
          const pick = sizes[Math.floor(rand() * sizes.length)] ?? 1;
          return 1 + Math.floor(rand() * pick);
        });
        assert.deepEqual(r, whole, `random chunks, round ${round}`);
      }
    });
  }

  it('treats CRLF line ends like LF', () => {
    for (const c of cases.slice(0, 5)) assert.deepEqual(parseVerifierLog(c.text.replace(/\n/g, '\r\n')), parseVerifierLog(c.text));
  });

  it('parses a final line without a newline', () => {
    const log = parseVerifierLog('0: (b7) r0 = 0\n1: (0f) r0 += r2\nR2 !read_ok');
    assert.equal(log.error?.message, 'R2 !read_ok');
    assert.equal(log.error?.insn, 1);
  });

  it('returns the same result when end() is called twice and ignores pushes after it', () => {
    const p = new VerifierLogParser();
    p.push('unreachable insn 2\n');
    const first = p.end();
    p.push('R0 invalid mem access \'scalar\'\n');
    assert.equal(p.end(), first);
    assert.equal(first.error?.insn, 2);
  });
});

describe('verifier log parser byte input', () => {
  it('decodes UTF-8 split across byte chunks', () => {
    const text = "0: R1=ctx() R10=fp0\n; café = 1; /* ünïcødé ✓ */ @ prog.h:3\n0: (7b) *(u64 *)(r1 +0) = r2\nR2 !read_ok\n";
    const bytes = Buffer.from(text, 'utf8');
    const parser = new VerifierLogParser();
    for (let i = 0; i < bytes.length; i++) parser.push(bytes.subarray(i, i + 1));
    const log = parser.end();
    assert.deepEqual(log, parseVerifierLog(text));
    assert.equal(log.error?.sourceText, 'café = 1; /* ünïcødé ✓ */');
  });
});
