import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  compileCommandForHeader,
  compileFlags,
  isOurEntry,
  landingIncludes,
  OUR_MARKER,
} from '../../../src/core/compileCommands/entries';
import { generateCompileCommands, mergeEntries } from '../../../src/core/compileCommands/generate';

const SDK_LANDING = '#include "sdk/prelude.h"\n#ifndef X\n# include __stringify(BPF_CUSTOM_PROG_FILE)\n#endif\n#include "late.h"\n';
const sdk = { dir: '/opt/ext/bpf', source: 'bundled-sdk' as const, ciliumTree: false };
const cilium = { dir: '/src/cilium/bpf/custom', source: 'header-folder' as const, ciliumTree: true };

describe('compile_commands entries', () => {
  it('force-includes what the landing program includes before the custom program, and nothing after', () => {
    assert.deepEqual(landingIncludes(SDK_LANDING), ['sdk/prelude.h']);
    // Cilium's landing program: angle and quoted includes, a default define, then the stringified include.
    const cilium = [
      '#include <bpf/ctx/skb.h>',
      '#include <bpf/api.h>',
      '#include <node_config.h>',
      '#include "lib/common.h"',
      '#ifndef BPF_CUSTOM_PROG_FILE',
      '# define BPF_CUSTOM_PROG_FILE bytecount.h',
      '#endif',
      '#include STRINGIFY(BPF_CUSTOM_PROG_FILE)',
      '#include "after.h"',
    ].join('\n');
    assert.deepEqual(landingIncludes(cilium), ['bpf/ctx/skb.h', 'bpf/api.h', 'node_config.h', 'lib/common.h']);
  });

  it('uses the bundled SDK Makefile flags and compiles the header itself', () => {
    const flags = compileFlags(sdk, { multiarch: 'x86_64-linux-gnu', asmDirExists: () => true, landingSource: SDK_LANDING });
    const entry = compileCommandForHeader('/home/u/progs/bytecount.h', flags);
    assert.equal(entry.file, '/home/u/progs/bytecount.h');
    assert.equal(entry.directory, '/opt/ext/bpf');
    assert.deepEqual(entry.arguments, [
      'clang',
      '-x',
      'c',
      '--target=bpf',
      '-O2',
      '-g',
      '-Wall',
      '-I/opt/ext/bpf/include',
      '-I/usr/include/x86_64-linux-gnu',
      '-DBPF_CUSTOM_PROG_PREINCLUDED',
      OUR_MARKER,
      '-DBPF_CUSTOM_PROG_SEC="bytecount"',
      '-DBPF_CUSTOM_PROG_SEC_ASM_SAFE',
      '-iquote',
      '/home/u/progs',
      '-include',
      'sdk/prelude.h',
      '-fsyntax-only',
      '/home/u/progs/bytecount.h',
    ]);
  });

  it('leaves out the multiarch directory when it does not exist, like the Makefile', () => {
    const flags = compileFlags(sdk, { multiarch: 'aarch64-linux-gnu', asmDirExists: () => false, landingSource: SDK_LANDING });
    assert.ok(!flags.flags.some((f) => f.startsWith('-I/usr/include')));
  });

  it('keeps paths with spaces and quotes as single arguments', () => {
    const flags = compileFlags({ ...sdk, dir: '/opt/my ext/bpf' }, { landingSource: SDK_LANDING });
    const entry = compileCommandForHeader("/home/u/my progs/it's.h", flags);
    assert.ok(entry.arguments.includes('-I/opt/my ext/bpf/include'));
    assert.ok(entry.arguments.includes('/home/u/my progs'));
    assert.equal(entry.arguments.at(-1), "/home/u/my progs/it's.h");
    // The section name is sanitised the way the build does it.
    assert.ok(entry.arguments.includes('-DBPF_CUSTOM_PROG_SEC="it_s"'));
    assert.equal(entry.directory, '/opt/my ext/bpf');
  });

  it('uses a Cilium tree\'s bpf/include and bpf/ and its landing program includes', () => {
    const flags = compileFlags(cilium, {
      nrCpus: 8,
      makefileBpfSource:
        'FLAGS := -I$(ROOT_DIR)/bpf/include -O2 -g\nCLANG_FLAGS := ${FLAGS} -target bpf -std=gnu89 -nostdinc -emit-llvm\nCLANG_FLAGS += -Wall -Wextra -Werror\n',
      landingSource: '#include <bpf/ctx/skb.h>\n#include <bpf/api.h>\n#include <lib/common.h>\n#include __stringify(BPF_CUSTOM_PROG_FILE)\n',
    });
    const entry = compileCommandForHeader('/src/cilium/bpf/custom/bytecount.h', flags);
    const args = entry.arguments;
    assert.ok(args.includes('-I/src/cilium/bpf/include'));
    assert.ok(args.includes('-I/src/cilium/bpf'));
    for (const flag of ['-nostdinc', '-std=gnu89', '-Wall', '-Wextra', '-Werror']) assert.ok(args.includes(flag), flag);
    assert.ok(!args.includes('-emit-llvm'));
    assert.ok(args.includes('-D__NR_CPUS__=8'));
    assert.ok(args.includes('-DBPF_CUSTOM_PROG_NAME=bytecount'));
    assert.ok(!args.includes('-DBPF_CUSTOM_PROG_PREINCLUDED'));
    assert.deepEqual(
      args.flatMap((a, i) => (args[i - 1] === '-include' ? [a] : [])),
      ['bpf/ctx/skb.h', 'bpf/api.h', 'lib/common.h'],
    );
  });

  it('takes an older Cilium tree as it is (no -nostdinc) and falls back to -Wall', () => {
    const flags = compileFlags(cilium, { makefileBpfSource: 'CLANG_FLAGS := ${FLAGS} -target bpf -emit-llvm\nCLANG_FLAGS += -Wall -Wextra\n', landingSource: '' });
    assert.ok(!flags.flags.includes('-nostdinc'));
    assert.ok(flags.flags.includes('-Wextra'));
    assert.deepEqual(compileFlags(cilium, { makefileBpfSource: '', landingSource: '' }).flags.filter((f) => f.startsWith('-W')), ['-Wall']);
  });

  it('tells our entries from foreign ones and merges', () => {
    const ours = compileCommandForHeader('/p/a.h', compileFlags(sdk, { landingSource: SDK_LANDING }));
    assert.ok(isOurEntry(ours));
    const foreignOther = { directory: '/p', file: 'main.c', command: 'cc -c main.c' };
    const foreignSame = { directory: '/p', file: 'a.h', command: 'cc -c a.h' };
    const staleOurs = { ...ours, file: '/p/gone.h' };
    const { merged, kept, replaced } = mergeEntries([foreignOther, foreignSame, staleOurs], [ours]);
    assert.deepEqual(merged, [ours, foreignOther]);
    assert.equal(kept, 1);
    assert.equal(replaced, 1);
  });

  it('writes one entry per top-level header and refuses a file that is not a JSON array', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc unit '));
    try {
      fs.writeFileSync(path.join(dir, 'a.h'), '');
      fs.writeFileSync(path.join(dir, 'b.h'), '');
      fs.mkdirSync(path.join(dir, 'common'));
      fs.writeFileSync(path.join(dir, 'common', 'c.h'), '');
      const request = { folder: dir, bundledSdkDir: '/opt/ext/bpf', flagOptions: { multiarch: 'x', landingSource: SDK_LANDING } };
      const result = generateCompileCommands(request);
      const written = JSON.parse(fs.readFileSync(result.file, 'utf8')) as { file: string }[];
      assert.deepEqual(
        written.map((e) => e.file),
        [path.join(dir, 'a.h'), path.join(dir, 'b.h')],
      );
      fs.writeFileSync(result.file, '{"not": "an array"}');
      assert.throws(() => generateCompileCommands(request), /not a JSON array/);
      assert.equal(fs.readFileSync(result.file, 'utf8'), '{"not": "an array"}');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
