import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from '../../../src/core/process';
import { lookupInsn, parseObjdumpLines, readObjectLineInfo } from '../../../src/core/verifier/objectLineInfo';
import { loadCorpus } from './corpus';

// llvm-objdump -d -l --no-show-raw-insn output (clang 14) for a program calling a static subprogram.
const OBJDUMP = `
16.o:	file format elf64-bpf

Disassembly of section .text:

0000000000000000 <bump>:
; bump():
; /src/16.c:12
       0:	*(u32 *)(r10 - 4) = r1
       1:	r2 = r10
       2:	r2 += -4
; /src/16.c:13
       3:	r1 = 0 ll
       5:	call 1
       6:	r1 = 1
; /src/16.c:16
       7:	lock *(u64 *)(r0 + 0) += r1
; /src/16.c:17
       8:	exit

Disassembly of section tc:

0000000000000000 <with_subprog>:
; /src/16.c:23
       0:	r2 = *(u32 *)(r1 + 0)
       1:	r1 = 1
       2:	if r2 > 1000 goto +1 <LBB0_2>
       3:	r1 = 0

0000000000000020 <LBB0_2>:
; LBB0_2():
       4:	call -1
; /src/16.c:26
       5:	r0 = 0
       6:	exit
`;

describe('object line info', () => {
  const sections = parseObjdumpLines(OBJDUMP);

  it('maps instructions of the program section, carrying lines across labels', () => {
    assert.deepEqual(lookupInsn(sections, 0, 'tc'), { file: '16.c', line: 23 });
    assert.deepEqual(lookupInsn(sections, 4, 'tc'), { file: '16.c', line: 23 });
    assert.deepEqual(lookupInsn(sections, 6, 'tc', 'with_subprog'), { file: '16.c', line: 26 });
    assert.equal(sections.get('tc')?.functions.length, 1, 'LBB labels are not functions');
  });

  it('maps indices past the program into the appended .text subprogram, and ldimm64 second slots', () => {
    assert.deepEqual(lookupInsn(sections, 14, 'tc'), { file: '16.c', line: 16 });
    assert.deepEqual(lookupInsn(sections, 4, '.text'), { file: '16.c', line: 13 });
    assert.equal(lookupInsn(sections, 3, 'nosuchsection'), null);
  });

  it('reports a missing tool instead of throwing', async () => {
    const r = await readObjectLineInfo('/nonexistent.o', { tools: ['no-such-llvm-objdump-xyz'] });
    assert.equal(r.ok, false);
  });

  it('maps corpus failing instructions through a real clang build', async function () {
    this.timeout(60_000);
    const probe = await runProcess(['clang', '--version']);
    if (probe.exitCode !== 0) {
      if (process.env.CI === 'true') assert.fail('clang is required in CI for the object line-info test');
      console.warn('WARNING: clang not found: skipping the objectLineInfo build test');
      this.skip();
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'verifier-objline-'));
    try {
      const includes = ['x86_64-linux-gnu', 'aarch64-linux-gnu']
        .map((d) => path.join('/usr/include', d))
        .filter((d) => fs.existsSync(d))
        .flatMap((d) => ['-I', d]);
      // 01: main program; 16: static subprogram appended by libbpf; 58: global function.
      const wanted: [string, string][] = [['01-', 'tc'], ['16-', 'tc'], ['58-', 'tc']];
      for (const [prefix, section] of wanted) {
        const c = loadCorpus().find((x) => x.name.startsWith(prefix));
        assert.ok(c?.source, `corpus case ${prefix} with its .c`);
        const obj = path.join(tmp, `${c.name}.o`);
        const src = path.join(path.dirname(c.logPath), c.source.name);
        const build = await runProcess(['clang', '-O2', '-g', '--target=bpf', ...includes, '-c', src, '-o', obj]);
        assert.equal(build.exitCode, 0, `clang failed: ${build.stderr}`);
        const info = await readObjectLineInfo(obj);
        assert.ok(info.ok, info.ok ? '' : info.reason);
        const insn = c.sidecar.failing_insn_idx;
        assert.ok(typeof insn === 'number');
        assert.deepEqual(lookupInsn(info.sections, insn, section), { file: c.source.name, line: c.sidecar.source_line }, c.name);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
