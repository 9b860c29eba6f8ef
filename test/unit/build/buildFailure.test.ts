// The real cause of a failed build, on output captured from make and Debian clang 14 (and clang 16+'s wording).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { explainMakeFailure, headerProblem, moveCustomProgDiagnostics } from '../../../src/core/build/buildFailure';
import { parseClangDiagnostics, parseToolErrors } from '../../../src/core/build/clangDiagnostics';
import type { RunResult } from '../../../src/core/process';

const READ_ONLY = `  CLANG   /ro/bytecount.o  (section "bytecount")
error: unable to open output file '/ro/bytecount.o': 'Read-only file system'
1 error generated.
make: *** [Makefile:82: custom] Error 1
`;

const MV_FAILED = `  CLANG   /x/p.o  (section "p")
mv: cannot move '/x/.p.o.123.tmp' to '/x/p.o': Is a directory
make: *** [Makefile:98: custom] Error 1
`;

const EMPTY_HEADER_CLANG14 = `bpf_custom.c:35:2: error: implicit declaration of function 'custom_prog' is invalid in C99 [-Werror,-Wimplicit-function-declaration]
        custom_prog(ctx, CUSTOM_META_IDENTITY(meta));
        ^
bpf_custom.c:35:2: note: did you mean 'custom_hook'?
1 error generated.
make: *** [Makefile:98: custom] Error 1
`;

const EMPTY_HEADER_CLANG16 = `bpf_custom.c:35:2: error: call to undeclared function 'custom_prog'; ISO C99 and later do not support implicit function declarations [-Wimplicit-function-declaration]
`;

const failedRun: RunResult = { argv: ['make'], exitCode: 2, signal: null, stdout: '', stderr: '', cancelled: false, timedOut: false, durationMs: 1 } as unknown as RunResult;

describe('build failures: the real cause', () => {
  let dir: string;
  let header: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-buildfailure-'));
    header = path.join(dir, 'p.h');
    fs.writeFileSync(header, '');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const explain = (output: string) => explainMakeFailure(failedRun, parseClangDiagnostics(output, '/sdk'), parseToolErrors(output), header);

  it('"Read-only file system" from clang, not make\'s "*** Error 1"', () => {
    const failure = explain(READ_ONLY);
    assert.equal(failure.kind, 'io');
    assert.match(failure.failure, /Read-only file system/);
    assert.doesNotMatch(failure.failure, /Error 1/);
  });

  it('a recipe command that fails on a file ("Is a directory")', () => {
    const failure = explain(MV_FAILED);
    assert.equal(failure.kind, 'io');
    assert.match(failure.failure, /mv: cannot move .*: Is a directory/);
  });

  it('compiler errors stay compiler errors', () => {
    const failure = explain(`${header}:3:1: error: expected ';'\n1 error generated.\nmake: *** [Makefile:98: custom] Error 1\n`);
    assert.equal(failure.kind, 'compile');
    assert.equal(failure.failure, 'build failed with 1 error');
  });

  it('make alone: its own line', () => {
    const failure = explain("make: *** No rule to make target 'x'.  Stop.\n");
    assert.equal(failure.kind, 'make');
    assert.match(failure.failure, /No rule to make target/);
  });

  it('a header removed or replaced by a directory during the build says so', () => {
    const gone = path.join(dir, 'gone.h');
    const failure = explainMakeFailure(failedRun, [], parseToolErrors(READ_ONLY), gone);
    assert.equal(failure.kind, 'io');
    assert.match(failure.failure, /gone\.h is gone .*No such file or directory/);
    const asDir = path.join(dir, 'dir.h');
    fs.mkdirSync(asDir);
    assert.match(headerProblem(asDir) ?? '', /Is a directory/);
    assert.equal(headerProblem(header), undefined);
  });

  for (const [clang, output] of [
    ['clang 14', EMPTY_HEADER_CLANG14],
    ['clang 16+', EMPTY_HEADER_CLANG16],
  ]) {
    it(`${clang}: an undeclared custom_prog in the landing program becomes one error on the header`, () => {
      const moved = moveCustomProgDiagnostics(parseClangDiagnostics(output, '/sdk'), header);
      assert.equal(moved.missing, true);
      assert.equal(moved.diagnostics.length, 1);
      assert.equal(moved.diagnostics[0].file, header);
      assert.equal(moved.diagnostics[0].line, 1);
      assert.match(moved.diagnostics[0].message, /does not define custom_prog\(\)/);
    });
  }

  it('leaves other diagnostics, and one about custom_prog in the header itself, alone', () => {
    const output = `${header}:4:2: error: use of undeclared identifier 'custom_prog'\n/sdk/bpf_custom.c:3:1: warning: something else\n`;
    const moved = moveCustomProgDiagnostics(parseClangDiagnostics(output, '/sdk'), header);
    assert.equal(moved.missing, false);
    assert.equal(moved.diagnostics.length, 2);
  });

  it('tool errors include clang\'s bare "error:" lines and failing recipe commands, and still make\'s', () => {
    assert.deepEqual(parseToolErrors(READ_ONLY), ["error: unable to open output file '/ro/bytecount.o': 'Read-only file system'", 'make: *** [Makefile:82: custom] Error 1']);
    assert.equal(parseToolErrors(MV_FAILED).length, 2);
  });
});
