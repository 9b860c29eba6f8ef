// `cilium-custom test` for real: the bundled CLI runs every bundled example's packet test cases through
// BPF_PROG_TEST_RUN on this kernel, over SSH (a throwaway sshd on 127.0.0.1), and in the cached 6.1 kernel's VM;
// a wrong expectation fails with a readable diff and exit code 1; --bench prints ns/packet. Nothing stays pinned.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, startCli } from './helpers/cli';
import { copyInto, FIXTURES, REPO, SDK_DIR, tempDir } from './helpers/fixtures';
import { assertKernelClean, snapshot, verifyPinDirs, type KernelSnapshot } from './helpers/pins';
import { requireKernels } from './helpers/kernels';
import { hasCommand, isRoot, requireBpf, requireOrSkip } from './helpers/require';
import { expandSnippet } from './helpers/snippets';
import { sshdAvailable, startSshd, type Sshd } from './helpers/sshd';

const EXAMPLES_DIR = path.join(SDK_DIR, 'examples');
const examples = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.h')).sort();
const WRONG = path.join(FIXTURES, 'progtest', 'bytecount-wrong.test.json');

/** Upload directories of test runs in /tmp (the verify script's naming). */
const uploads = () => fs.readdirSync('/tmp').filter((n) => /^cilium-custom-verify-[0-9]+-[0-9a-f]+$/.test(n));

describe('cilium-custom test (system: real bpftool prog run)', function () {
  let tmp: ReturnType<typeof tempDir>;
  let kernelBefore: KernelSnapshot;
  let uploadsBefore: string[];

  before(function () {
    requireBpf(this);
  });

  beforeEach(() => {
    tmp = tempDir('cilium-custom-progtest-');
    kernelBefore = snapshot();
    uploadsBefore = uploads();
  });

  afterEach(async () => {
    tmp?.remove();
    await assertKernelClean(kernelBefore);
    assert.deepEqual(verifyPinDirs(), [], 'no temporary pins stay');
    assert.deepEqual(uploads().filter((u) => !uploadsBefore.includes(u)), [], 'no upload directory stays');
  });

  /** The examples (headers and test files) in a folder of their own, built there. */
  function examplesCopy(): string {
    const dir = copyInto(EXAMPLES_DIR, tmp.dir);
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.o') || f.startsWith('.')) fs.rmSync(path.join(dir, f));
    return dir;
  }

  /** The wrong-expectation fixture beside a copy of bytecount.h. */
  function wrongCopy(dir: string): string {
    const json = JSON.parse(fs.readFileSync(WRONG, 'utf8')) as { header: string };
    json.header = 'bytecount.h';
    const file = path.join(dir, 'bytecount-wrong.test.json');
    fs.writeFileSync(file, JSON.stringify(json));
    return file;
  }

  for (const example of examples) {
    it(`passes every case of ${example.replace(/\.h$/, '.test.json')}`, async () => {
      const header = path.join(examplesCopy(), example);
      const run = await runCli(['test', header]);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      const lines = run.stdout.trim().split('\n');
      const plan = /^1\.\.(\d+)$/.exec(lines[0]);
      assert.ok(plan, lines[0]);
      const n = Number(plan[1]);
      assert.ok(n >= 3);
      assert.equal(lines.filter((l) => /^ok \d+ - /.test(l)).length, n);
      assert.equal(lines.at(-1), `${n} passed, 0 failed`);
    });
  }

  it('bytecount: at least 6 cases, and --json says what each returned', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const run = await runCli(['test', header, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout) as { passed: number; failed: number; cases: { name: string; ok: boolean; returnCode: number; expectedReturn: number }[] };
    assert.ok(json.passed >= 6);
    assert.equal(json.failed, 0);
    const dropped = json.cases.find((c) => c.name === "IPv4 TCP hands back the datapath's drop code");
    assert.equal(dropped?.returnCode, 2, 'the datapath code comes back unchanged');
    assert.ok(json.cases.some((c) => c.returnCode === 130));
  });

  it('a wrong expectation fails with expected against actual and exit code 1', async () => {
    const file = wrongCopy(examplesCopy());
    const run = await runCli(['test', file]);
    assert.equal(run.code, 1, run.stderr);
    const out = run.stdout;
    assert.match(out, /^ok 1 - right: IPv4 UDP counts 106 bytes \(IPv4 UDP 106 B\)$/m);
    assert.match(out, /^not ok 2 - wrong: expects the program to drop and count 100 bytes/m);
    assert.match(out, /^ {2}# return code: expected 2, got 0$/m);
    assert.match(out, /^ {2}# bytecount_map\[12345\]: expected 100, got 106$/m);
    assert.match(out, /^ {2}# bytecount_map\[8\] change: expected \+80, got absent after the run$/m);
    assert.match(out, /^ {2}# bytecount_map\[7\] \(not expected to change\): expected absent, got 80$/m);
    assert.match(out, /^1 passed, 2 failed$/m);
  });

  it('seeds in hex and as integers; a seed that does not fit fails its own case only', async () => {
    const dir = examplesCopy();
    const json = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'progtest', 'bytecount-seeds.test.json'), 'utf8')) as { header: string };
    json.header = 'bytecount.h';
    const file = path.join(dir, 'bytecount-seeds.test.json');
    fs.writeFileSync(file, JSON.stringify(json));
    const run = await runCli(['test', file]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^ok 1 - hex seed /m);
    assert.match(run.stdout, /^not ok 2 - too big .*\n {2}# seed bytecount_map: a key does not fit the map's 4-byte keys$/m);
    assert.match(run.stdout, /^not ok 3 - wrong hex size .*\n {2}# seed bytecount_map: a key does not fit the map's 4-byte keys$/m);
    assert.match(run.stdout, /^not ok 4 - no such map .*\n {2}# seed nomap: the program has no map of that name$/m);
    assert.match(run.stdout, /^ok 5 - after failures still runs /m);
    assert.match(run.stdout, /^2 passed, 3 failed$/m);
  });

  it('--case runs one case; bad input exits with 2', async () => {
    const dir = examplesCopy();
    const one = await runCli(['test', path.join(dir, 'bytecount.test.json'), '--case', 'IPv6 TCP, three packets']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^1\.\.1\nok 1 - IPv6 TCP, three packets \(IPv6 TCP 150 B\)\n1 passed, 0 failed\n$/);
    const unknown = await runCli(['test', path.join(dir, 'bytecount.h'), '--case', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no case named "nope"/);
    fs.writeFileSync(path.join(dir, 'broken.test.json'), JSON.stringify({ header: 'bytecount.h', cases: [{ name: 'x', identity: 1 << 24 }] }));
    const broken = await runCli(['test', path.join(dir, 'broken.test.json')]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /cases\[0\]\.identity: expected an integer from 0 to 16777215/);
    const missing = await runCli(['test', path.join(dir, 'nothing.h')]);
    assert.equal(missing.code, 2);
  });

  it('--bench prints ns/packet per case, the median of the rounds', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const run = await runCli(['test', header, '--bench', '--repeat', '20000', '--rounds', '3', '--case', 'IPv4 UDP counts the frame for its identity']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    const head = lines.findIndex((l) => /^case\s+packet\s+ns\/packet\s+median of$/.test(l));
    assert.ok(head > 0, run.stdout);
    const row = /^IPv4 UDP counts the frame for its identity\s+IPv4 UDP 106 B\s+(\d+)\s+3 rounds x 20000 runs$/.exec(lines[head + 1]);
    assert.ok(row, lines[head + 1]);
    const ns = Number(row[1]);
    assert.ok(ns > 0 && ns < 100_000, `${ns} ns/packet`);
  });

  it('the "cilium-custom-tests" snippet writes a first test file that passes on every example', async () => {
    const snippets = JSON.parse(fs.readFileSync(path.join(REPO, 'snippets', 'json', 'custom-tests.code-snippets'), 'utf8')) as Record<string, { body: string[] }>;
    const [snippet] = Object.values(snippets);
    const dir = examplesCopy();
    for (const example of examples) {
      const testFile = path.join(dir, example.replace(/\.h$/, '.test.json'));
      fs.writeFileSync(testFile, expandSnippet(snippet.body.join('\n'), {}));
      const run = await runCli(['test', testFile]);
      assert.equal(run.code, 0, `${example}: ${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /^2 passed, 0 failed$/m);
    }
  });

  it('a header the verifier rejects runs no case and says where the verifier stopped', async () => {
    const header = copyInto(path.join(FIXTURES, 'headers', 'null_deref.h'), tmp.dir);
    fs.writeFileSync(header.replace(/\.h$/, '.test.json'), JSON.stringify({ cases: [{ name: 'any', identity: 1 }] }));
    const run = await runCli(['test', header]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^not ok - the verifier rejects the program: .*null_deref\.h:21: .*invalid mem access 'map_value_or_null'/m);
  });

  it('SIGINT during a long bench stops the run and leaves no pins', async () => {
    const header = path.join(examplesCopy(), 'bytecount.h');
    const cli = startCli(['test', header, '--bench', '--repeat', '10000000', '--rounds', '20']);
    // The runner is under way once its pin directory exists.
    const deadline = Date.now() + 30_000;
    while (verifyPinDirs().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(verifyPinDirs().length > 0, 'the test run started');
    cli.child.kill('SIGINT');
    const run = await cli.done;
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /cancelled/);
  });

  describe('over SSH (real sshd on 127.0.0.1)', () => {
    let sshd: Sshd | undefined;
    before(async function () {
      requireOrSkip(this, isRoot(), 'the SSH tests start sshd, which needs root');
      requireOrSkip(this, sshdAvailable(), 'sshd is not installed (apt-get install openssh-server)');
      requireOrSkip(this, hasCommand('ssh'), 'the ssh client is not installed (apt-get install openssh-client)');
      sshd = await startSshd();
    });
    after(async () => {
      await sshd?.stop();
    });

    it('runs the cases on the node, the wrong one failing the same way', async () => {
      const of = sshd!;
      const flags = ['--ssh', `root@127.0.0.1:${of.port}`, '--identity', of.identityFile, '--ssh-persist', '0', ...of.clientOptions.flatMap((o) => ['--ssh-option', o])];
      const dir = examplesCopy();
      const ok = await runCli(['test', path.join(dir, 'bytecount.h'), ...flags]);
      assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
      assert.match(ok.stdout, /^7 passed, 0 failed$/m);
      const bad = await runCli(['test', wrongCopy(dir), ...flags]);
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(bad.stdout, /^ {2}# bytecount_map\[12345\]: expected 100, got 106$/m);
    });
  });

  describe('in the 6.1 kernel VM', () => {
    it('passes the cases and shows no timings under TCG', async function () {
      this.timeout(300_000);
      await requireKernels(this, ['6.1']);
      const header = path.join(examplesCopy(), 'tail_context.h');
      const run = await runCli(['test', header, '--kernel', '6.1', '--bench', '--repeat', '1000', '--rounds', '3']);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /^3 passed, 0 failed$/m);
      const accel = /booted in [0-9.]+ s \((kvm|tcg)\)/.exec(run.stderr)?.[1];
      assert.ok(accel, run.stderr);
      if (accel === 'tcg') {
        assert.match(run.stdout, /^# no timings: kernel 6\.1 .*TCG emulation/m);
        assert.doesNotMatch(run.stdout, /ns\/packet/);
      } else {
        assert.match(run.stdout, /ns\/packet/);
      }
    });
  });
});
