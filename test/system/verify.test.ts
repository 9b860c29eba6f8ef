// The whole verify job against the real kernel on this machine: every bundled example passes, every fault fixture is
// rejected with the verifier's message on the header's own line, cancellation stops bpftool, environment problems
// come back as VerifyProblems with their fix, the CLI prints the explain JSON, and nothing is ever left behind on the
// bpffs or in the kernel (pins, programs, maps, bpftool processes).
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHeader } from '../../src/core/build/build';
import { LocalTarget } from '../../src/core/target';
import { verifyHeaderOrObject, type VerifyResult } from '../../src/core/verify/verifyHeader';
import { VerifyProblem, type VerifyProblemKind } from '../../src/core/verify/verifyErrors';
import { copyInto, expectation, HEADER_FIXTURES, readExpectations, REPO, SDK_DIR, tempDir } from './helpers/fixtures';
import { assertKernelClean, bpftoolProcesses, RecordingTarget, snapshot, verifyPinDirs, waitFor, type KernelSnapshot } from './helpers/pins';
import { rejectionOf } from './helpers/rejection';
import { hasCommand, requireBpf, requireOrSkip } from './helpers/require';
import { readVerifyScriptReport, temporaryRunName, verifyScriptArgv } from '../../src/core/verify/verifyScript';

/** The absolute path of a command on PATH. */
function execPath(command: string): string {
  return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' }).trim();
}

const CLI = path.join(REPO, 'dist', 'cli.js');
const EXAMPLES_DIR = path.join(SDK_DIR, 'examples');
const examples = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.h')).sort();
const faultFixtures = fs
  .readdirSync(HEADER_FIXTURES)
  .filter((f) => f.endsWith('.h') && readExpectations(path.join(HEADER_FIXTURES, f)).some((e) => e.kind === 'verifier'))
  .sort();
const SLOW_FIXTURE = path.join(HEADER_FIXTURES, 'slow', 'too_many_insns.h');

const problemOf = (pending: Promise<unknown>) => rejectionOf(pending, VerifyProblem);

function assertProblem(problem: VerifyProblem, kind: VerifyProblemKind): void {
  assert.equal(problem.kind, kind, `${problem.kind}: ${problem.full}`);
  assert.ok(problem.message.length > 0);
}

describe('verify (local target, real kernel)', function () {
  let tmp: ReturnType<typeof tempDir>;
  let kernelBefore: KernelSnapshot;
  const disposables: Array<{ dispose(): Promise<void> }> = [];

  beforeEach(function () {
    requireBpf(this);
    tmp = tempDir('cilium-custom-verify-test-');
    kernelBefore = snapshot();
  });

  afterEach(async () => {
    for (const d of disposables.splice(0)) await d.dispose();
    tmp?.remove();
  });

  function target(config: ConstructorParameters<typeof LocalTarget>[0] = {}): RecordingTarget {
    const t = new RecordingTarget(new LocalTarget(config));
    disposables.push(t);
    return t;
  }

  /** A copy of the bundled examples (with common/) and no prebuilt objects. */
  function examplesCopy(): string {
    const dir = copyInto(EXAMPLES_DIR, tmp.dir);
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.o')) fs.rmSync(path.join(dir, f));
    return dir;
  }

  async function built(header: string): Promise<string> {
    const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
    assert.ok(result.ok, result.output);
    return result.objectPath;
  }

  /** Nothing of `t`'s runs is left: pin dirs gone, no bpftool alive, bpffs and kernel as before. */
  async function assertNothingLeft(t: RecordingTarget | null, result?: VerifyResult): Promise<void> {
    if (result) assert.deepEqual(result.leftovers, []);
    for (const dir of t?.pinDirs ?? []) assert.ok(!fs.existsSync(dir), `pin dir left: ${dir}`);
    assert.ok(await waitFor(() => bpftoolProcesses(tmp.dir).length === 0, 5000), 'a bpftool process is still running');
    await assertKernelClean(kernelBefore);
  }

  it('has bundled examples and fault fixtures to verify', () => {
    assert.ok(examples.length >= 3, examples.join(', '));
    assert.ok(faultFixtures.length >= 6, faultFixtures.join(', '));
  });

  for (const example of examples) {
    it(`accepts the bundled example ${example}, with statistics, leaving the bpffs as it was`, async () => {
      const header = path.join(examplesCopy(), example);
      const t = target();
      const result = await verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR });
      assert.equal(result.log.verdict, 'accepted', JSON.stringify(result.log.error));
      assert.equal(result.log.error, null);
      assert.equal(result.located?.error, null);
      assert.ok(result.build?.ok, 'the header was built first');
      assert.equal(result.headerPath, header);
      assert.equal(result.objectPath, header.replace(/\.h$/, '.o'));
      assert.ok((result.log.stats?.insnsProcessed ?? 0) > 0, `stats: ${JSON.stringify(result.log.stats)}`);
      assert.equal(result.log.stats?.insnLimit, 1_000_000);
      assert.equal(t.loads.length, 1);
      assert.equal(t.pinDirs.length, 1);
      assert.ok(t.loads[0].argv.includes('-d'), 'verbose (bpftool -d) by default');
      await assertNothingLeft(t, result);
    });
  }

  for (const fixture of faultFixtures) {
    it(`rejects ${fixture} with the expected message, located on the header line`, async () => {
      const header = copyInto(path.join(HEADER_FIXTURES, fixture), tmp.dir);
      const expected = expectation(header, 'verifier');
      const t = target();
      const result = await verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR });
      assert.equal(result.log.verdict, 'rejected');
      assert.ok(result.log.error, 'a rejection has an error');
      assert.ok(result.log.error.message.includes(expected.message!), `message: ${result.log.error.message}`);
      assert.deepEqual(
        { file: result.located?.error?.file, line: result.located?.error?.line },
        { file: header, line: expected.line },
        `stopped at ${JSON.stringify(result.located?.stoppedAt)}`,
      );
      await assertNothingLeft(t, result);
    });
  }

  it('rejects slow/too_many_insns.h (one million instructions, a 130 MB log) at its line', async function () {
    this.timeout(120_000);
    this.slow(60_000);
    const header = copyInto(SLOW_FIXTURE, tmp.dir);
    const expected = expectation(header, 'verifier');
    const t = target();
    const started = Date.now();
    const result = await verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR });
    console.log(`      too_many_insns.h: ${Date.now() - started} ms (bpftool ${t.loads[0].endedAt - t.loads[0].startedAt} ms)`);
    assert.equal(result.log.verdict, 'rejected');
    assert.ok(result.log.error?.message.includes(expected.message!), result.log.error?.message);
    assert.equal(result.log.stats?.insnsProcessed, 1_000_001);
    assert.equal(result.located?.error?.file, header);
    assert.equal(result.located?.error?.line, expected.line);
    await assertNothingLeft(t, result);
  });

  for (const [when, delayMs] of [
    ['on its first output', 0],
    ['inside the kernel verifier (1.5 s later)', 1500],
  ] as const) {
    it(`cancelling bpftool ${when} kills it and leaves no pin`, async function () {
      this.timeout(60_000);
      const object = await built(copyInto(SLOW_FIXTURE, tmp.dir));
      const t = target();
      const abort = new AbortController();
      let firstOutputAt = 0;
      let abortedAt = 0;
      let sawPinDir = false;
      const onOutput = () => {
        if (firstOutputAt) return;
        firstOutputAt = Date.now();
        setTimeout(() => {
          // bpftool is running (libbpf prints its debug lines before loading): its pin dir exists right now.
          sawPinDir = verifyPinDirs().some((dir) => t.pinDirs.includes(dir));
          abortedAt = Date.now();
          abort.abort();
        }, delayMs);
      };
      const started = Date.now();
      const problem = await problemOf(verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR, signal: abort.signal, onOutput }));
      const stopMs = Date.now() - abortedAt;
      assertProblem(problem, 'cancelled');
      assert.ok(abortedAt > 0, 'bpftool printed something before it was cancelled');
      assert.ok(sawPinDir, 'the temporary pin dir existed while bpftool ran');
      assert.equal(t.loads.length, 1);
      assert.equal(t.loads[0].result.cancelled, true);
      assert.ok(stopMs < 5000, `cancellation took ${stopMs} ms (the whole verification takes ~20 s)`);
      console.log(`      cancelled after ${abortedAt - started} ms; everything stopped ${stopMs} ms later`);
      assert.deepEqual(bpftoolProcesses(object), [], 'bpftool still runs');
      await assertNothingLeft(t);
    });
  }

  it('cancelling before anything ran gives "cancelled" and runs nothing', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const t = target();
    const problem = await problemOf(verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR, signal: AbortSignal.abort() }));
    assertProblem(problem, 'cancelled');
    assert.deepEqual(t.runs, []);
    await assertNothingLeft(t);
  });

  it('verifies an object file directly', async () => {
    const object = await built(path.join(examplesCopy(), 'bytecount.h'));
    const t = target();
    const result = await verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR });
    assert.equal(result.log.verdict, 'accepted');
    assert.equal(result.headerPath, null);
    assert.equal(result.objectPath, object);
    assert.equal(result.build, null);
    assert.equal(result.located, null);
    assert.ok((result.log.stats?.insnsProcessed ?? 0) > 0);
    assert.ok(t.loads[0].argv.includes(object), t.loads[0].argv.join(' '));
    await assertNothingLeft(t, result);
  });

  it('does not rebuild a header whose object is up to date, and rebuilds it once the header changes', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const first = await verifyHeaderOrObject({ input: header, target: target(), bundledSdkDir: SDK_DIR });
    assert.ok(first.build);
    const second = await verifyHeaderOrObject({ input: header, target: target(), bundledSdkDir: SDK_DIR });
    assert.equal(second.build, null);
    // A change is a change of content (build/buildRecord.ts): a touch alone would not rebuild.
    fs.appendFileSync(header, '\n/* edited */\n');
    const third = await verifyHeaderOrObject({ input: header, target: target(), bundledSdkDir: SDK_DIR });
    assert.ok(third.build?.ok);
    await assertNothingLeft(null);
  });

  it('a missing object or header is "object-missing"', async () => {
    for (const input of [path.join(tmp.dir, 'missing.o'), path.join(tmp.dir, 'missing.h')]) {
      const t = target();
      const problem = await problemOf(verifyHeaderOrObject({ input, target: t, bundledSdkDir: SDK_DIR }));
      assertProblem(problem, 'object-missing');
      assert.ok(problem.message.includes(input), problem.message);
      assert.deepEqual(t.runs, [], 'nothing ran');
    }
  });

  it('a header that does not build is "build-failed", naming the compiler error', async () => {
    const header = copyInto(path.join(HEADER_FIXTURES, 'syntax_error.h'), tmp.dir);
    const t = target();
    const problem = await problemOf(verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR }));
    assertProblem(problem, 'build-failed');
    assert.match(problem.message, /syntax_error\.h:13: expected ';' after expression/);
    assert.deepEqual(t.loads, []);
    await assertNothingLeft(t);
  });

  it('a missing bpftool is "bpftool-missing" with an apt-get fix, and the pin dir is removed', async () => {
    const object = await built(path.join(examplesCopy(), 'bytecount.h'));
    const t = target({ bpftool: '/nonexistent/bpftool' });
    const problem = await problemOf(verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR }));
    assertProblem(problem, 'bpftool-missing');
    assert.match(problem.message, /\/nonexistent\/bpftool/);
    assert.match(problem.fix, /apt-get/);
    await assertNothingLeft(t);
  });

  it('a bpffs root that is not a bpffs is "bpffs-not-mounted" with a mount fix', async () => {
    const object = await built(path.join(examplesCopy(), 'bytecount.h'));
    const plain = fs.mkdtempSync(path.join(tmp.dir, 'not-bpffs-'));
    const t = target({ bpffsRoot: plain });
    const problem = await problemOf(verifyHeaderOrObject({ input: object, target: t, bundledSdkDir: SDK_DIR }));
    assertProblem(problem, 'bpffs-not-mounted');
    assert.ok(problem.message.includes(plain), problem.message);
    assert.match(problem.fix, /mount -t bpf/);
    assert.deepEqual(fs.readdirSync(plain), [], 'nothing was created in it');
    assert.ok(!problem.message.includes('bpftool'), `bpftool never ran: ${problem.message}`);
    await assertNothingLeft(t);
  });

  it('the verify script runs under busybox (sh and stat, as on an Alpine node): bpffs recognised, pins made and removed', function () {
    requireOrSkip(this, hasCommand('busybox'), 'busybox is not installed (apt-get install busybox)');
    const bin = fs.mkdtempSync(path.join(tmp.dir, 'busybox-bin-'));
    for (const applet of ['sh', 'stat', 'mkdir', 'rm', 'cat', 'ls']) fs.symlinkSync(execPath('busybox'), path.join(bin, applet));
    const pinDir = `/sys/fs/bpf/${temporaryRunName()}`;
    const argv = verifyScriptArgv({ bpffsRoot: '/sys/fs/bpf', pinDir, bpftoolArgv: ['ls', '-d', pinDir] });
    const run = spawnSync(path.join(bin, 'sh'), argv.slice(1), { encoding: 'utf8', env: { ...process.env, PATH: bin } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${pinDir}\n`, 'the pin directory existed while the command ran');
    assert.ok(!fs.existsSync(pinDir), 'and is gone afterwards');
    // And a directory that is not a bpffs is refused with busybox's own type name.
    const other = spawnSync(path.join(bin, 'sh'), verifyScriptArgv({ bpffsRoot: tmp.dir, pinDir: path.join(tmp.dir, 'p'), bpftoolArgv: ['true'] }).slice(1), {
      encoding: 'utf8',
      env: { ...process.env, PATH: bin },
    });
    assert.equal(other.status, 3);
    assert.match(readVerifyScriptReport(other.stderr).failed?.detail ?? '', /^found \S/);
  });

  it('the CLI `verify --json` prints the explain JSON with the failing line and exits 1', () => {
    const header = copyInto(path.join(HEADER_FIXTURES, 'null_deref.h'), tmp.dir);
    const expected = expectation(header, 'verifier');
    const run = spawnSync(process.execPath, [CLI, 'verify', header, '--json'], { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stderr);
    const json = JSON.parse(run.stdout);
    assert.deepEqual(Object.keys(json), ['verdict', 'error', 'stats', 'truncated']);
    assert.deepEqual(Object.keys(json.error), ['message', 'insn', 'file', 'line', 'hint']);
    assert.deepEqual(Object.keys(json.stats), ['insnsProcessed', 'insnLimit', 'totalStates', 'peakStates', 'stackDepth']);
    assert.equal(json.verdict, 'rejected');
    assert.ok(json.error.message.includes(expected.message!), json.error.message);
    assert.equal(json.error.line, expected.line);
    assert.equal(json.error.file, header, 'the header, as an absolute path');
    assert.equal(typeof json.error.insn, 'number');
    assert.ok(json.error.hint.length > 20);
    assert.ok(json.stats.insnsProcessed > 0);
    assert.equal(json.truncated, false);
    assert.equal(run.stderr, '');
  });

  it('the CLI `verify` accepts an example and exits 0', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const json = spawnSync(process.execPath, [CLI, 'verify', header, '--json'], { encoding: 'utf8' });
    assert.equal(json.status, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).verdict, 'accepted');
    const text = spawnSync(process.execPath, [CLI, 'verify', header], { encoding: 'utf8' });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^accepted by the verifier\n {2}[0-9]+ of 1000000 instructions processed/);
    await assertNothingLeft(null);
  });

  it('two verifications of the same header at once both succeed, each under its own pins', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const t = target();
    const [a, b] = await Promise.all([0, 1].map(() => verifyHeaderOrObject({ input: header, target: t, bundledSdkDir: SDK_DIR })));
    for (const result of [a, b]) {
      assert.equal(result.log.verdict, 'accepted', JSON.stringify(result.log.error));
      assert.ok((result.log.stats?.insnsProcessed ?? 0) > 0);
    }
    const dirs = t.pinDirs;
    assert.equal(dirs.length, 2);
    assert.notEqual(dirs[0], dirs[1]);
    assert.equal(t.loads.length, 2);
    for (const [i, load] of t.loads.entries()) {
      const own = dirs.filter((dir) => load.argv.includes(`${dir}/prog`) && load.argv.includes(`${dir}/maps`));
      assert.equal(own.length, 1, `load ${i} pins under exactly one of the two dirs: ${load.argv.join(' ')}`);
    }
    assert.notDeepEqual(t.loads[0].argv, t.loads[1].argv);
    await assertNothingLeft(t, a);
  });
});
