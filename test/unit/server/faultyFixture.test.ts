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

  it('the NULL-check quick fix rewrites the check of the wrong pointer, and adds no second check', async () => {
    const fix = (await analyzeText(faulty)).find((f) => f.code === DiagnosticCodes.unchecked)!.fix!;
    assert.match(fix.title, /Check 'fc' too in the NULL check on line \d+/);
    const after = applyEdits(faulty, fix.edits);
    // `bytes` is still dereferenced after the check, so the check tests both (as in the fixed version).
    assert.match(after, /__u64 \*bytes = map_lookup_elem\(&faulty_bytes, &zero\);\n\n\tif \(!fc \|\| !bytes\)\n\t\treturn faulty_verdict\(ctx\);\n/);
    assert.equal(after.split('\n').length, faulty.split('\n').length, 'no line added');
    assert.equal((after.match(/if \(!fc/g) ?? []).length, 2, 'custom_prog\'s own check and the rewritten one');
    assert.ok(!(await analyzeText(after)).some((f) => f.code === DiagnosticCodes.unchecked));
  });

  it('the padding quick fix inserts an explicit pad where the hole is (as in the fixed version)', async () => {
    const fix = (await analyzeText(faulty)).find((f) => f.code === DiagnosticCodes.valuePadding)!.fix!;
    const after = applyEdits(faulty, fix.edits);
    assert.match(after, /struct faulty_ctx \{\n\t__u32 identity;\n\t__u32 pad1;\n\t__u64 len;/);
    assert.ok(!(await analyzeText(after)).some((f) => f.code === DiagnosticCodes.valuePadding));
  });

  it('the reset quick fix memsets the per-CPU context after custom_prog\'s NULL check', async () => {
    const fix = (await analyzeText(faulty)).find((f) => f.code === DiagnosticCodes.percpuNotReset)!.fix!;
    const after = applyEdits(faulty, fix.edits);
    assert.match(after, /\tif \(!fc\)\n\t\treturn;\n\n\t\/\* The per-CPU slot [^\n]*\*\/\n\tmemset\(fc, 0, sizeof\(\*fc\)\);\n/);
    assert.ok(!(await analyzeText(after)).some((f) => f.code === DiagnosticCodes.percpuNotReset));
  });

  it('every finding has a quick fix; applied one at a time they leave nothing to report', async () => {
    let text = faulty;
    for (let round = 0; round < 10; round++) {
      const findings = await analyzeText(text);
      if (findings.length === 0) break;
      assert.deepEqual(findings.filter((f) => !f.fix).map((f) => f.message), [], 'findings without a fix');
      text = applyEdits(text, findings[0]!.fix!.edits);
    }
    assert.deepEqual(summary(await analyzeText(text)), []);
    const code = (t: string) => t.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, ' ');
    // Same code as the hand-fixed version, but for the blank line after the memset.
    assert.equal(code(text), code(fixed));
  });

  it('the max_entries quick fix covers both slots, and fixes both reports', async () => {
    const findings = (await analyzeText(faulty)).filter((f) => f.code === DiagnosticCodes.progArrayBounds);
    const after = applyEdits(faulty, findings[0]!.fix!.edits);
    assert.deepEqual(findings[0]!.fix, findings[1]!.fix);
    assert.match(after, /BPF_MAP_TYPE_PROG_ARRAY\);[\s\S]*?__uint\(max_entries, 2\);/);
    assert.ok(!(await analyzeText(after)).some((f) => f.code === DiagnosticCodes.progArrayBounds));
  });
});

describe('server: faulty_stages.h', () => {
  const faulty = readFixture('faulty_stages.h');

  it('reports the undefined stage on its reference and the constant return, and nothing else', async () => {
    const findings = await analyzeText(faulty, 'faulty_stages');
    assert.deepEqual(summary(findings), [
      `${lineOf(faulty, 'MISTAKE-STAGE-UNDEFINED')} ${DiagnosticCodes.stageUndefined}`,
      `${lineOf(faulty, 'MISTAKE-STAGE-RETURN')} ${DiagnosticCodes.stageReturn}`,
    ]);
    assert.match(findings[0]!.message, /stage `stages_two` \(slot 1 of prog array `stages_progs`\) is declared on line 19 but never defined/);
  });

  it('the quick fixes define the stage and return the verdict, leaving nothing to report', async () => {
    let text = faulty;
    for (let round = 0; round < 5; round++) {
      const fix = (await analyzeText(text, 'faulty_stages')).find((f) => f.fix)?.fix;
      if (!fix) break;
      text = applyEdits(text, fix.edits);
    }
    assert.deepEqual(summary(await analyzeText(text, 'faulty_stages')), []);
    assert.match(text, /\treturn ctx_load_meta\(ctx, CB_CUSTOM_CALLS\) >> 24;\t\/\* MISTAKE-STAGE-RETURN \*\//);
    assert.ok(text.endsWith('\n__section("faulty_stages/stages_two")\nint stages_two(struct __ctx_buff *ctx)\n{\n\t/* A tail-called stage: what it returns goes to the datapath, so hand back its verdict. */\n\treturn ctx_load_meta(ctx, CB_CUSTOM_CALLS) >> 24;\n}\n'), text);
  });
});
