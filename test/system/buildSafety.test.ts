// Build safety with real make, clang and bpftool: objects appear complete or not at all while verifies read them,
// builds of one header run one at a time, the wrong kind of object is refused before it is loaded, a header
// without custom_prog fails at build, the real cause of a failed build is shown, and loader failures are not
// verifier rejections. Through the bundled SDK, a Cilium-style tree, and (when present) real Cilium trees.
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildHeader, type BuildResult } from '../../src/core/build/build';
import { programSections, readElfObject } from '../../src/core/build/elfSections';
import { LocalTarget } from '../../src/core/target';
import type { Target } from '../../src/core/target/target';
import { verifyHeaderOrObject } from '../../src/core/verify/verifyHeader';
import { VerifyProblem } from '../../src/core/verify/verifyErrors';
import { CLI } from './helpers/cli';
import { privateMount } from './helpers/faults';
import { copyInto, FIXTURES, SDK_DIR, tempDir } from './helpers/fixtures';
import { RecordingTarget } from './helpers/pins';
import { rejectionOf } from './helpers/rejection';
import { isRoot, requireBpf, requireOrSkip, requireToolchain } from './helpers/require';

const execFileAsync = promisify(execFile);
const BYTECOUNT = path.join(SDK_DIR, 'examples', 'bytecount.h');
const SHARED_CILIUM = path.resolve(__dirname, '../../../../shared/cilium');

const CUSTOM_PROG = 'static __always_inline void custom_prog(const struct __ctx_buff *ctx, __u32 identity) { (void)ctx; (void)identity; }\n';

/** Temporary files a build leaves next to the header when it does not clean up (`.<stem>.<pid>-<n>.*`). */
function scratchIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => /^\..+\.\d+-\d{6}\.(?:h|o|ll|i|s)$/.test(f) || /\.o\.\d+\.tmp$/.test(f));
}

async function assertBpfObject(file: string, section: string): Promise<void> {
  const object = await readElfObject(file);
  assert.equal(object.machine, 247);
  assert.ok(programSections(object.sections).includes(section), `${file}: ${programSections(object.sections).join(', ')}`);
}

describe('build safety (real make, clang and bpftool)', function () {
  this.timeout(300_000);
  let tmp: ReturnType<typeof tempDir>;
  const targets: LocalTarget[] = [];
  const target = () => {
    const t = new LocalTarget({});
    targets.push(t);
    return t;
  };
  beforeEach(function () {
    requireToolchain(this);
    tmp = tempDir('cilium-custom-buildsafety-');
  });
  afterEach(async () => {
    for (const t of targets.splice(0)) await t.dispose();
    tmp?.remove();
  });

  const write = (name: string, text: string, dir = tmp.dir) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const ciliumTree = () => copyInto(path.join(FIXTURES, 'cilium-tree'), tmp.dir);
  const verifyProblem = (input: string, t: Target = target()) => rejectionOf(verifyHeaderOrObject({ input, target: t, bundledSdkDir: SDK_DIR }), VerifyProblem);

  describe('atomic objects and one build at a time', () => {
    for (const [where, header] of [
      ['the bundled SDK', () => copyInto(BYTECOUNT, tmp.dir)],
      ["a Cilium-style tree's own Makefile", () => path.join(ciliumTree(), 'bpf', 'custom', 'bytecount.h')],
    ] as const) {
      it(`${where}: 30 rounds of a build, a verify of the header and a verify of the object at once, zero false failures`, async function () {
        requireBpf(this);
        const h = header();
        const object = h.replace(/\.h$/, '.o');
        assert.ok((await buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR })).ok);
        const failures: string[] = [];
        for (let round = 0; round < 30; round++) {
          // Every other round the header is newer than the object, so the verify builds too (and waits its turn).
          if (round % 2 === 1) fs.utimesSync(h, new Date(), new Date(Date.now() + 1000));
          const outcomes = await Promise.allSettled([
            buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR }).then((b) => (b.ok ? 'built' : `build: ${b.failure}\n${b.output}`)),
            verifyHeaderOrObject({ input: h, target: target(), bundledSdkDir: SDK_DIR }).then((v) => v.log.verdict),
            verifyHeaderOrObject({ input: object, target: target(), bundledSdkDir: SDK_DIR }).then((v) => v.log.verdict),
          ]);
          for (const outcome of outcomes) {
            const said = outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message;
            if (said !== 'built' && said !== 'accepted') failures.push(`round ${round}: ${said}`);
          }
        }
        assert.deepEqual(failures, []);
        await assertBpfObject(object, 'bytecount');
        assert.deepEqual(scratchIn(path.dirname(h)), []);
      });
    }

    it('two builds of one header at once: the second waits for the first, both succeed, one complete object', async () => {
      const h = copyInto(BYTECOUNT, tmp.dir);
      const results = await Promise.all([0, 1].map(() => buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR })));
      for (const r of results) assert.ok(r.ok, r.failure);
      assert.equal(results.filter((r) => r.output.includes('waiting for another build')).length, 1, results.map((r) => r.output).join('\n---\n'));
      await assertBpfObject(results[0].objectPath, 'bytecount');
      assert.deepEqual(scratchIn(tmp.dir), []);
    });

    it('two CLI processes building one header at once both succeed', async () => {
      const h = copyInto(BYTECOUNT, tmp.dir);
      const runs = await Promise.all([0, 1, 2].map(() => execFileAsync(process.execPath, [CLI, 'build', h, '--json'])));
      for (const run of runs) assert.equal(JSON.parse(run.stdout).ok, true, run.stdout + run.stderr);
      await assertBpfObject(h.replace(/\.h$/, '.o'), 'bytecount');
      assert.deepEqual(scratchIn(tmp.dir), []);
    });

    it('a cancelled build keeps the previous object; a failed one removes it; neither leaves temporary files', async () => {
      const h = copyInto(BYTECOUNT, tmp.dir);
      const object = h.replace(/\.h$/, '.o');
      assert.ok((await buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR })).ok);
      const before = fs.readFileSync(object);
      const slowClang = write('slow-clang', '#!/bin/sh\nfor a in "$@"; do [ "$a" = -c ] && sleep 30; done\nexec clang "$@"\n');
      fs.chmodSync(slowClang, 0o755);
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 1500);
      const cancelled = await buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR, extraVariables: { CLANG: slowClang }, signal: abort.signal });
      assert.equal(cancelled.failure, 'build cancelled');
      assert.deepEqual(fs.readFileSync(object), before);
      fs.appendFileSync(h, '\nthis does not compile\n');
      assert.equal((await buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR })).failureKind, 'compile');
      assert.ok(!fs.existsSync(object), 'a stale object must not pass for a fresh one');
      assert.deepEqual(scratchIn(tmp.dir), []);
    });
  });

  describe('the right kind of program, before anything is loaded', () => {
    beforeEach(function () {
      requireBpf(this);
    });

    it('an XDP object is refused by verify (and so by attach), naming what it is; bpftool never runs', async () => {
      const source = write('xdp_pass.c', '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("xdp") int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }\nchar _license[] SEC("license") = "GPL";\n');
      const object = path.join(tmp.dir, 'xdp_pass.o');
      const multiarch = execFileSync('clang', ['-print-multiarch'], { encoding: 'utf8' }).trim();
      execFileSync('clang', ['--target=bpf', '-O2', '-g', `-I/usr/include/${multiarch}`, '-c', source, '-o', object]);
      const t = new RecordingTarget(target());
      const problem = await verifyProblem(object, t);
      assert.equal(problem.kind, 'wrong-program-type');
      assert.match(problem.message, /xdp_pass\.o holds an XDP program \(section xdp, function xdp_pass\); custom calls take tc programs/);
      assert.deepEqual(t.loads, []);
    });

    it('a header that adds an XDP section is refused at verify, the landing program notwithstanding', async () => {
      const h = write('with_xdp.h', `${CUSTOM_PROG}__section("xdp") int with_xdp_extra(struct xdp_md *ctx) { return 2; }\n`);
      const problem = await verifyProblem(h);
      assert.equal(problem.kind, 'wrong-program-type');
      assert.match(problem.message, /an XDP program \(section xdp, function with_xdp_extra\)/);
    });

    it('a non-BPF object (x86-64) and a file that is not ELF are refused with their own message', async () => {
      const host = path.join(tmp.dir, 'host.o');
      execFileSync('clang', ['-c', '-x', 'c', '-', '-o', host], { input: 'int main(void) { return 0; }\n' });
      const p1 = await verifyProblem(host);
      assert.equal(p1.kind, 'not-bpf-object');
      assert.match(p1.message, /host\.o is an ELF object for x86-64, not BPF/);
      const p2 = await verifyProblem(write('notes.o', 'just text\n'));
      assert.equal(p2.kind, 'not-bpf-object');
      assert.match(p2.message, /notes\.o is not an ELF object file/);
      for (const p of [p1, p2]) assert.doesNotMatch(p.full, /register|failed to open object file/);
    });

    it('the CLI says so and exits 1, with the problem kind in --json', async () => {
      const host = path.join(tmp.dir, 'host.o');
      execFileSync('clang', ['-c', '-x', 'c', '-', '-o', host], { input: 'int main(void) { return 0; }\n' });
      const failed = await execFileAsync(process.execPath, [CLI, 'verify', host, '--json']).then(
        () => assert.fail('verify succeeded'),
        (error: { code: number; stdout: string }) => error,
      );
      assert.equal(failed.code, 1);
      assert.equal(JSON.parse(failed.stdout).problem, 'not-bpf-object');
    });
  });

  describe('a header without custom_prog fails at build, saying so', () => {
    const cases: Array<[string, string]> = [
      ['an empty header', ''],
      ['a header defining something else', 'static __always_inline void custom_program(const struct __ctx_buff *ctx, __u32 identity) { }\n'],
      ['a header with only a prototype', 'void custom_prog(const struct __ctx_buff *ctx, __u32 identity);\n'],
    ];
    for (const [what, text] of cases) {
      it(`${what}: bundled SDK and a Cilium-style tree`, async () => {
        const inSdk = write('nocustom.h', text);
        const inTree = write('nocustom.h', text, path.join(ciliumTree(), 'bpf', 'custom'));
        for (const h of [inSdk, inTree]) {
          const result = await buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR });
          assert.equal(result.ok, false, result.output);
          assert.equal(result.failureKind, 'no-custom-prog', `${result.failure}\n${result.output}`);
          assert.match(result.failure ?? '', /nocustom\.h does not define custom_prog\(\)/);
          assert.equal(result.diagnostics[0]?.file, h);
          assert.ok(!fs.existsSync(h.replace(/\.h$/, '.o')));
          assert.deepEqual(scratchIn(path.dirname(h)), []);
        }
      });
    }

    it('verify reports it as the build failing, with the fix, never as a loader or verifier problem', async function () {
      requireBpf(this);
      const problem = await verifyProblem(write('empty.h', ''));
      assert.equal(problem.kind, 'build-failed');
      assert.match(problem.message, /empty\.h does not define custom_prog\(\)/);
      assert.match(problem.fix, /static __always_inline void custom_prog/);
      assert.doesNotMatch(problem.full, /failed to open object file|register|Fix the compiler errors/);
    });
  });

  describe('the real cause of a failed build', () => {
    it('a read-only folder: "Read-only file system", in build and in verify', async function () {
      requireOrSkip(this, isRoot(), 'mounting a read-only tmpfs needs root');
      const mount = privateMount('tmpfs', 'size=8m');
      try {
        const tree = copyInto(path.join(FIXTURES, 'cilium-tree'), mount.dir);
        const sdkHeader = copyInto(BYTECOUNT, mount.dir);
        execFileSync('mount', ['-o', 'remount,ro', mount.dir]);
        for (const h of [path.join(tree, 'bpf', 'custom', 'bytecount.h'), sdkHeader]) {
          const result = await buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR });
          assert.equal(result.failureKind, 'io', result.failure);
          assert.match(result.failure ?? '', /Read-only file system/);
          assert.doesNotMatch(result.failure ?? '', /Error 1/);
        }
        const problem = await verifyProblem(sdkHeader);
        assert.equal(problem.kind, 'build-failed');
        assert.match(problem.message, /Read-only file system/);
        assert.doesNotMatch(problem.full, /Fix the compiler errors/);
      } finally {
        mount.remove();
      }
    });

    it('a directory named x.h: "Is a directory"', async () => {
      const dir = path.join(tmp.dir, 'x.h');
      fs.mkdirSync(dir);
      const result = await buildHeader({ headerPath: dir, bundledSdkDir: SDK_DIR });
      assert.match(result.failure ?? '', /x\.h: Is a directory/);
    });

    it('an object path taken by a directory: "Is a directory", and the build leaves nothing behind', async () => {
      const h = copyInto(BYTECOUNT, tmp.dir);
      fs.mkdirSync(path.join(tmp.dir, 'bytecount.o'));
      const result = await buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR });
      assert.match(result.failure ?? '', /bytecount\.o: Is a directory/);
      assert.deepEqual(scratchIn(tmp.dir), []);
    });

    it('a header deleted during the build: "No such file or directory" (SDK and Cilium-style tree)', async () => {
      const deletingClang = write('deleting-clang', '#!/bin/sh\nfor a in "$@"; do [ "$a" = -c ] && rm -f -- "$DELETE_ME"; done\nexec clang "$@"\n');
      fs.chmodSync(deletingClang, 0o755);
      for (const h of [copyInto(BYTECOUNT, tmp.dir), path.join(ciliumTree(), 'bpf', 'custom', 'bytecount.h')]) {
        process.env.DELETE_ME = h;
        try {
          const result = await buildHeader({ headerPath: h, bundledSdkDir: SDK_DIR, extraVariables: { CLANG: deletingClang } });
          assert.equal(result.failureKind, 'io', `${result.failure}\n${result.output}`);
          assert.match(result.failure ?? '', /bytecount\.h is gone \(removed or renamed during the build\): No such file or directory/);
          assert.deepEqual(scratchIn(path.dirname(h)), []);
        } finally {
          delete process.env.DELETE_ME;
        }
      }
    });
  });

  describe('loader failures are not verifier rejections', () => {
    beforeEach(function () {
      requireBpf(this);
    });

    it('an extern function defined nowhere: "loader-failed", naming it', async () => {
      const h = write('uses_extern.h', 'extern int nowhere_defined(__u32 x);\nstatic __always_inline void custom_prog(const struct __ctx_buff *ctx, __u32 identity)\n{\n\t(void)ctx;\n\tif (nowhere_defined(identity))\n\t\treturn;\n}\n');
      const problem = await verifyProblem(h);
      assert.equal(problem.kind, 'loader-failed', problem.full);
      assert.match(problem.message, /uses nowhere_defined, which is declared extern but defined nowhere/);
      assert.doesNotMatch(problem.full, /register|R\d/);
    });

    it('a PROG_ARRAY initialised beyond max_entries: "loader-failed" with E2BIG, after the verifier accepted', async () => {
      const h = write(
        'e2big.h',
        `${CUSTOM_PROG}__section("e2big/stage") int e2big_stage(struct __sk_buff *ctx) { return 0; }\n` +
          'struct {\n\t__uint(type, BPF_MAP_TYPE_PROG_ARRAY);\n\t__uint(max_entries, 2);\n\t__uint(key_size, sizeof(__u32));\n' +
          '\t__array(values, int (struct __sk_buff *));\n} e2big_jmp __section(".maps") = {\n\t.values = { [5] = (void *)&e2big_stage },\n};\n',
      );
      const problem = await verifyProblem(h);
      assert.equal(problem.kind, 'loader-failed', problem.full);
      assert.match(problem.message, /slot 5 of the PROG_ARRAY e2big_jmp \(E2BIG\)/);
    });
  });

  describe("real Cilium trees (../shared/cilium)", () => {
    for (const version of ['cilium-v1.12.0', 'cilium-v1.17.5']) {
      it(`${version}: builds through its own Makefile into place, leaving no temporary file; an empty header fails with the message`, async function () {
        const tarball = path.join(SHARED_CILIUM, `${version}.tar.gz`);
        requireOrSkip(this, fs.existsSync(tarball), `${tarball} is not there`);
        execFileSync('tar', ['-xzf', tarball, '-C', tmp.dir]);
        const custom = path.join(tmp.dir, version, 'bpf', 'custom');
        const before = fs.readdirSync(custom).sort();
        const good: BuildResult = await buildHeader({ headerPath: path.join(custom, 'bytecount.h'), bundledSdkDir: SDK_DIR });
        assert.ok(good.ok, `${good.failure}\n${good.output}`);
        assert.equal(good.makeDir?.ciliumTree, true);
        await assertBpfObject(good.objectPath, 'bytecount');
        const empty = write('empty.h', '', custom);
        const bad = await buildHeader({ headerPath: empty, bundledSdkDir: SDK_DIR });
        assert.equal(bad.failureKind, 'no-custom-prog', `${bad.failure}\n${bad.output}`);
        fs.rmSync(empty);
        // Only the object and its build record are new (Cilium's Makefile.bpf may touch its own .rebuild_all marker).
        assert.deepEqual(fs.readdirSync(custom).filter((f) => !before.includes(f) && f !== '.rebuild_all').sort(), ['.bytecount.o.cilium-custom.json', 'bytecount.o']);
      });
    }
  });
});
