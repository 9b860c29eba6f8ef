// Loader failures told from verifier rejections, on bpftool v7.1 / libbpf 1.1 output captured on kernel 6.18
// (`bpftool -d prog load OBJ PIN type classifier pinmaps DIR`, noise lines removed).
import * as assert from 'node:assert/strict';
import { LoaderOutputScanner, loaderFailure } from '../../../src/core/verify/loaderFailure';

const EXTERN = `libbpf: loading extern.o
libbpf: license of extern.o is GPL
libbpf: looking for externs among 14 symbols...
libbpf: failed to find BTF for extern 'undefined_helper' [21] section: -2
Error: failed to open object file
`;

const E2BIG = `libbpf: map 'e2big_jmp': found max_entries = 2.
libbpf: prog 'custom_hook': unrecognized ELF section name 'e2big'
libbpf: .maps relo #0: map 'e2big_jmp' slot [5] points to prog 'e2big_fn'
libbpf: map 'e2big_jmp': created successfully, fd=4
libbpf: prog 'custom_hook': -- BEGIN PROG LOAD LOG --
processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
-- END PROG LOAD LOG --
libbpf: map 'e2big_jmp': failed to initialize slot [5] to prog 'e2big_fn' fd=6: -7
libbpf: failed to load object 'e2big.o'
Error: failed to load object file
Warning: bpftool is now running in libbpf strict mode and has more stringent requirements about BPF programs.
`;

const BAD_MAP = `libbpf: map 'badmap_map': found max_entries = 0.
libbpf: Error in bpf_create_map_xattr(badmap_map):Invalid argument(-22). Retrying without BTF.
libbpf: map 'badmap_map': failed to create: Invalid argument(-22)
libbpf: failed to load object 'badmap.o'
Error: failed to load object file
`;

const NOT_BPF = `libbpf: loading host.o
libbpf: elf: host.o is not a valid eBPF object file
Error: failed to open object file
`;

const NOT_ELF = `libbpf: loading text.o
libbpf: elf: 'text.o' is not a proper ELF object
Error: failed to open object file
`;

const MISSING = `libbpf: loading missing.o
libbpf: elf: failed to open missing.o: No such file or directory
Error: failed to open object file
`;

const REJECTED = `libbpf: map 'null_deref_map': created successfully, fd=4
libbpf: prog 'custom_hook': BPF program load failed: Permission denied
libbpf: prog 'custom_hook': -- BEGIN PROG LOAD LOG --
0: R1=ctx() R10=fp0
9: (79) r1 = *(u64 *)(r0 +0)
R0 invalid mem access 'map_value_or_null'
processed 10 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1
-- END PROG LOAD LOG --
libbpf: prog 'custom_hook': failed to load: -13
libbpf: failed to load object 'null_deref.o'
Error: failed to load object file
`;

/** Feeds the text in chunks of `size` characters, as a stream would. */
function scan(text: string, size = 7): LoaderOutputScanner {
  const scanner = new LoaderOutputScanner();
  for (let i = 0; i < text.length; i += size) scanner.push(text.slice(i, i + size));
  scanner.end();
  return scanner;
}

describe('loader failures (not verifier rejections)', () => {
  it('an extern defined nowhere: loader-failed, naming the symbol, before the verifier ran', () => {
    const p = loaderFailure(scan(EXTERN), 'extern.o');
    assert.equal(p?.kind, 'loader-failed');
    assert.match(p!.message, /uses undefined_helper, which is declared extern but defined nowhere/);
    assert.match(p!.message, /before the verifier ran/);
    assert.doesNotMatch(p!.full, /register/i);
  });

  it('a PROG_ARRAY initialiser beyond max_entries: E2BIG after the verifier accepted', () => {
    const p = loaderFailure(scan(E2BIG), 'e2big.o');
    assert.equal(p?.kind, 'loader-failed');
    assert.match(p!.message, /verifier accepted the programs of e2big\.o, but libbpf could not put program e2big_fn into slot 5 of the PROG_ARRAY e2big_jmp \(E2BIG\)/);
    assert.match(p!.fix, /max_entries above 5/);
  });

  it('a map the kernel will not create', () => {
    const p = loaderFailure(scan(BAD_MAP), 'badmap.o');
    assert.equal(p?.kind, 'loader-failed');
    assert.match(p!.message, /could not create the map badmap_map of badmap\.o: Invalid argument\(-22\)\. This is a loader error/);
  });

  it('not a BPF object, not ELF, and gone before bpftool opened it', () => {
    assert.equal(loaderFailure(scan(NOT_BPF), 'host.o')?.kind, 'not-bpf-object');
    assert.equal(loaderFailure(scan(NOT_ELF), 'text.o')?.kind, 'not-bpf-object');
    const missing = loaderFailure(scan(MISSING), 'missing.o');
    assert.equal(missing?.kind, 'object-missing');
    assert.match(missing!.message, /missing\.o/);
  });

  it('a real rejection is left to the verifier-log parser', () => {
    const scanner = scan(REJECTED, 5);
    assert.equal(scanner.kernelRefused, true);
    assert.equal(loaderFailure(scanner, 'null_deref.o'), undefined);
  });

  it('an unknown libbpf failure is still a loader failure, quoting what libbpf and bpftool said', () => {
    const p = loaderFailure(scan('libbpf: something odd happened: -95\nError: failed to load object file\n'), 'x.o');
    assert.equal(p?.kind, 'loader-failed');
    assert.match(p!.message, /something odd happened: -95 \/ failed to load object file/);
  });

  it('nothing to say when bpftool printed neither libbpf errors nor an Error line', () => {
    assert.equal(loaderFailure(scan('garbage\n'), 'x.o'), undefined);
  });

  it('keeps a bounded number of lines from a long log', () => {
    const scanner = scan(`${'libbpf: failed to x\n'.repeat(1000)}${'Error: y\n'.repeat(1000)}`, 4096);
    assert.ok(scanner.libbpfCauses.length <= 20 && scanner.bpftoolErrors.length <= 20);
  });
});
