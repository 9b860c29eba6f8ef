// Which make directory builds a header, and what is said when none can (issue 13, items 3 and 5): a header in a
// Cilium tree after the removal of custom calls (1.19, no bpf/custom/) is refused with one line by build, verify,
// attach and compile_commands instead of quietly building with the bundled SDK; a --make-dir whose Makefile does
// not take BPF_CUSTOM_PROG_FILE is refused before make runs; a relative --make-dir is taken from the current
// directory; and attach builds with the same settings (variables, timeout) as build and verify. Real make, clang,
// the real Cilium trees of ../shared/cilium, and (for attach) the real kernel.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attach } from '../../src/core/attach/attach';
import { buildHeader, planBuild } from '../../src/core/build/build';
import { CompileCommandsError, generateCompileCommands } from '../../src/core/compileCommands/generate';
import { CustomCallsProblem } from '../../src/core/problem';
import { LocalTarget } from '../../src/core/target';
import { verifyHeaderOrObject } from '../../src/core/verify/verifyHeader';
import { VerifyProblem } from '../../src/core/verify/verifyErrors';
import { createCallsMap, freeEndpointId } from './helpers/callsMap';
import { CLI } from './helpers/cli';
import { SDK_DIR, tempDir } from './helpers/fixtures';
import { rejectionOf } from './helpers/rejection';
import { requireBpf, requireOrSkip, requireToolchain } from './helpers/require';

const SHARED_CILIUM = path.resolve(__dirname, '../../../../shared/cilium');
const BYTECOUNT = path.join(SDK_DIR, 'examples', 'bytecount.h');
const REMOVED = /is a Cilium tree without bpf\/custom: custom calls were removed in Cilium 1\.19 \(PR #42094\); build against a 1\.18 tree \(--make-dir <1\.18 tree>\/bpf\/custom\) or the bundled SDK \(--make-dir .*\/bpf\)/;

function cli(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('make directories: Cilium 1.19+, foreign Makefiles, relative --make-dir, and the settings attach builds with', function () {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(function () {
    requireToolchain(this);
    tmp = tempDir('cilium-custom-makedir-');
  });
  afterEach(() => tmp?.remove());

  function unpack(version: string, ctx: Mocha.Context): string {
    const tarball = path.join(SHARED_CILIUM, `${version}.tar.gz`);
    requireOrSkip(ctx, fs.existsSync(tarball), `${tarball} is not there`);
    execFileSync('tar', ['-xzf', tarball, '-C', tmp.dir]);
    return path.join(tmp.dir, version);
  }

  describe('a header in a Cilium tree without bpf/custom (main-2026-01-07, 1.19.0-dev)', () => {
    let tree: string;
    let header: string;
    beforeEach(function () {
      tree = unpack('cilium-main-2026-01-07', this);
      header = path.join(tree, 'bpf', 'bytecount.h');
      fs.copyFileSync(BYTECOUNT, header);
    });

    it('build fails with the one line, exit 1, and writes nothing', async () => {
      const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
      assert.equal(result.ok, false);
      assert.equal(result.failureKind, 'input');
      assert.match(result.failure ?? '', REMOVED);
      assert.ok(result.failure?.startsWith(`${tree} is a Cilium tree`), result.failure);
      assert.equal(result.makeDir?.ciliumWithoutCustomCalls, tree);
      assert.equal(result.argv, undefined, 'make never ran');
      assert.ok(!fs.existsSync(header.replace(/\.h$/, '.o')));

      const run = cli(['build', header], tmp.dir);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, REMOVED);
      const json = cli(['build', header, '--json'], tmp.dir);
      assert.equal(json.code, 1);
      assert.match((JSON.parse(json.stdout) as { failure: string }).failure, REMOVED);
    });

    it('verify says it as the reason the header does not build (no root needed: nothing is loaded)', async () => {
      const target = new LocalTarget();
      try {
        const problem = await rejectionOf(verifyHeaderOrObject({ input: header, target, bundledSdkDir: SDK_DIR }), VerifyProblem);
        assert.equal(problem.kind, 'build-failed');
        assert.match(problem.message, REMOVED);
      } finally {
        await target.dispose();
      }
    });

    it('compile_commands says it too, instead of flags for a build that cannot happen there', () => {
      assert.throws(() => generateCompileCommands({ folder: path.join(tree, 'bpf'), bundledSdkDir: SDK_DIR }), (error: unknown) => error instanceof CompileCommandsError && REMOVED.test(error.message));
      assert.ok(!fs.existsSync(path.join(tree, 'bpf', 'compile_commands.json')));
    });

    it('attach says it (through the shared build), and changes nothing', async function () {
      requireBpf(this);
      const endpoint = freeEndpointId();
      const removeMap = createCallsMap(endpoint);
      const target = new LocalTarget();
      const prefix = `/sys/fs/bpf/cilium-custom-makedir-test-${process.pid}`;
      try {
        const problem = await rejectionOf(attach({ target, input: header, endpointId: endpoint, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR, pinPrefix: prefix }), CustomCallsProblem);
        assert.equal(problem.kind, 'verify-failed', problem.full);
        assert.match(problem.message, REMOVED);
        assert.ok(!fs.existsSync(prefix));
      } finally {
        await target.dispose();
        removeMap();
      }
    });

    it('--make-dir the bundled SDK (as the message says) builds it', async () => {
      const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR, makeDirSetting: SDK_DIR });
      assert.ok(result.ok, `${result.failure}\n${result.output}`);
    });

    it("--make-dir the tree's bpf/ (the datapath Makefile) is refused before make runs, with the same line", () => {
      const plan = planBuild({ headerPath: header, bundledSdkDir: SDK_DIR, makeDirSetting: path.join(tree, 'bpf') });
      assert.ok('error' in plan);
      assert.match(plan.error, REMOVED);
      const run = cli(['build', header, '--make-dir', path.join(tree, 'bpf')], tmp.dir);
      assert.equal(run.code, 1);
      assert.ok(!/go generate|Error 127/.test(run.stderr), run.stderr);
    });

    it('is decided by what the tree holds, not its version: the same 1.19.0-dev tree with a bpf/custom builds there', function () {
      const older = path.join(SHARED_CILIUM, 'cilium-v1.17.5.tar.gz');
      requireOrSkip(this, fs.existsSync(older), `${older} is not there`);
      execFileSync('tar', ['-xzf', older, '-C', tmp.dir, 'cilium-v1.17.5/bpf/custom']);
      fs.cpSync(path.join(tmp.dir, 'cilium-v1.17.5', 'bpf', 'custom'), path.join(tree, 'bpf', 'custom'), { recursive: true });
      assert.equal(fs.readFileSync(path.join(tree, 'VERSION'), 'utf8').trim(), '1.19.0-dev');
      const inCustom = path.join(tree, 'bpf', 'custom', 'bytecount.h');
      const plan = planBuild({ headerPath: inCustom, bundledSdkDir: SDK_DIR });
      assert.ok(!('error' in plan), 'error' in plan ? plan.error : '');
      assert.equal(plan.makeDir.source, 'header-folder');
      assert.equal(plan.makeDir.ciliumTree, true);
      const elsewhere = planBuild({ headerPath: header, bundledSdkDir: SDK_DIR });
      assert.ok(!('error' in elsewhere), 'a tree with bpf/custom is not refused');
    });
  });

  it("--make-dir at a 1.17 tree's bpf/ is refused before make runs, pointing at its bpf/custom", async function () {
    const tree = unpack('cilium-v1.17.5', this);
    const header = path.join(tmp.dir, 'bytecount.h');
    fs.copyFileSync(BYTECOUNT, header);
    const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR, makeDirSetting: path.join(tree, 'bpf') });
    assert.equal(result.failureKind, 'input');
    assert.equal(result.failure, `${path.join(tree, 'bpf')} is not a bpf/custom-style make directory (its Makefile does not take BPF_CUSTOM_PROG_FILE); use ${path.join(tree, 'bpf', 'custom')}`);
    assert.equal(result.argv, undefined, 'make never ran');
  });

  it('a --make-dir whose Makefile does not take BPF_CUSTOM_PROG_FILE is refused, saying so', async () => {
    const dir = path.join(tmp.dir, 'other');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'Makefile'), 'all:\n\ttouch ran\n');
    const header = path.join(tmp.dir, 'bytecount.h');
    fs.copyFileSync(BYTECOUNT, header);
    const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR, makeDirSetting: dir });
    assert.match(result.failure ?? '', /other is not a bpf\/custom-style make directory: it has no Makefile that takes BPF_CUSTOM_PROG_FILE/);
    assert.ok(!fs.existsSync(path.join(dir, 'ran')), 'make never ran');
  });

  it('a relative --make-dir is taken from the current directory, not from the header folder', () => {
    fs.cpSync(SDK_DIR, path.join(tmp.dir, 'sdk'), { recursive: true });
    fs.mkdirSync(path.join(tmp.dir, 'work'));
    const header = path.join(tmp.dir, 'work', 'bytecount.h');
    fs.copyFileSync(BYTECOUNT, header);
    const run = cli(['build', 'work/bytecount.h', '--make-dir', 'sdk', '--json'], tmp.dir);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const result = JSON.parse(run.stdout) as { makeDir: string; makeDirSource: string };
    assert.equal(result.makeDir, path.join(tmp.dir, 'sdk'));
    assert.equal(result.makeDirSource, 'setting');
  });

  it('`cilium-custom build --help` exits 0 and lists the build flags', () => {
    const run = cli(['build', '--help'], tmp.dir);
    assert.equal(run.code, 0);
    for (const flag of ['--make-dir', '--make-var', '--make ', '--timeout']) assert.ok(run.stdout.includes(flag), flag);
  });

  it('--make-var reaches make (and a malformed one is bad usage)', () => {
    const header = path.join(tmp.dir, 'bytecount.h');
    fs.writeFileSync(header, `#ifdef BREAK_ME\n#error broken by --make-var\n#endif\n${fs.readFileSync(BYTECOUNT, 'utf8')}`);
    assert.equal(cli(['build', header, '--make-var', 'EXTRA_CFLAGS=-DFINE'], tmp.dir).code, 0);
    const broken = cli(['build', header, '--make-var', 'EXTRA_CFLAGS=-DBREAK_ME'], tmp.dir);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /broken by --make-var/);
    assert.equal(cli(['build', header, '--make-var', 'no-equals'], tmp.dir).code, 2);
  });

  describe('attach builds with the same settings as build and verify', () => {
    let endpoint: number;
    let removeMap: () => void;
    let target: LocalTarget;
    const prefix = `/sys/fs/bpf/cilium-custom-makedir-test-${process.pid}`;
    beforeEach(function () {
      requireBpf(this);
      endpoint = freeEndpointId();
      removeMap = createCallsMap(endpoint);
      target = new LocalTarget();
    });
    afterEach(async () => {
      await target?.dispose();
      removeMap?.();
    });

    it('its extra make variables', async () => {
      const header = path.join(tmp.dir, 'bytecount.h');
      fs.writeFileSync(header, `#ifdef BREAK_ME\n#error broken by the settings\n#endif\n${fs.readFileSync(BYTECOUNT, 'utf8')}`);
      const problem = await rejectionOf(
        attach({ target, input: header, endpointId: endpoint, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR, extraVariables: { EXTRA_CFLAGS: '-DBREAK_ME' }, pinPrefix: prefix }),
        CustomCallsProblem,
      );
      assert.equal(problem.kind, 'verify-failed', problem.full);
      assert.match(problem.message, /broken by the settings/);
    });

    it('its timeout', async () => {
      const slow = path.join(tmp.dir, 'slow');
      fs.mkdirSync(slow);
      fs.writeFileSync(path.join(slow, 'Makefile'), 'BPF_CUSTOM_PROG_FILE ?= x.h\nall:\n\tsleep 60\n');
      const header = path.join(tmp.dir, 'bytecount.h');
      fs.copyFileSync(BYTECOUNT, header);
      const started = Date.now();
      const problem = await rejectionOf(
        attach({ target, input: header, endpointId: endpoint, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR, makeDirSetting: slow, timeoutMs: 1000, pinPrefix: prefix }),
        CustomCallsProblem,
      );
      assert.match(problem.message, /build timed out after 1 s/);
      assert.ok(Date.now() - started < 20_000, 'make was killed at the timeout');
    });
  });
});
