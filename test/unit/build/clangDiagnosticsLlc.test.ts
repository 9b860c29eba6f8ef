// llc's errors, as Debian's llc 14 prints them when Cilium v1.12's bpf/custom/Makefile (clang -emit-llvm, then
// llc -march=bpf, with -g) builds a header: located by the debug info, relative to a directory that is the
// compilation directory or one of its ancestors; unknown locations, the intermediate .ll and inline assembly.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { explainMakeFailure } from '../../../src/core/build/buildFailure';
import { formatDiagnostic, parseClangDiagnostics, parseToolErrors } from '../../../src/core/build/clangDiagnostics';
import type { RunResult } from '../../../src/core/process';

const FUNCTION = 'in function custom_hook i32 (%struct.__sk_buff*)';

const TRAP = `llc -march=bpf -mattr=dwarfris -mcpu=v2 -filetype=obj -o trap.o trap.ll
error: trap.h:6:3: ${FUNCTION}: A call to built-in function 'abort' is not supported.

make: *** [Makefile:37: trap.o] Error 1
`;

const BUILTIN_MEMSET = `error: include/linux/../bpf/builtins.h:132:2: ${FUNCTION}: A call to built-in function 'abort' is not supported.

make: *** [Makefile:37: tail_context.o] Error 1
`;

const STACK = `error: bpf_custom.c:0:0: ${FUNCTION}: Looks like the BPF stack limit of 512 bytes is exceeded. Please move large on stack variables into BPF per-cpu array map.


error: ./stack.h:8:9: ${FUNCTION}: Looks like the BPF stack limit of 512 bytes is exceeded. Please move large on stack variables into BPF per-cpu array map.


make: *** [Makefile:37: stack.o] Error 1
`;

const NO_DEBUG_INFO = `error: <unknown>:0:0: in function f i32 (i32): A call to built-in function 'abort' is not supported.
`;

const INLINE_ASM = `<inline asm>:1:7: error: invalid operand for instruction
        r2 = &foo ll
             ^
note: !srcloc = 405632
make: *** [Makefile:37: asm.o] Error 1
`;

const BAD_IR = `llc: error: llc: bad.ll:2:1: error: expected type

^
make: *** [Makefile:37: bad.o] Error 1
`;

const failedRun = { argv: ['make'], exitCode: 2, signal: null, stdout: '', stderr: '', cancelled: false, timedOut: false, durationMs: 1 } as unknown as RunResult;

describe('llc diagnostics (Cilium llc-era trees)', () => {
  let root: string;
  let custom: string;
  const write = (file: string, text = '') => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-llcdiag-'));
    custom = path.join(root, 'tree', 'bpf', 'custom');
    write(path.join(custom, 'trap.h'));
    write(path.join(custom, 'stack.h'));
    write(path.join(custom, 'bpf_custom.c'));
    write(path.join(root, 'tree', 'bpf', 'include', 'bpf', 'builtins.h'));
    write(path.join(custom, 'asm.h'), 'static void f(void)\n{\n\tasm volatile("r2 = &foo ll\\n\\t" ::: "r2");\n}\n');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("puts llc's error on the header's line and column, without the function prefix", () => {
    const [d, ...rest] = parseClangDiagnostics(TRAP, custom);
    assert.deepEqual(rest, []);
    assert.equal(d.file, path.join(custom, 'trap.h'));
    assert.deepEqual([d.line, d.column, d.severity], [6, 3, 'error']);
    assert.equal(d.message, "A call to built-in function 'abort' is not supported.");
    assert.equal(formatDiagnostic(d), `${path.join(custom, 'trap.h')}:6:3: error: A call to built-in function 'abort' is not supported.`);
    assert.deepEqual(parseToolErrors(TRAP), ['make: *** [Makefile:37: trap.o] Error 1'], 'a located llc error is not also a tool error');
  });

  it("resolves a name relative to an ancestor of make's folder (the debug info's common prefix)", () => {
    const [d] = parseClangDiagnostics(BUILTIN_MEMSET, custom);
    assert.equal(d.file, path.join(root, 'tree', 'bpf', 'include', 'bpf', 'builtins.h'));
    assert.equal(d.line, 132);
    // A header outside the tree: named relative to the common prefix of make's folder and the header.
    const outside = write(path.join(root, 'elsewhere', 'mine.h'));
    const [o] = parseClangDiagnostics(`error: elsewhere/mine.h:3:2: ${FUNCTION}: A call to built-in function 'abort' is not supported.\n`, custom);
    assert.equal(o.file, outside);
    // Absolute names stay as they are.
    const [a] = parseClangDiagnostics(`error: ${outside}:4:1: ${FUNCTION}: x\n`, custom);
    assert.equal(a.file, outside);
  });

  it('keeps an error at line 0 (no location) out of the diagnostics but in the tool errors', () => {
    const diagnostics = parseClangDiagnostics(STACK, custom);
    assert.deepEqual(diagnostics.map((d) => [d.file, d.line, d.column]), [[path.join(custom, 'stack.h'), 8, 9]]);
    assert.match(diagnostics[0].message, /^Looks like the BPF stack limit of 512 bytes is exceeded/);
    const tools = parseToolErrors(STACK);
    assert.equal(tools.length, 2);
    assert.match(tools[0], /^error: bpf_custom\.c:0:0: .*stack limit/);
    assert.deepEqual(parseClangDiagnostics(NO_DEBUG_INFO, custom), []);
    assert.deepEqual(parseToolErrors(NO_DEBUG_INFO), [NO_DEBUG_INFO.trim()]);
  });

  it('finds the inline assembly llc quotes in the header, at the caret', () => {
    const header = path.join(custom, 'asm.h');
    const [d] = parseClangDiagnostics(INLINE_ASM, custom, { headerPath: header });
    assert.equal(d.file, header);
    assert.equal(d.line, 3);
    // '\tasm volatile("' is 15 characters; the caret is under '&', 5 characters into the instruction.
    assert.equal(d.column, 21);
    assert.equal(d.message, 'invalid operand for instruction');
    assert.deepEqual(parseToolErrors(INLINE_ASM, { headerPath: header }), ['make: *** [Makefile:37: asm.o] Error 1']);
    // Not in the header (or no header given): no made-up location, but the error is not lost.
    assert.deepEqual(parseClangDiagnostics(INLINE_ASM, custom), []);
    assert.deepEqual(parseToolErrors(INLINE_ASM), ['<inline asm>:1:7: error: invalid operand for instruction', 'make: *** [Makefile:37: asm.o] Error 1']);
    assert.deepEqual(parseClangDiagnostics(INLINE_ASM, custom, { headerPath: path.join(custom, 'trap.h') }), []);
  });

  it("does not take llc's complaint about the intermediate .ll for a source location", () => {
    assert.deepEqual(parseClangDiagnostics(BAD_IR, custom), []);
    assert.deepEqual(parseToolErrors(BAD_IR), ['llc: error: llc: bad.ll:2:1: error: expected type', 'make: *** [Makefile:37: bad.o] Error 1']);
  });

  it('a build failing in llc is a compile failure with its error count, not make\'s "Error 1"', () => {
    const header = path.join(custom, 'stack.h');
    const failure = explainMakeFailure(failedRun, parseClangDiagnostics(STACK, custom), parseToolErrors(STACK), header);
    assert.equal(failure.kind, 'compile');
    assert.equal(failure.failure, 'build failed with 1 error');
    const noLocation = explainMakeFailure(failedRun, parseClangDiagnostics(NO_DEBUG_INFO, custom), parseToolErrors(NO_DEBUG_INFO), header);
    assert.equal(noLocation.kind, 'make');
    assert.match(noLocation.failure, /abort' is not supported/);
  });

  it("still reads clang's own lines, with a tool's name in front or not", () => {
    const [d] = parseClangDiagnostics('./trap.h:5:3: error: use of undeclared identifier \'x\'\n', custom);
    assert.deepEqual([d.file, d.line, d.column], [path.join(custom, 'trap.h'), 5, 3]);
    assert.deepEqual(parseToolErrors("clang: error: no such file or directory: 'x.h'\n"), ["clang: error: no such file or directory: 'x.h'"]);
    assert.deepEqual(parseClangDiagnostics("clang: error: no such file or directory: 'x.h'\n", custom), []);
  });
});
