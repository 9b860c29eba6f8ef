// The faulty tail-call example: every mistake at its line, the fixed version clean, and each quick fix turning the
// faulty code into the fixed pattern.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiagnosticCodes } from '../../../src/shared/protocol';
import { analyzeText } from '../../../src/server/analyzeText';
import type { Finding } from '../../../src/server/rules/types';
import { applyEdits, lineOf, readFixture, REPO } from './helpers';

const summary = (fs: Finding[]): string[] => fs.map((f) => `${f.range.start.row + 1} ${f.code}`);

describe('server: faulty_tail_call.h', () => {
  const faulty = readFixture('faulty_tail_call.h');
  const fixed = readFixture('faulty_tail_call.fixed.h');

  it('reports every mistake on its line, and nothing else', async () => {
    const findings = await analyzeText(faulty);
    assert.deepEqual(summary(findings), [
      `${lineOf(faulty, 'MISTAKE-PADDING')} ${DiagnosticCodes.valuePadding}`,
      `${lineOf(faulty, 'MISTAKE-PROG-ARRAY-INIT')} ${DiagnosticCodes.progArrayBounds}`,
      `${lineOf(faulty, 'MISTAKE-NOT-RESET')} ${DiagnosticCodes.percpuNotReset}`,
      `${lineOf(faulty, 'MISTAKE-NULL-CHECK')} ${DiagnosticCodes.unchecked}`,
      `${lineOf(faulty, 'MISTAKE-PROG-ARRAY-CALL')} ${DiagnosticCodes.progArrayBounds}`,
    ]);
    const nullCheck = findings.find((f) => f.code === DiagnosticCodes.unchecked)!;
    assert.match(nullCheck.message, /`fc`.*tests `bytes`, not `fc`/);
    assert.match(findings.find((f) => f.code === DiagnosticCodes.percpuNotReset)!.message, /faulty_stage1.*never set: stages/);
  });

  it('finds nothing in the fixed version and in the bundled examples', async () => {
    assert.deepEqual(summary(await analyzeText(fixed)), []);
    const examples = path.join(REPO, 'bpf', 'examples');
    for (const name of fs.readdirSync(examples).filter((f) => f.endsWith('.h'))) {
      assert.deepEqual(summary(await analyzeText(fs.readFileSync(path.join(examples, name), 'utf8'))), [], name);
    }
  });

  it('the NULL-check quick fix checks the looked-up pointer after the lookup, with the stage\'s return', async () => {
    const fix = (await analyzeText(faulty)).find((f) => f.code === DiagnosticCodes.unchecked)!.fix!;
    const after = applyEdits(faulty, fix.edits);
    assert.match(after, /struct faulty_ctx \*fc = map_lookup_elem\(&faulty_ctx_map, &zero\);\n\tif \(!fc\)\n\t\treturn faulty_verdict\(ctx\);\n/);
    assert.ok(!(await analyzeText(after)).some((f) => f.code === DiagnosticCodes.unchecked));
  });

  it('the max_entries quick fix covers both slots, and fixes both reports', async () => {
    const findings = (await analyzeText(faulty)).filter((f) => f.code === DiagnosticCodes.progArrayBounds);
    const after = applyEdits(faulty, findings[0]!.fix!.edits);
    assert.deepEqual(findings[0]!.fix, findings[1]!.fix);
    assert.match(after, /BPF_MAP_TYPE_PROG_ARRAY\);[\s\S]*?__uint\(max_entries, 2\);/);
    assert.ok(!(await analyzeText(after)).some((f) => f.code === DiagnosticCodes.progArrayBounds));
  });
});
