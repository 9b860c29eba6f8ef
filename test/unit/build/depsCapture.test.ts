// The build asks clang for the files it reads by one more makefile (`override CLANG += -MD -MF <file>`).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildMakeArgs } from '../../../src/core/build/makeArgs';
import type { MakeDirectory } from '../../../src/core/build/makeDirectory';
import { removeScratch, stageBuild } from '../../../src/core/build/staging';

describe('build staging: the dependency list', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-deps-test-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the real Makefile first, then ours, which only adds -MD -MF to $(CLANG) in a private folder', () => {
    const header = path.join(dir, 'prog.h');
    fs.writeFileSync(header, '');
    const sdk: MakeDirectory = { dir: '/opt/sdk', source: 'bundled-sdk', ciliumTree: false };
    const invocation = buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: header, goAvailable: true });
    const staging = stageBuild(invocation, header, 'object-variable', 'GNUmakefile');
    const depsMakefile = path.join(staging.scratchDir!, 'deps.mk');
    assert.deepEqual(staging.argv.slice(0, 8), ['make', '-B', '-C', '/opt/sdk', '-f', 'GNUmakefile', '-f', depsMakefile]);
    assert.deepEqual(staging.argv.slice(8, -1), invocation.argv.slice(4));
    assert.equal(staging.depFile, path.join(staging.scratchDir!, 'deps.d'));
    assert.match(staging.scratchDir!, /^[A-Za-z0-9._+/-]+$/, 'safe to paste into a recipe');
    assert.equal((fs.statSync(staging.scratchDir!).mode & 0o777).toString(8), '700');
    assert.match(fs.readFileSync(depsMakefile, 'utf8'), new RegExp(`^override CLANG \\+= -MD -MF ${staging.depFile!.replace(/[.+]/g, '\\$&')}$`, 'm'));
    assert.equal(staging.restoreNames(`clang -MD -MF ${staging.depFile} -O2 -c bpf_custom.c`), 'clang -O2 -c bpf_custom.c');
    removeScratch(staging);
    assert.ok(!fs.existsSync(staging.scratchDir!));
    assert.deepEqual(fs.readdirSync(dir), ['prog.h']);
  });

  it('without a Makefile name, nothing is added', () => {
    const header = path.join(dir, 'prog.h');
    fs.writeFileSync(header, '');
    const sdk: MakeDirectory = { dir: '/opt/sdk', source: 'bundled-sdk', ciliumTree: false };
    const invocation = buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: header, goAvailable: true });
    const staging = stageBuild(invocation, header, 'object-variable');
    assert.equal(staging.depFile, undefined);
    assert.deepEqual(staging.argv.slice(0, -1), invocation.argv);
    removeScratch(staging);
  });
});
