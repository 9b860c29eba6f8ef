// Where make writes the object before it is renamed into place: the argv, the temporary files, the names put back
// into make's output, and the clean-up of what killed builds left.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildMakeArgs, BuildInputError } from '../../../src/core/build/makeArgs';
import type { MakeDirectory } from '../../../src/core/build/makeDirectory';
import { takesObjectPath } from '../../../src/core/build/makeDirectory';
import { removeScratch, removeStaleScratch, stageBuild } from '../../../src/core/build/staging';

describe('build staging (temporary object names)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-staging-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const sdk: MakeDirectory = { dir: '/opt/sdk', source: 'bundled-sdk', ciliumTree: false };
  const header = (name = 'prog.h') => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, 'static __always_inline void custom_prog(void *ctx, __u32 id) {}\n');
    return file;
  };
  const hidden = () => fs.readdirSync(dir).filter((f) => f.startsWith('.'));

  it('the SDK writes to BPF_CUSTOM_PROG_OBJ, a reserved hidden name next to the object', () => {
    const h = header();
    const invocation = buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: h, goAvailable: true });
    const staging = stageBuild(invocation, h, 'object-variable');
    assert.deepEqual(staging.argv.slice(0, -1), invocation.argv);
    assert.equal(staging.argv.at(-1), `BPF_CUSTOM_PROG_OBJ=${staging.tempObject}`);
    assert.equal(path.dirname(staging.tempObject), dir);
    assert.match(path.basename(staging.tempObject), /^\.prog\.\d+-\d{6}\.o$/);
    assert.ok(fs.existsSync(staging.tempObject), 'reserved');
    assert.equal(staging.restoreNames(`  CLANG   ${staging.tempObject}`), `  CLANG   ${path.join(dir, 'prog.o')}`);
    removeScratch(staging);
    assert.deepEqual(hidden(), []);
  });

  it("Cilium's Makefile gets a temporary header that includes the real one by its full path", () => {
    const h = header();
    const cilium: MakeDirectory = { dir, source: 'header-folder', ciliumTree: true };
    const invocation = buildMakeArgs({ make: 'make', makeDir: cilium, headerPath: h, goAvailable: false });
    const staging = stageBuild(invocation, h, 'wrapper');
    const fileArg = staging.argv.find((a) => a.startsWith('BPF_CUSTOM_PROG_FILE='))!;
    const wrapper = fileArg.slice('BPF_CUSTOM_PROG_FILE='.length);
    assert.equal(path.dirname(wrapper), dir);
    assert.match(path.basename(wrapper), /^\.prog\.\d+-\d{6}\.h$/);
    assert.match(fs.readFileSync(wrapper, 'utf8'), new RegExp(`#include "${h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    assert.ok(staging.argv.includes('BPF_CUSTOM_PROG_NAME=prog'), 'the section keeps the header name');
    assert.ok(staging.argv.includes('GO=true'));
    assert.equal(staging.tempObject, wrapper.replace(/\.h$/, '.o'));
    const stem = path.basename(wrapper, '.h');
    assert.equal(staging.restoreNames(`In file included from ${wrapper}:2:\nmake: *** [${dir}/${stem}.ll] Error 1`), `In file included from ${h}:2:\nmake: *** [${dir}/prog.ll] Error 1`);
    fs.writeFileSync(path.join(dir, `${stem}.ll`), '');
    removeScratch(staging);
    assert.deepEqual(hidden(), []);
  });

  it('a wrapper in a folder whose path has a quote includes the header by its bare name', () => {
    const quoted = path.join(dir, 'a"b');
    fs.mkdirSync(quoted);
    const h = path.join(quoted, 'prog.h');
    fs.writeFileSync(h, '');
    const makeDir: MakeDirectory = { dir: quoted, source: 'header-folder', ciliumTree: false };
    const staging = stageBuild(buildMakeArgs({ make: 'make', makeDir, headerPath: h, goAvailable: true }), h, 'wrapper');
    const wrapper = staging.scratch[0];
    assert.match(fs.readFileSync(wrapper, 'utf8'), /#include "prog\.h"/);
    removeScratch(staging);
  });

  it('a header name an #include cannot spell is refused for a wrapper', () => {
    const h = header('a"b.h');
    const makeDir: MakeDirectory = { dir, source: 'header-folder', ciliumTree: false };
    assert.throws(() => stageBuild(buildMakeArgs({ make: 'make', makeDir, headerPath: h, goAvailable: true }), h, 'wrapper'), BuildInputError);
    assert.deepEqual(hidden(), []);
  });

  it('a folder that cannot be written to fails at once, with the system error, before make runs', () => {
    // A missing folder stands in for a read-only one: unit tests may run as root, for whom modes do not apply
    // (the system test mounts a read-only file system).
    const h = path.join(dir, 'missing-folder', 'p.h');
    const invocation = buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: h, goAvailable: true });
    assert.throws(() => stageBuild(invocation, h, 'object-variable'), /ENOENT/);
  });

  it("removes what killed builds of this header left (a dead pid in the name), not live builds' files or others'", () => {
    header();
    const dead = 2 ** 22 + 12345; // Above pid_max's default; no such process.
    const files = [`.prog.${dead}-000001.o`, `.prog.${dead}-000001.h`, `.prog.${dead}-000001.ll`, `.prog.${process.pid}-000002.o`, `.other.${dead}-000003.o`, `.prog.${dead}-x.o`];
    for (const f of files) fs.writeFileSync(path.join(dir, f), '');
    removeStaleScratch(path.join(dir, 'prog.h'));
    assert.deepEqual(hidden().sort(), [`.other.${dead}-000003.o`, `.prog.${dead}-x.o`, `.prog.${process.pid}-000002.o`].sort());
  });

  it('the SDK and copies of it take BPF_CUSTOM_PROG_OBJ; Cilium trees and other Makefiles do not', () => {
    assert.equal(takesObjectPath(sdk), true);
    assert.equal(takesObjectPath({ dir, source: 'header-folder', ciliumTree: true }), false);
    fs.writeFileSync(path.join(dir, 'Makefile'), 'BPF_CUSTOM_PROG_FILE ?= x.h\n');
    assert.equal(takesObjectPath({ dir, source: 'header-folder', ciliumTree: false }), false);
    fs.writeFileSync(path.join(dir, 'Makefile'), 'export BPF_CUSTOM_PROG_FILE BPF_CUSTOM_PROG_OBJ\n');
    assert.equal(takesObjectPath({ dir, source: 'setting', ciliumTree: false }), true);
  });
});
