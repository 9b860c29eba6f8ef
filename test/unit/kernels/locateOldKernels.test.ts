// Verifier logs of kernels before 6.8 (5.10 and 6.1, as their VMs print them) have `; source` line info without
// `@ file:line`; 6.12's has it. The verdict must still land on the header line: by the source text and its neighbours on the path,
// and by the object's line table when the text alone is ambiguous (the same statement on two lines, a log whose
// head was cut). The fixture is bytecount.h with its second NULL check removed: `__sync_fetch_and_add(bytes, len);`
// is on line 28 (checked) and line 39 (unchecked, the fault).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { locateVerdict } from '../../../src/core/verify/locate';
import { VerifierLogParser } from '../../../src/core/verifier/parser';
import type { VerifierLog } from '../../../src/core/verifier/model';

const DIR = path.resolve(__dirname, '../../../../test/unit/kernels/fixtures/unchecked');
const HEADER = path.join(DIR, 'bytecount.h');
// Not *.o, which .gitignore leaves out: the object these logs came from, built by clang from bytecount.h.
const OBJECT = path.join(DIR, 'bytecount.obj');
const FAULT_LINE = 39;

function parse(text: string): VerifierLog {
  const parser = new VerifierLogParser();
  parser.push(text);
  return parser.end();
}

/** The log from its last `; ` line on: what a log truncated at the head (level-1 buffer overflow) still has. */
function tailFromLastSource(text: string): string {
  const lines = text.split('\n');
  const start = lines.map((l, i) => (l.startsWith('; ') ? i : -1)).filter((i) => i >= 0).at(-1) ?? 0;
  return lines.slice(start).join('\n');
}

describe('locate: logs of kernels before 6.8 (plain `; source` lines)', () => {
  it('6.12 prints @ file:line: the parser has the line without any source', () => {
    const log = parse(fs.readFileSync(path.join(DIR, 'bytecount-6.12.log'), 'utf8'));
    assert.deepEqual({ file: log.error?.file, line: log.error?.line }, { file: 'bytecount.h', line: FAULT_LINE });
  });

  for (const kernel of ['5.10', '6.1']) {
    const text = fs.readFileSync(path.join(DIR, `bytecount-${kernel}.log`), 'utf8');

    it(`${kernel}: the log has no @ file:line, and the parser leaves the line open`, () => {
      assert.doesNotMatch(text, / @ [^ ]+:[0-9]+$/m);
      const log = parse(text);
      assert.equal(log.verdict, 'rejected');
      assert.match(log.error!.message, /invalid mem access 'map_value_or_null'/);
      assert.equal(log.error!.line, null);
      assert.equal(log.error!.sourceText, '__sync_fetch_and_add(bytes, len);');
    });

    it(`${kernel}: the whole log lands on header line ${FAULT_LINE} by its text and the path`, async () => {
      const located = await locateVerdict(parse(text), { headerPath: HEADER, otherFiles: [] });
      assert.deepEqual({ file: located.error?.file, line: located.error?.line }, { file: HEADER, line: FAULT_LINE });
    });

    it(`${kernel}: a log cut to its tail still lands on line ${FAULT_LINE} through the object's line table`, async () => {
      const log = parse(tailFromLastSource(text));
      assert.equal(log.error!.line, null);
      const located = await locateVerdict(log, { headerPath: HEADER, otherFiles: [], objectPath: OBJECT, section: 'bytecount' });
      assert.deepEqual({ file: located.error?.file, line: located.error?.line }, { file: HEADER, line: FAULT_LINE });
    });
  }

  it('text alone cannot tell the two lines apart in a cut log: it takes the first, the checked line 28', async () => {
    const log = parse(tailFromLastSource(fs.readFileSync(path.join(DIR, 'bytecount-6.1.log'), 'utf8')));
    const located = await locateVerdict(log, { headerPath: HEADER, otherFiles: [] });
    assert.deepEqual({ file: located.error?.file, line: located.error?.line }, { file: HEADER, line: 28 });
  });

  it('when the text is nowhere in the files (edited since), the line table still places it', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-locate-'));
    try {
      const header = path.join(tmp, 'bytecount.h');
      fs.writeFileSync(header, fs.readFileSync(HEADER, 'utf8').replace(/__sync_fetch_and_add\(bytes, len\);/g, '__sync_fetch_and_add(bytes, len); /* edited */'));
      const log = parse(tailFromLastSource(fs.readFileSync(path.join(DIR, 'bytecount-6.1.log'), 'utf8')));
      const located = await locateVerdict(log, { headerPath: header, otherFiles: [], objectPath: OBJECT, section: 'bytecount' });
      assert.deepEqual({ file: located.error?.file, line: located.error?.line }, { file: header, line: FAULT_LINE });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
