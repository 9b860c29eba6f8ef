import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { BuildInputError, buildMakeArgs, defaultProgName, makeVariable, objectPathFor } from '../../../src/core/build/makeArgs';
import type { MakeDirectory } from '../../../src/core/build/makeDirectory';

const sdk: MakeDirectory = { dir: '/opt/ext/bpf', source: 'bundled-sdk', ciliumTree: false };
const cilium: MakeDirectory = { dir: '/src/cilium/bpf/custom', source: 'header-folder', ciliumTree: true };

describe('make command line', () => {
  it('builds a header outside the SDK by its absolute path, with an explicit section name and -B', () => {
    const inv = buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: '/home/u/p/bytecount.h', goAvailable: true });
    assert.deepEqual(inv.argv, ['make', '-B', '-C', '/opt/ext/bpf', 'BPF_CUSTOM_PROG_FILE=/home/u/p/bytecount.h', 'BPF_CUSTOM_PROG_NAME=bytecount']);
    assert.equal(inv.cwd, '/opt/ext/bpf');
    assert.equal(inv.objectPath, '/home/u/p/bytecount.o');
    assert.equal(inv.progName, 'bytecount');
  });

  it('passes GO=true inside a Cilium tree only when go is missing', () => {
    const without = buildMakeArgs({ make: 'make', makeDir: cilium, headerPath: '/src/cilium/bpf/custom/bytecount.h', goAvailable: false });
    assert.ok(without.argv.includes('GO=true'));
    const withGo = buildMakeArgs({ make: 'make', makeDir: cilium, headerPath: '/src/cilium/bpf/custom/bytecount.h', goAvailable: true });
    assert.ok(!withGo.argv.includes('GO=true'));
    assert.ok(withGo.argv.includes('BPF_CUSTOM_PROG_NAME=bytecount'), 'Cilium builds always name the section');
  });

  it('escapes $ so make cannot expand a file name as a function call', () => {
    assert.equal(makeVariable('BPF_CUSTOM_PROG_FILE', '/x/$(shell touch pwned).h'), 'BPF_CUSTOM_PROG_FILE=/x/$$(shell touch pwned).h');
    assert.equal(makeVariable('A', '$$'), 'A=$$$$');
  });

  it('keeps a path with spaces and quotes as one argument for the bundled SDK', () => {
    const header = "/tmp/my dir/it's \"odd\"; x.h";
    const inv = buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: header, goAvailable: true });
    assert.equal(inv.argv[4], `BPF_CUSTOM_PROG_FILE=${header}`);
    assert.equal(inv.argv.length, 6);
    assert.equal(inv.progName, 'it_s__odd___x');
  });

  it("refuses names that Cilium's Makefile would hand to the shell unquoted", () => {
    assert.throws(
      () => buildMakeArgs({ make: 'make', makeDir: cilium, headerPath: '/src/cilium/bpf/custom/a;b.h', goAvailable: true }),
      (e: unknown) => e instanceof BuildInputError && /unquoted/.test(e.message),
    );
  });

  it('falls back to the bare name inside a Cilium tree whose path has spaces', () => {
    const spaced: MakeDirectory = { dir: '/My Src/cilium/bpf/custom', source: 'header-folder', ciliumTree: true };
    const inv = buildMakeArgs({ make: 'make', makeDir: spaced, headerPath: '/My Src/cilium/bpf/custom/bytecount.h', goAvailable: true });
    assert.ok(inv.argv.includes('BPF_CUSTOM_PROG_FILE=bytecount.h'));
  });

  it('rejects newlines, non-headers, bad section names and bad variable names', () => {
    assert.throws(() => makeVariable('A', 'x\ny'), BuildInputError);
    assert.throws(() => makeVariable('A=B', 'x'), BuildInputError);
    assert.throws(() => buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: '/x/prog.c', goAvailable: true }), /not a header/);
    assert.throws(() => buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: '/x/p.h', progName: 'a b', goAvailable: true }), /section name/);
  });

  it('passes extra variables after the contract variables', () => {
    const inv = buildMakeArgs({ make: 'gmake', makeDir: sdk, headerPath: '/x/p.h', goAvailable: true, extraVariables: { CLANG: 'clang-17' } });
    assert.equal(inv.argv[0], 'gmake');
    assert.equal(inv.argv.at(-1), 'CLANG=clang-17');
  });

  it('derives names from the header', () => {
    assert.equal(defaultProgName('/a/b/tail_context.h'), 'tail_context');
    assert.equal(objectPathFor('rel/x.h'), path.resolve('rel/x.o'));
  });
});
