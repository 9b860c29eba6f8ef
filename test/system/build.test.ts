// Real make and clang: every bundled example builds, broken headers give diagnostics at the right place, a
// Cilium-style tree builds through its own Makefile, odd paths build, and cancellation kills make and clang.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHeader } from '../../src/core/build/build';
import { programSections, readElfSections } from '../../src/core/build/elfSections';
import { copyInto, expectation, FIXTURES, HEADER_FIXTURES, REPO, SDK_DIR, tempDir } from './helpers/fixtures';
import { requireToolchain } from './helpers/require';

describe('build (real make and clang)', function () {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(function () {
    requireToolchain(this);
    tmp = tempDir();
  });
  afterEach(() => tmp?.remove());

  const examples = fs.readdirSync(path.join(SDK_DIR, 'examples')).filter((f) => f.endsWith('.h'));

  it('has bundled examples to build', () => assert.ok(examples.length >= 3, examples.join(',')));

  for (const example of examples) {
    it(`builds the bundled example ${example} into an object with its section`, async () => {
      const examplesCopy = copyInto(path.join(SDK_DIR, 'examples'), tmp.dir);
      const header = path.join(examplesCopy, example);
      const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
      assert.equal(result.failure, undefined, result.output);
      assert.ok(result.ok);
      assert.equal(result.objectPath, header.replace(/\.h$/, '.o'));
      assert.equal(result.makeDir?.source, 'bundled-sdk');
      const programs = programSections(await readElfSections(result.objectPath));
      assert.ok(programs.includes(path.basename(example, '.h')), `sections: ${programs.join(', ')}`);
    });
  }

  it('reports a syntax error at the line and column clang gives, on the header itself', async () => {
    const header = copyInto(path.join(HEADER_FIXTURES, 'syntax_error.h'), tmp.dir);
    const expected = expectation(header, 'build');
    const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
    assert.equal(result.ok, false);
    assert.match(result.failure ?? '', /1 error/);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, result.output);
    assert.equal(errors[0].file, header);
    assert.equal(errors[0].line, expected.line);
    assert.equal(errors[0].column, expected.column);
    assert.ok(errors[0].message.includes(expected.message!), errors[0].message);
    assert.ok(!fs.existsSync(header.replace(/\.h$/, '.o')), 'no object from a failed build');
  });

  it('builds a header with a warning and reports the warning', async () => {
    const header = copyInto(path.join(HEADER_FIXTURES, 'warning.h'), tmp.dir);
    const expected = expectation(header, 'build');
    const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
    assert.ok(result.ok, result.output);
    const [warning] = result.diagnostics;
    assert.equal(warning.severity, 'warning');
    assert.equal(warning.line, expected.line);
    assert.equal(warning.column, expected.column);
    assert.equal(warning.flag, '-Wunused-variable');
  });

  it("builds a header inside a Cilium-style bpf/custom through that tree's Makefile", async () => {
    const tree = copyInto(path.join(FIXTURES, 'cilium-tree'), tmp.dir);
    const header = path.join(tree, 'bpf', 'custom', 'bytecount.h');
    const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
    assert.ok(result.ok, result.output);
    assert.equal(result.makeDir?.source, 'header-folder');
    assert.equal(result.makeDir?.ciliumTree, true);
    assert.ok(result.argv?.includes('BPF_CUSTOM_PROG_NAME=bytecount'));
    assert.ok(!result.output.includes('go: No such file'), 'GO=true keeps Makefile.defs from calling a missing go');
    assert.deepEqual(programSections(await readElfSections(result.objectPath)), ['bytecount']);
  });

  it('reports errors in a Cilium tree on the header with an absolute path', async () => {
    const tree = copyInto(path.join(FIXTURES, 'cilium-tree'), tmp.dir);
    const header = path.join(tree, 'bpf', 'custom', 'broken.h');
    const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
    assert.equal(result.ok, false);
    assert.equal(result.diagnostics[0]?.file, header);
    assert.equal(result.diagnostics[0]?.line, 13);
  });

  it('builds a header whose path has spaces, quotes and shell syntax, and runs nothing', async () => {
    // Any command that runs would create the marker in make's or the shell's working directory.
    const marker = 'cilium-custom-pwned';
    const dir = path.join(tmp.dir, `my dir 'q' "dq" $(touch ${marker}) ; touch ${marker} \\ $HOME`);
    fs.mkdirSync(dir);
    const header = copyInto(path.join(SDK_DIR, 'examples', 'bytecount.h'), dir, 'byte count `touch x`.h');
    const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
    assert.ok(result.ok, result.output);
    assert.ok(fs.existsSync(header.replace(/\.h$/, '.o')));
    for (const place of [SDK_DIR, tmp.dir, dir, process.cwd()]) {
      assert.ok(!fs.existsSync(path.join(place, marker)), `a command hidden in the path ran in ${place}`);
      assert.ok(!fs.existsSync(path.join(place, 'x')), `a command hidden in the file name ran in ${place}`);
    }
  });

  it('fails clearly for a missing header and a missing make', async () => {
    const missing = await buildHeader({ headerPath: path.join(tmp.dir, 'nope.h'), bundledSdkDir: SDK_DIR });
    assert.match(missing.failure ?? '', /header not found/);
    const header = copyInto(path.join(SDK_DIR, 'examples', 'bytecount.h'), tmp.dir);
    const noMake = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR, make: 'make-that-does-not-exist' });
    assert.match(noMake.failure ?? '', /not installed/);
  });

  it('cancelling a build kills make and everything it started', async () => {
    const makeDir = path.join(tmp.dir, 'slow');
    fs.mkdirSync(makeDir);
    const pidFile = path.join(tmp.dir, 'child.pid');
    // A bpf/custom-style Makefile whose "compiler" hangs, standing in for a slow clang.
    fs.writeFileSync(path.join(makeDir, 'Makefile'), `BPF_CUSTOM_PROG_FILE ?= x.h\nall:\n\tsh -c 'echo $$$$ > ${pidFile}; exec sleep 60'\n`);
    const header = copyInto(path.join(SDK_DIR, 'examples', 'bytecount.h'), makeDir);
    const abort = new AbortController();
    const pending = buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR, signal: abort.signal });
    await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '');
    const childPid = Number(fs.readFileSync(pidFile, 'utf8'));
    abort.abort();
    const result = await pending;
    assert.equal(result.cancelled, true);
    assert.equal(result.failure, 'build cancelled');
    await waitFor(() => !isAlive(childPid));
  });

  it('the CLI prints a JSON object naming the object file', () => {
    const examplesCopy = copyInto(path.join(SDK_DIR, 'examples'), tmp.dir);
    const out = execFileSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), 'build', path.join(examplesCopy, 'bytecount.h'), '--json'], {
      encoding: 'utf8',
    });
    const json = JSON.parse(out);
    assert.equal(json.ok, true);
    assert.equal(json.object, path.join(examplesCopy, 'bytecount.o'));
    assert.ok(fs.existsSync(json.object));
  });

  it('the CLI prints file:line:col errors and exits 1', () => {
    const header = copyInto(path.join(HEADER_FIXTURES, 'syntax_error.h'), tmp.dir);
    const expected = expectation(header, 'build');
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), 'build', header], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      status = (error as { status: number }).status;
      stderr = (error as { stderr: string }).stderr;
    }
    assert.equal(status, 1);
    assert.ok(stderr.includes(`${header}:${expected.line}:${expected.column}: error: `), stderr);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is dead for our purposes.
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
