import * as assert from 'node:assert/strict';
import { VerifierLogParser, parseVerifierLog } from '../../../src/core/verifier/parser';
import type { VerifierLog } from '../../../src/core/verifier/model';
import { toExplainJson } from '../../../src/core/verifier/explainJson';
import { loadCorpus, mutateLines, rng } from './corpus';

const LOADERS = ['bpftool', 'libbpf', 'libscap', 'cilium-ebpf', 'bcc', 'aya', 'iproute2', 'bpftrace', 'veristat', 'raw'];

function assertValid(log: VerifierLog): void {
  assert.ok(['accepted', 'rejected', 'unknown'].includes(log.verdict));
  assert.equal(typeof log.truncated, 'boolean');
  assert.ok(LOADERS.includes(log.loader));
  assert.ok(Array.isArray(log.path) && log.path.length <= 50);
  if (log.error) {
    assert.equal(typeof log.error.message, 'string');
    assert.ok(log.error.message.length <= 4096);
    assert.ok(log.error.insn === null || Number.isInteger(log.error.insn));
    assert.ok(log.error.line === null || Number.isInteger(log.error.line));
  }
  assert.equal(log.verdict === 'rejected', log.error !== null);
  JSON.stringify(toExplainJson(log));
}

const ALPHABET = '0123456789abcdefR=():; @.,-_\n\t\r>?<[]"\\lpbfrmoc ';

describe('verifier log parser never throws', () => {
  const rand = rng(20240305);

  it('random strings and random bytes give a valid model', () => {
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(rand() * 2000);
      let s = '';
      for (let j = 0; j < len; j++) {
        s += rand() < 0.5 ? ALPHABET[Math.floor(rand() * ALPHABET.length)] : String.fromCharCode(Math.floor(rand() * 0x10000));
      }
      assertValid(parseVerifierLog(s));
    }
  });

  it('plain garbage is verdict unknown, not a made-up error', () => {
    assert.equal(parseVerifierLog('hello world\nthis is not a log\n').verdict, 'unknown');
    assert.equal(parseVerifierLog('').verdict, 'unknown');
    assert.equal(parseVerifierLog('\n\n\n').verdict, 'unknown');
  });

  it('mutated corpus logs give a valid model', () => {
    for (const c of loadCorpus()) {
      const lines = c.text.split('\n');
      for (let round = 0; round < 40; round++) {
        assertValid(parseVerifierLog(mutateLines(lines, rand)));
      }
    }
  });

  it('pathological input stays bounded and valid', () => {
    assertValid(parseVerifierLog('('.repeat(200_000)));
    assertValid(parseVerifierLog(`0: R1=${'('.repeat(100_000)}\nR0 invalid mem access 'scalar'\n`));
    const p = new VerifierLogParser();
    for (let i = 0; i < 100; i++) p.push('x'.repeat(100_000)); // one 10 MB line, never terminated
    assertValid(p.end());
    assertValid(parseVerifierLog(`; ${'@ '.repeat(50_000)}:1\n`));
    // Non-string input from untyped callers.
    assertValid(parseVerifierLog(undefined as unknown as string));
  });
});
