// Cilium trees after the removal of custom calls (1.19, no bpf/custom), decided by what the tree holds.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ciliumTreeRoot, ciliumTreeWithoutCustomCalls, customCallsRemovedMessage, notAMakeDirectoryMessage } from '../../../src/core/build/ciliumRemoval';
import { findMakeDirectory } from '../../../src/core/build/makeDirectory';

describe('Cilium trees without custom calls', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-removal-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const write = (rel: string, text = '') => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  /** The shape of a Cilium checkout: bpf/Makefile, bpf/include/bpf/, and VERSION or Makefile.defs. */
  const tree = (name: string, marker: 'VERSION' | 'Makefile.defs' = 'VERSION') => {
    write(`${name}/bpf/Makefile`, 'all:\n\tgo generate\n');
    write(`${name}/bpf/include/bpf/api.h`);
    write(`${name}/${marker}`, '1.19.0-dev\n');
    return path.join(root, name);
  };

  it('finds the tree from any folder inside it, by VERSION or Makefile.defs', () => {
    const main = tree('main');
    assert.equal(ciliumTreeRoot(path.join(main, 'bpf', 'lib')), main);
    assert.equal(ciliumTreeRoot(main), main);
    const defs = tree('defs', 'Makefile.defs');
    assert.equal(ciliumTreeRoot(path.join(defs, 'bpf')), defs);
    assert.equal(ciliumTreeRoot(root), undefined);
  });

  it('is not a tree without bpf/include/bpf, or without VERSION and Makefile.defs', () => {
    write('half/bpf/Makefile');
    write('half/VERSION');
    assert.equal(ciliumTreeRoot(path.join(root, 'half', 'bpf')), undefined);
    write('nover/bpf/Makefile');
    write('nover/bpf/include/bpf/api.h');
    assert.equal(ciliumTreeRoot(path.join(root, 'nover', 'bpf')), undefined);
  });

  it('a tree whose bpf/custom Makefile takes BPF_CUSTOM_PROG_FILE still has custom calls, whatever its VERSION says', () => {
    const main = tree('main');
    assert.equal(ciliumTreeWithoutCustomCalls(path.join(main, 'bpf')), main);
    write('main/bpf/custom/README.rst');
    assert.equal(ciliumTreeWithoutCustomCalls(path.join(main, 'bpf')), main, 'an empty bpf/custom is no bpf/custom');
    write('main/bpf/custom/Makefile', 'PROGS = $(patsubst %.h,%.o,$(BPF_CUSTOM_PROG_FILE))\n');
    assert.equal(ciliumTreeWithoutCustomCalls(path.join(main, 'bpf')), undefined);
  });

  it('a header there gets no bundled SDK silently: findMakeDirectory marks it', () => {
    const main = tree('main');
    const header = write('main/bpf/prog.h');
    assert.deepEqual(findMakeDirectory(header, undefined, '/sdk'), { dir: '/sdk', source: 'bundled-sdk', ciliumTree: false, ciliumWithoutCustomCalls: main });
    assert.equal(findMakeDirectory(header, '/sdk', '/sdk').ciliumWithoutCustomCalls, undefined, 'a configured directory is the user’s choice');
  });

  it('says what happened and what to do, in one line', () => {
    const message = customCallsRemovedMessage('/src/cilium', '/opt/ext/bpf');
    assert.equal(message.includes('\n'), false);
    assert.match(message, /^\/src\/cilium is a Cilium tree without bpf\/custom: custom calls were removed in Cilium 1\.19 \(PR #42094\); build against a 1\.18 tree \(--make-dir <1\.18 tree>\/bpf\/custom\) or the bundled SDK \(--make-dir \/opt\/ext\/bpf\)/);
  });

  it("names the way out for a configured directory that is not a make directory", () => {
    const main = tree('main');
    assert.match(notAMakeDirectoryMessage(path.join(main, 'bpf'), '/sdk'), /custom calls were removed/);
    write('main/bpf/custom/Makefile', 'x: $(BPF_CUSTOM_PROG_FILE)\n');
    assert.match(notAMakeDirectoryMessage(path.join(main, 'bpf'), '/sdk'), new RegExp(`; use ${path.join(main, 'bpf', 'custom')}$`));
    assert.match(notAMakeDirectoryMessage(path.join(root, 'plain'), '/sdk'), /plain is not a bpf\/custom-style make directory: it has no Makefile that takes BPF_CUSTOM_PROG_FILE \(.*\/sdk do\)$/);
  });
});
