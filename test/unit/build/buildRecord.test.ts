// The build record next to an object: current only for the same header, make directory, argv, object and inputs.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkBuildRecord, identityOf, makefilesOf, recordPathFor, writeBuildRecord, type BuildIdentity } from '../../../src/core/build/buildRecord';
import { buildMakeArgs } from '../../../src/core/build/makeArgs';
import type { MakeDirectory } from '../../../src/core/build/makeDirectory';

describe('build records', () => {
  let dir: string;
  let header: string;
  let object: string;
  let include: string;
  let identity: BuildIdentity;
  let makeDir: MakeDirectory;
  const reason = (f: ReturnType<typeof checkBuildRecord>) => (f.current ? 'current' : f.reason);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-record-'));
    fs.mkdirSync(path.join(dir, 'sdk'));
    fs.writeFileSync(path.join(dir, 'sdk', 'Makefile'), 'BPF_CUSTOM_PROG_FILE ?=\n');
    makeDir = { dir: path.join(dir, 'sdk'), source: 'setting', ciliumTree: false };
    header = path.join(dir, 'prog.h');
    fs.writeFileSync(header, '#include "inc.h"\n');
    include = path.join(dir, 'inc.h');
    fs.writeFileSync(include, '/* v1 */\n');
    object = path.join(dir, 'prog.o');
    fs.writeFileSync(object, 'ELF object bytes');
    identity = identityOf(buildMakeArgs({ make: 'make', makeDir, headerPath: header, goAvailable: true }), makeDir, header);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (inputs = [header, include, ...makefilesOf(makeDir)], started = Date.now() + 1000) => writeBuildRecord(object, identity, inputs, started);

  it('is current right after it is written, and the record is a hidden file next to the object', () => {
    assert.equal(write(), undefined);
    assert.equal(recordPathFor(object), path.join(dir, '.prog.o.cilium-custom.json'));
    assert.equal(reason(checkBuildRecord(object, identity)), 'current');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['.prog.o.cilium-custom.json', 'inc.h', 'prog.h', 'prog.o', 'sdk']);
  });

  it('a changed input, even with its old timestamps, makes it stale; the same content does not', () => {
    write();
    const { atime, mtime } = fs.statSync(include);
    fs.writeFileSync(include, '/* v1 */\n');
    assert.equal(reason(checkBuildRecord(object, identity)), 'current', 'rewritten with the same content');
    fs.writeFileSync(include, '/* v2 */\n');
    fs.utimesSync(include, atime, mtime);
    assert.equal(reason(checkBuildRecord(object, identity)), `${include} changed since the build`);
    fs.rmSync(include);
    assert.equal(reason(checkBuildRecord(object, identity)), `${include} is gone`);
  });

  it('a changed Makefile makes it stale', () => {
    write();
    fs.appendFileSync(path.join(dir, 'sdk', 'Makefile'), 'EXTRA_CFLAGS += -DX\n');
    assert.match(reason(checkBuildRecord(object, identity)), /sdk\/Makefile changed since the build/);
  });

  it('another make directory, other variables, or another object make it stale', () => {
    write();
    assert.match(reason(checkBuildRecord(object, { ...identity, makeDir: dir })), /^it was built through .*sdk, not /);
    const vars = identityOf(buildMakeArgs({ make: 'make', makeDir, headerPath: header, goAvailable: true, extraVariables: { EXTRA_CFLAGS: '-DX' } }), makeDir, header);
    assert.equal(reason(checkBuildRecord(object, vars)), 'it was built with other make settings (now EXTRA_CFLAGS=-DX)');
    const gmake = identityOf(buildMakeArgs({ make: 'gmake', makeDir, headerPath: header, goAvailable: true }), makeDir, header);
    assert.match(reason(checkBuildRecord(object, gmake)), /other make settings \(was make, now gmake\)/);
    fs.writeFileSync(object, 'another object');
    assert.equal(reason(checkBuildRecord(object, identity)), 'the object was replaced since its build');
    fs.rmSync(object);
    assert.equal(reason(checkBuildRecord(object, identity)), 'there is no object yet');
  });

  it('no record, an unreadable one, or one of another version: stale', () => {
    assert.match(reason(checkBuildRecord(object, identity)), /no build record/);
    fs.writeFileSync(recordPathFor(object), '{ not json');
    assert.match(reason(checkBuildRecord(object, identity)), /no build record/);
    fs.writeFileSync(recordPathFor(object), JSON.stringify({ version: 99, inputs: [], argv: [] }));
    assert.match(reason(checkBuildRecord(object, identity)), /another version/);
    for (const odd of ['null', '[]', JSON.stringify({ ...identity, version: 1, object: 'x', inputs: [1] }), JSON.stringify({ ...identity, version: 1, object: 'x', inputs: [['a']] })]) {
      fs.writeFileSync(recordPathFor(object), odd);
      assert.match(reason(checkBuildRecord(object, identity)), /another version/, odd);
    }
  });

  it('is not written when an input changed after the build started, or is gone: the object may not show it', () => {
    write();
    assert.equal(write(undefined, Date.now() - 60_000), `${header} changed during the build`);
    assert.ok(!fs.existsSync(recordPathFor(object)), 'and the old record is removed');
    assert.equal(write([header, path.join(dir, 'gone.h')]), `${path.join(dir, 'gone.h')}, read by the compiler, is gone`);
    assert.ok(!fs.existsSync(recordPathFor(object)));
  });

  it('a record naming a FIFO or a device is stale at once, without blocking or reading it', () => {
    write();
    const record = JSON.parse(fs.readFileSync(recordPathFor(object), 'utf8')) as { inputs: [string, string][] };
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const planted of [fifo, '/dev/zero']) {
      fs.writeFileSync(recordPathFor(object), JSON.stringify({ ...record, inputs: [[planted, 'x'], ...record.inputs] }));
      assert.equal(reason(checkBuildRecord(object, identity)), `${planted} cannot be read as a source file`);
    }
  });

  it("a Cilium tree's flags come from bpf/Makefile.bpf and Makefile.defs too", () => {
    const custom = path.join(dir, 'cilium', 'bpf', 'custom');
    fs.mkdirSync(custom, { recursive: true });
    for (const f of [path.join(custom, 'Makefile'), path.join(dir, 'cilium', 'bpf', 'Makefile.bpf'), path.join(dir, 'cilium', 'Makefile.defs')]) fs.writeFileSync(f, '');
    assert.deepEqual(makefilesOf({ dir: custom, source: 'header-folder', ciliumTree: true }), [
      path.join(custom, 'Makefile'),
      path.join(dir, 'cilium', 'bpf', 'Makefile.bpf'),
      path.join(dir, 'cilium', 'Makefile.defs'),
    ]);
  });
});
