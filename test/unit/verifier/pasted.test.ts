// Logs as users paste them (test/fixtures/pasted-logs, built from corpus logs by generate.mjs): every line behind a
// prefix (test runner numbers, docker compose, kubectl --timestamps, journalctl), cilium/ebpf's one-line error
// string (plain, in a logrus field), go test's indented `Verifier error tail:`, logrus fields with escaped newlines.
// Each must give the corpus log's error, failing instruction and (where the paste still has line info) line.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DetailedLogReader } from '../../../src/core/verifier/insight';
import { parseVerifierLog } from '../../../src/core/verifier/parser';
import { detectPrefix, expandCiliumOneLine, parsePastedLog, PastedLogFilter } from '../../../src/core/verifier/pasted';
import { corpusDir, loadCorpus, repoRoot, rng, type Sidecar } from './corpus';

const DIR = path.join(repoRoot(), 'test', 'fixtures', 'pasted-logs');
const cases = JSON.parse(fs.readFileSync(path.join(DIR, 'cases.json'), 'utf8')) as { file: string; corpus: string; form: string }[];

describe('pasted logs: the pre-pass before the parser', () => {
  it('has a fixture of every form', () => {
    const files = cases.map((c) => c.file).join(' ');
    for (const form of ['test-runner', 'docker-compose', 'kubectl', 'journalctl', 'oneline-0', 'oneline-logrus', 'go-test', 'logrus-escaped', 'logrus-msg']) {
      assert.ok(files.includes(form), `no ${form} fixture`);
    }
  });

  for (const c of cases) {
    it(`${c.file} (${c.form}): the error, the failing instruction and the line`, () => {
      const text = fs.readFileSync(path.join(DIR, c.file), 'utf8');
      const sidecar = JSON.parse(fs.readFileSync(path.join(corpusDir(), `${c.corpus}.json`), 'utf8')) as Sidecar;
      const log = parsePastedLog(text);
      assert.equal(log.verdict, 'rejected');
      assert.equal(log.error?.message, sidecar.final_error_line);
      assert.equal(log.error?.insn, sidecar.failing_insn_idx);
      // A one-line error string has no line info; every other paste keeps it.
      if (!c.file.includes('oneline')) assert.equal(log.error?.line, sidecar.source_line);
      else assert.equal(log.truncated, true, 'the one-line form is what is left of a longer log');

      // The same through the streaming reader, in random chunks.
      const next = rng(c.file.length);
      const reader = new DetailedLogReader({ detail: true });
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(next() * 200);
        reader.push(bytes.subarray(at, at + n));
        at += n;
      }
      const streamed = reader.end();
      assert.deepEqual(streamed.log, log);
      if (!c.file.includes('oneline')) assert.equal(streamed.insight?.path.at(-1)?.line, sidecar.source_line);
    });
  }

  it('the corpus as it is: no prefix detected, the same result as the parser alone', () => {
    const local = path.join(repoRoot(), 'test', 'fixtures', 'verifier-logs');
    const texts = [...loadCorpus().map((c) => c.text), ...fs.readdirSync(local).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(local, f), 'utf8'))];
    for (const text of texts) {
      assert.equal(detectPrefix(text.split('\n').slice(0, 32)), null);
      assert.deepEqual(parsePastedLog(text), parseVerifierLog(text));
    }
  });

  it('a raw log of consecutive instructions is not mistaken for a numbered paste', () => {
    const raw = ['0: (bf) r6 = r1', '1: (b7) r0 = 0', '2: (61) r1 = *(u32 *)(r6 +0)', '3: (79) r2 = *(u64 *)(r1 +0)', "R1 invalid mem access 'scalar'", 'processed 4 insns (limit 1000000)'].join('\n');
    assert.equal(detectPrefix(raw.split('\n')), null);
    assert.equal(parsePastedLog(raw).error?.insn, 3);
  });

  it("the brief's cilium/ebpf one-liner: instruction 112, the message, truncated", () => {
    const line = "load program: permission denied: 112: (61) r1 = *(u32 *)(r2 +0): R2 invalid mem access 'scalar' (12 line(s) omitted)";
    assert.deepEqual(expandCiliumOneLine(line), ['load program: permission denied:', '(12 line(s) omitted)', '112: (61) r1 = *(u32 *)(r2 +0)', "R2 invalid mem access 'scalar'"]);
    const log = parsePastedLog(line);
    assert.equal(log.error?.insn, 112);
    assert.equal(log.error?.message, "R2 invalid mem access 'scalar'");
    assert.equal(log.loader, 'cilium-ebpf');
    assert.equal(log.truncated, true);
  });

  it('the omission marker ends the error string; an explanation stays context', () => {
    const log = parsePastedLog(
      'Error: program x: load program: permission denied: 11: (71) r0 = *(u8 *)(r1 +23): invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14): R1 offset is outside of the packet (truncated, 30 line(s) omitted) (BTF disabled) exit status 1',
    );
    assert.equal(log.error?.insn, 11);
    assert.equal(log.error?.message, 'invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14)');
    assert.deepEqual(log.error?.context, ['R1 offset is outside of the packet']);
  });

  it('a one-liner with no instruction keeps the message only', () => {
    const log = parsePastedLog('load program: invalid argument: unknown func bpf_foo#999');
    assert.equal(log.error?.message, 'unknown func bpf_foo#999');
    assert.equal(log.error?.insn, null);
  });

  it('prefix forms are stripped only where they occur; kubectl-looking journald lines are left to unwrap', () => {
    assert.equal(detectPrefix(['2024-03-05T12:34:56+0000 node1 cilium-agent[12]: 0: R1=ctx() R10=fp0', '2024-03-05T12:34:56+0000 node1 cilium-agent[12]: 0: (b7) r0 = 0']), null);
    assert.equal(detectPrefix(['2024-03-05T12:34:56.1Z 0: R1=ctx() R10=fp0', '2024-03-05T12:34:56.2Z 0: (b7) r0 = 0'])?.name, 'kubectl-timestamps');
    assert.equal(detectPrefix(['cilium-1  | a', 'cilium-1  | b'])?.name, 'docker-compose');
    assert.equal(detectPrefix(['7: libbpf: x', '8: 0: (b7) r0 = 0', '9: ; int x; @ a.c:3'])?.name, 'line-number');
  });

  it('streams in bounded memory: a line with no end is passed on, not held', () => {
    const f = new PastedLogFilter();
    let out = '';
    for (let i = 0; i < 40; i++) out += f.push('x'.repeat(64 * 1024));
    out += f.end();
    assert.equal(out.replace(/\n$/, '').length, 40 * 64 * 1024);
  });
});
