// The parser against real logs of this repository's own fault fixtures (test/fixtures/verifier-logs, collected
// from a 6.18 kernel by bench/collectLogs.ts): each sidecar's facts, the same logs as an older kernel prints them
// (plain `; source` resolved against the header kept next to the log), streaming in small chunks, and placement on
// the header. Reuses corpus.ts's loader by pointing VERIFIER_LOG_CORPUS at that folder while loading.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseVerifierLog, VerifierLogParser } from '../../../src/core/verifier/parser';
import { resolveLogLocations } from '../../../src/core/verifier/sourceLines';
import { locateVerdict } from '../../../src/core/verify/locate';
import { loadCorpus, type CorpusCase, type Sidecar } from './corpus';

const LOCAL_CORPUS = path.resolve(__dirname, '../../../../test/fixtures/verifier-logs');

function loadLocalCorpus(): CorpusCase[] {
  const saved = process.env.VERIFIER_LOG_CORPUS;
  process.env.VERIFIER_LOG_CORPUS = LOCAL_CORPUS;
  try {
    return loadCorpus();
  } finally {
    if (saved === undefined) delete process.env.VERIFIER_LOG_CORPUS;
    else process.env.VERIFIER_LOG_CORPUS = saved;
  }
}

// Loaded at definition time on purpose: a missing folder must fail the run, not skip it.
const cases = loadLocalCorpus();

interface LocalSidecar extends Sidecar {
  generated_source_file: string;
  expected_header_line: number | null;
}

function headerOf(c: CorpusCase): { name: string; content: string } {
  const name = (c.sidecar as LocalSidecar).generated_source_file;
  return { name, content: fs.readFileSync(path.join(LOCAL_CORPUS, name), 'utf8') };
}

describe('verifier corpus of the fault fixtures (real 6.18 bpftool -d logs)', () => {
  it('has a case per fault fixture', () => assert.ok(cases.length >= 7, `only ${cases.length} logs in ${LOCAL_CORPUS}`));

  for (const c of cases) {
    const s = c.sidecar as LocalSidecar;

    it(`${c.name}: matches its sidecar`, () => {
      const log = parseVerifierLog(c.text);
      assert.equal(log.verdict, s.load_succeeded ? 'accepted' : 'rejected');
      assert.equal(log.loader, 'bpftool');
      assert.equal(log.error?.message, s.final_error_line);
      assert.equal(log.error?.insn, s.failing_insn_idx);
      assert.equal(log.error?.file, s.source_file);
      assert.equal(log.error?.line, s.source_line);
      assert.equal(log.error?.sourceText, s.source_text);
      assert.equal(log.stats?.insnsProcessed, Number(/processed (\d+) insns/.exec(s.stats_line ?? '')?.[1]));
      assert.equal(log.truncated, s.truncated === true);
    });

    it(`${c.name}: plain "; source" (kernel < 6.8) resolves against the header to the same line`, () => {
      const plain = c.text.replace(/^(;.*?) @ \S*:\d+$/gm, '$1');
      const log = parseVerifierLog(plain);
      assert.equal(log.error?.message, s.final_error_line);
      assert.equal(log.error?.line, null);
      const resolved = resolveLogLocations(log, [headerOf(c)]);
      assert.equal(resolved.error?.file, s.source_file);
      assert.equal(resolved.error?.line, s.source_line);
    });

    it(`${c.name}: 7-byte chunks give the whole-text result`, () => {
      const parser = new VerifierLogParser();
      for (let i = 0; i < c.text.length; i += 7) parser.push(c.text.slice(i, i + 7));
      assert.deepEqual(parser.end(), parseVerifierLog(c.text));
    });

    it(`${c.name}: is placed on the header's expected line`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-local-corpus-'));
      try {
        const header = path.join(dir, s.generated_source_file);
        fs.writeFileSync(header, headerOf(c).content);
        const located = await locateVerdict(parseVerifierLog(c.text), { headerPath: header, otherFiles: [] });
        assert.equal(located.error?.file, header);
        assert.equal(located.error?.line, s.expected_header_line);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
