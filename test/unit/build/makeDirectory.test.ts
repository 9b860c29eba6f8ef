import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findMakeDirectory, isCiliumTree, isCustomProgramMakeDir } from '../../../src/core/build/makeDirectory';

describe('build directory discovery', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'makedir-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const write = (rel: string, text: string) => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };

  it('uses the bundled SDK for a header in a folder without a custom Makefile', () => {
    const header = write('proj/a.h', '');
    write('proj/Makefile', 'all:\n\tcc x.c\n');
    assert.deepEqual(findMakeDirectory(header, undefined, '/sdk'), { dir: '/sdk', source: 'bundled-sdk', ciliumTree: false });
  });

  it("uses the header's folder when its Makefile honours BPF_CUSTOM_PROG_FILE", () => {
    const header = write('proj/a.h', '');
    write('proj/Makefile', 'BPF_CUSTOM_PROG_FILE ?= a.h\n');
    const found = findMakeDirectory(header, undefined, '/sdk');
    assert.equal(found.dir, path.join(root, 'proj'));
    assert.equal(found.source, 'header-folder');
    assert.equal(found.ciliumTree, false);
  });

  it('recognises a Cilium checkout by bpf/custom and ../../Makefile.defs', () => {
    const header = write('cilium/bpf/custom/bytecount.h', '');
    write('cilium/bpf/custom/Makefile', 'include ../../Makefile.defs\nBPF_CUSTOM_PROG_FILE ?= bytecount.h\n');
    write('cilium/Makefile.defs', 'GO ?= go\n');
    const found = findMakeDirectory(header, undefined, '/sdk');
    assert.equal(found.ciliumTree, true);
    assert.ok(isCiliumTree(path.join(root, 'cilium/bpf/custom')));
  });

  it('puts the setting first, a relative one resolved from the current directory (as a shell user means it)', () => {
    const header = write('proj/a.h', '');
    write('proj/Makefile', 'BPF_CUSTOM_PROG_FILE ?= a.h\n');
    const found = findMakeDirectory(header, '../elsewhere', '/sdk');
    assert.deepEqual(found, { dir: path.resolve('../elsewhere'), source: 'setting', ciliumTree: false });
  });

  it('ignores a missing folder or an unreadable Makefile', () => {
    assert.equal(isCustomProgramMakeDir(path.join(root, 'nope')), false);
  });
});
