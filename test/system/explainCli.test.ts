// `cilium-custom explain --json` on every log of the verifier-log corpus (test/fixtures/verifier-corpus): the error
// line, instruction and source line its sidecar names, through the real CLI bundle.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { corpusDir, loadCorpus } from '../unit/verifier/corpus';
import { REPO } from './helpers/fixtures';

const CLI = path.join(REPO, 'dist', 'cli.js');

describe('cilium-custom explain on the verifier-log corpus', () => {
  const cases = loadCorpus();

  it('has a corpus to explain', () => assert.ok(cases.length >= 20, `only ${cases.length} logs`));

  for (const c of cases) {
    it(c.name, () => {
      const run = spawnSync(process.execPath, [CLI, 'explain', c.logPath, '--source', corpusDir(), '--json'], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const json = JSON.parse(run.stdout);
      assert.deepEqual(Object.keys(json), ['verdict', 'error', 'stats', 'truncated']);
      assert.equal(json.verdict, c.sidecar.load_succeeded ? 'accepted' : 'rejected');
      if (c.sidecar.load_succeeded) {
        assert.equal(json.error, null);
        return;
      }
      assert.equal(json.error.message, c.sidecar.final_error_line);
      assert.equal(json.error.insn, c.sidecar.failing_insn_idx ?? null);
      if (c.sidecar.source_line != null) {
        assert.equal(json.error.line, c.sidecar.source_line);
        assert.equal(json.error.file, c.sidecar.source_file == null ? null : path.join(corpusDir(), c.sidecar.source_file), 'as found in --source: absolute');
      }
      assert.ok(json.error.hint.length > 20, 'a hint with the fix');
    });
  }
});
