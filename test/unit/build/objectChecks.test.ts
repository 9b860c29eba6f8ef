// The object checks without clang: ELF parsing, "is this a BPF object", "are its programs tc programs", and the
// build's "does it still call an undefined custom_prog", on objects built in memory.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkBuiltObject } from '../../../src/core/build/builtObject';
import { ElfFormatError, parseElfObject, programSections } from '../../../src/core/build/elfSections';
import { checkObjectKind } from '../../../src/core/verify/objectKind';
import { VerifyProblem } from '../../../src/core/verify/verifyErrors';
import { buildElf, type FakeSection, type FakeSymbol } from './elfBuilder';

describe('object checks (ELF read directly)', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-objcheck-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  const write = (data: Buffer | string) => {
    const file = path.join(dir, `obj${n++}.o`);
    fs.writeFileSync(file, data);
    return file;
  };
  const object = (sections: FakeSection[], symbols: FakeSymbol[] = [], machine?: number) => write(buildElf({ machine, sections, symbols }));
  const problem = async (pending: Promise<unknown>): Promise<VerifyProblem> => {
    try {
      await pending;
    } catch (error) {
      if (error instanceof VerifyProblem) return error;
      throw error;
    }
    assert.fail('expected a VerifyProblem');
  };

  it('reads sections, their indexes and the symbols defined in them or undefined', () => {
    const elf = parseElfObject(buildElf({ sections: [{ name: 'bytecount' }, { name: 'license', flags: 0x3, size: 4 }], symbols: [{ name: 'custom_hook', section: 'bytecount' }, { name: 'custom_prog' }] }), 'x.o');
    assert.equal(elf.machine, 247);
    assert.deepEqual(
      elf.sections.slice(0, 2).map((s) => [s.index, s.name]),
      [
        [1, 'bytecount'],
        [2, 'license'],
      ],
    );
    assert.deepEqual(programSections(elf.sections), ['bytecount']);
    assert.deepEqual(
      elf.symbols.map((s) => [s.name, s.section]),
      [
        ['custom_hook', 1],
        ['custom_prog', 0],
      ],
    );
  });

  it('says why a file is not ELF: not ELF, 32-bit, truncated', () => {
    const reason = (data: Buffer) => {
      try {
        parseElfObject(data, 'f');
      } catch (error) {
        return (error as ElfFormatError).reason;
      }
      return 'parsed';
    };
    assert.equal(reason(Buffer.from('hello\n')), 'not-elf');
    assert.equal(reason(Buffer.alloc(0)), 'not-elf');
    const elf32 = Buffer.alloc(64);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]).copy(elf32);
    assert.equal(reason(elf32), 'not-64-bit');
    assert.equal(reason(buildElf({ sections: [{ name: 'x' }] }).subarray(0, 100)), 'truncated');
  });

  describe('verify refuses what a custom-call slot cannot take', () => {
    it('an XDP program, named as such with its section and function', async () => {
      const file = object([{ name: 'xdp' }], [{ name: 'xdp_pass', section: 'xdp' }]);
      const p = await problem(checkObjectKind(file));
      assert.equal(p.kind, 'wrong-program-type');
      assert.match(p.message, /holds an XDP program \(section xdp, function xdp_pass\); custom calls take tc programs/);
    });

    for (const [section, title] of [
      ['kprobe/do_sys_open', 'a kprobe program'],
      ['tracepoint/syscalls/sys_enter_openat', 'a tracepoint program'],
      ['socket', 'a socket filter program'],
      ['cgroup/skb', 'a cgroup skb program'],
      ['cgroup/connect4', 'a cgroup socket-address program'],
      ['action', 'a tc action program'],
      ['xdp.frags', 'an XDP program'],
      ['fentry/tcp_v4_connect', 'an fentry program'],
    ]) {
      it(`section ${section}: ${title}`, async () => {
        const p = await problem(checkObjectKind(object([{ name: section }], [{ name: 'fn', section }])));
        assert.equal(p.kind, 'wrong-program-type');
        assert.ok(p.message.includes(`${title} (section ${section}`), p.message);
      });
    }

    it('names every wrong section when there are several', async () => {
      const p = await problem(checkObjectKind(object([{ name: 'xdp' }, { name: 'kprobe/x' }])));
      assert.match(p.message, /an XDP program \(section xdp\) \(and 1 more: section kprobe\/x\)/);
    });

    it('a non-BPF ELF object (x86-64), a text file, an empty file, a directory, a missing file', async () => {
      assert.match((await problem(checkObjectKind(object([{ name: '.text' }], [], 62)))).message, /ELF object for x86-64, not BPF/);
      const text = await problem(checkObjectKind(write('not an object\n')));
      assert.equal(text.kind, 'not-bpf-object');
      assert.match(text.message, /is not an ELF object file/);
      assert.equal((await problem(checkObjectKind(write('')))).kind, 'not-bpf-object');
      assert.equal((await problem(checkObjectKind(dir))).kind, 'not-bpf-object');
      assert.equal((await problem(checkObjectKind(path.join(dir, 'missing.o')))).kind, 'object-missing');
    });

    it('an object with no program besides .text', async () => {
      const p = await problem(checkObjectKind(object([{ name: '.text' }])));
      assert.equal(p.kind, 'not-bpf-object');
      assert.match(p.message, /holds no BPF program/);
    });
  });

  describe('verify accepts', () => {
    const accepts = async (sections: FakeSection[], symbols: FakeSymbol[] = [], landing?: string) => {
      const result = await checkObjectKind(object(sections, symbols), landing);
      assert.ok(result.programs.length > 0);
    };
    it('the landing section (named after the header), even when its name is a libbpf one', async () => {
      await accepts([{ name: 'xdp' }], [], 'xdp');
      await accepts([{ name: 'xdp' }], [{ name: 'custom_hook', section: 'xdp' }]);
    });
    it('tc, classifier, tcx and netkit sections, and names libbpf does not know (loaded as classifier)', async () => {
      for (const name of ['tc', 'classifier', 'tc/ingress', 'tcx/egress', 'netkit/peer', 'bytecount', 'tail_context/stage1', 'xdp_like_but_not_xdp']) await accepts([{ name }]);
    });
    it('subprograms in .text next to a program', async () => {
      await accepts([{ name: '.text' }, { name: 'bytecount' }]);
    });
  });

  describe('the build refuses', () => {
    it('an object that still calls an undefined custom_prog (the header does not define it)', async () => {
      const file = object([{ name: 'empty' }], [{ name: 'custom_hook', section: 'empty' }, { name: 'custom_prog' }]);
      const failure = await checkBuiltObject(file, '/h/empty.h', '/sdk');
      assert.equal(failure?.kind, 'no-custom-prog');
      assert.match(failure!.failure, /empty\.h does not define custom_prog\(\)/);
    });
    it('no object, an empty placeholder, and a non-BPF object', async () => {
      assert.match((await checkBuiltObject(path.join(dir, 'none.o'), '/h/p.h', '/sdk'))!.failure, /make succeeded but did not write p\.o/);
      assert.match((await checkBuiltObject(write(''), '/h/p.h', '/sdk'))!.failure, /did not write/);
      assert.match((await checkBuiltObject(object([{ name: '.text' }], [], 62), '/h/p.h', '/sdk'))!.failure, /not a BPF object \(ELF machine 62\)/);
    });
    it('but not a good object (custom_prog inlined, or defined in the object)', async () => {
      assert.equal(await checkBuiltObject(object([{ name: 'p' }], [{ name: 'custom_hook', section: 'p' }]), '/h/p.h', '/sdk'), undefined);
      assert.equal(await checkBuiltObject(object([{ name: '.text' }, { name: 'p' }], [{ name: 'custom_prog', section: '.text' }]), '/h/p.h', '/sdk'), undefined);
    });
  });
});
