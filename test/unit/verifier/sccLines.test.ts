// Kernel 6.18 prints `SCC enter (N)` / `SCC exit (N)` around loops. An accepted program with a loop (this log, from
// test/fixtures/headers/hot_loop_null.h with an ARRAY map, on 6.18) once read as rejected with "SCC exit (1)" as
// its error.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseVerifierLog } from '../../../src/core/verifier/parser';

const LOG = path.resolve(__dirname, '../../../../test/fixtures/verifier-logs-accepted/scc-loop-accepted-k6.18.log');

describe('SCC lines of 6.18 loops', () => {
  it('are not errors: the loop program is accepted with its figures', () => {
    const text = fs.readFileSync(LOG, 'utf8');
    assert.ok(text.includes('SCC exit (1)'), 'the fixture has the lines');
    const log = parseVerifierLog(text);
    assert.notEqual(log.verdict, 'rejected', JSON.stringify(log.error));
    assert.equal(log.error, null);
    assert.equal(log.stats?.insnsProcessed, 403);
  });
});
