// The kernel matrix with real kernels in real VMs (issue 14): Debian's cloud kernels 5.10, 6.1 and 6.12, fetched
// once into the per-user cache, booted under QEMU (TCG here) with an initramfs of the host's busybox and bpftool,
// next to the host's own kernel. Checked through the CLI's JSON, as a CI script would: a constant-key PERCPU_ARRAY
// lookup dereferenced without a NULL check is rejected on the three node kernels on its dereference line and
// accepted on 6.18; the bundled examples are accepted everywhere. Then the faults, each with one clear message and
// nothing left behind (no QEMU process, no VM folder): QEMU missing, an image that is not a kernel or does not boot,
// a VM that hangs, a VM killed mid-verify, a CLI interrupted or killed.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KernelTarget, VmPool, type CachedKernel } from '../../src/core/kernels';
import { buildHeader } from '../../src/core/build/build';
import { verifyHeaderOrObject } from '../../src/core/verify/verifyHeader';
import { VM_DIR_PREFIX } from '../../src/core/kernels/qemu';
import { runCli, startCli } from './helpers/cli';
import { copyInto, expectation, HEADER_FIXTURES, SDK_DIR, tempDir } from './helpers/fixtures';
import { fill, privateMount } from './helpers/faults';
import { NODE_KERNELS, requireKernels } from './helpers/kernels';
import { isRoot, requireBpf, requireOrSkip, requireToolchain } from './helpers/require';
import { ASSEMBLY, expanderFor, loadSnippets } from './helpers/snippets';

const FIXTURE = path.join(HEADER_FIXTURES, 'percpu_const_key.h');
const SLOW_HEADER = path.join(HEADER_FIXTURES, 'slow', 'too_many_insns.h');
const EXAMPLES_DIR = path.join(SDK_DIR, 'examples');

interface MatrixJson {
  matrix: Array<{
    kernel: string;
    target: string;
    input?: string;
    verdict: string;
    error: { message: string; file: string | null; line: number | null; hint: string } | null;
    stats: { insnsProcessed: number | null } | null;
    truncated: boolean;
    problem?: string;
  }>;
}

/** QEMU processes whose command line names `dir` (the VM folders of one test live there). */
function qemuProcessesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('qemu-system') && cmdline.includes(dir)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** A QEMU process started by this test process (its VM folder carries our pid). */
function isOurs(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${VM_DIR_PREFIX}${process.pid}-`);
  } catch {
    return false;
  }
}

function vmDirsUnder(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((name) => name.startsWith(VM_DIR_PREFIX));
  } catch {
    return [];
  }
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function hostVersion(): number[] {
  return (/^([0-9]+)\.([0-9]+)/.exec(os.release()) ?? ['', '0', '0']).slice(1).map(Number);
}

describe('kernel matrix: real kernels in QEMU (issue 14)', function () {
  this.timeout(300_000);
  let kernels: CachedKernel[] = [];
  let tmp: ReturnType<typeof tempDir>;
  /** TMPDIR of the CLIs a test starts: their VM folders go there, and must be gone afterwards. */
  let vmTmp: string;

  before(async function () {
    this.timeout(900_000);
    requireToolchain(this);
    kernels = await requireKernels(this);
  });

  beforeEach(() => {
    tmp = tempDir('cilium-custom-kernels-test-');
    vmTmp = path.join(tmp.dir, 'tmp');
    fs.mkdirSync(vmTmp);
  });

  afterEach(async () => {
    // Nothing of a VM may outlive the run that started it.
    try {
      await waitFor('QEMU to be gone', () => qemuProcessesUnder(vmTmp).length === 0, 10_000);
      assert.deepEqual(vmDirsUnder(vmTmp), [], 'a VM folder (initramfs, console log) was left behind');
    } finally {
      for (const pid of qemuProcessesUnder(vmTmp)) process.kill(pid, 'SIGKILL');
      tmp.remove();
    }
  });

  const env = () => ({ TMPDIR: vmTmp });

  it('kernels list shows the fetched kernels with their versions', async () => {
    const run = await runCli(['kernels', 'list', '--json'], env());
    assert.equal(run.code, 0, run.stderr);
    const listed = (JSON.parse(run.stdout) as { kernels: Array<{ name: string; version: string; source: string }> }).kernels;
    for (const k of kernels) {
      const entry = listed.find((l) => l.name === k.name);
      assert.ok(entry, `${k.name} listed`);
      assert.match(entry.version, new RegExp(`^${k.name.replace('.', '\\.')}\\.[0-9]+$`));
      assert.equal(entry.source, 'debian');
    }
  });

  it('a constant-key PERCPU_ARRAY dereference: rejected on 5.10, 6.1 and 6.12 on its line, accepted on the host', async function () {
    requireBpf(this);
    const header = copyInto(FIXTURE, tmp.dir);
    const expected = expectation(FIXTURE, 'old-kernels');
    const started = Date.now();
    const run = await runCli(['verify', header, '--kernel', '5.10', '--kernel', '6.1', '--kernel', '6.12', '--kernel', 'host', '--json'], env());
    console.log(`      matrix of 4 kernels: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const line of run.stderr.split('\n').filter((l) => /booted in/.test(l))) console.log(`      ${line.replace('cilium-custom: ', '')}`);
    assert.equal(run.code, 1, `exit 1 when any kernel rejects\n${run.stderr}`);
    const { matrix } = JSON.parse(run.stdout) as MatrixJson;
    assert.equal(matrix.length, 4);
    kernels.forEach((k, i) => {
      const entry = matrix[i];
      assert.equal(entry.kernel, k.version);
      assert.equal(entry.target, `kernel-${k.name}`);
      assert.equal(entry.verdict, 'rejected', `${k.version}: ${JSON.stringify(entry)}`);
      assert.ok(entry.error?.message.includes(expected.message!), `${k.version}: ${entry.error?.message}`);
      assert.deepEqual({ file: entry.error?.file, line: entry.error?.line }, { file: header, line: expected.line }, k.version);
      assert.equal(entry.problem, undefined);
      assert.ok((entry.stats?.insnsProcessed ?? 0) > 0);
    });
    const host = matrix[3];
    assert.equal(host.target, 'local');
    assert.equal(host.kernel, /^([0-9]+\.[0-9]+(\.[0-9]+)?)/.exec(os.release())![1]);
    const [major, minor] = hostVersion();
    if (major > 6 || (major === 6 && minor >= 18)) assert.equal(host.verdict, 'accepted', JSON.stringify(host));
    else console.log(`      (host kernel ${os.release()} is older than 6.18: its verdict ${host.verdict} is not checked)`);
  });

  it('human output: one line per kernel with the version, the verdict and header:line', async function () {
    const header = copyInto(FIXTURE, tmp.dir);
    const run = await runCli(['verify', header, '--kernel', '6.1'], env());
    assert.equal(run.code, 1, run.stderr);
    const line = expectation(FIXTURE, 'old-kernels').line;
    const version = kernels[1].version.replace(/\./g, '\\.');
    assert.match(run.stdout, new RegExp(`^${version} +rejected +percpu_const_key\\.h:${line}: R0 invalid mem access 'map_value_or_null'\\n$`));
    assert.match(run.stderr, /kernel 6\.1 \(6\.1\.[0-9]+\) booted in [0-9.]+ s \((tcg|kvm)\)/);
  });

  it('every bundled example and every snippet is accepted on 5.10, 6.1, 6.12 and the host (one boot per kernel for all of them)', async function () {
    requireBpf(this);
    const dir = copyInto(EXAMPLES_DIR, tmp.dir, 'examples');
    const examples = fs.readdirSync(dir).filter((f) => f.endsWith('.h')).sort().map((f) => path.join(dir, f));
    assert.ok(examples.length >= 4);
    // Each snippet as the snippet suite assembles it into a complete header (helpers/snippets.ts ASSEMBLY).
    const snippets = loadSnippets();
    const snippetHeaders = Object.keys(ASSEMBLY).map((prefix) => {
      const header = path.join(tmp.dir, `snippet_${prefix}.h`);
      fs.writeFileSync(header, `${ASSEMBLY[prefix](expanderFor(snippets, header))}\n`);
      return header;
    });
    const headers = [...examples, ...snippetHeaders];
    const started = Date.now();
    const run = await runCli(['verify', ...headers, '--kernels', 'all', '--json'], env());
    console.log(`      ${examples.length} examples and ${snippetHeaders.length} snippets on 4 kernels: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const { matrix } = JSON.parse(run.stdout) as MatrixJson;
    const targets = [...new Set(matrix.map((e) => e.target))];
    for (const name of [...NODE_KERNELS.map((k) => `kernel-${k}`), 'local']) assert.ok(targets.includes(name), `${name} in ${targets.join(', ')}`);
    for (const target of targets) {
      const entries = matrix.filter((e) => e.target === target);
      assert.deepEqual(entries.map((e) => e.input), headers, target);
      for (const e of entries) assert.equal(e.verdict, 'accepted', `${target} ${e.input}: ${JSON.stringify(e.error)}`);
    }
    // One boot per kernel: each VM kernel printed one "booted" line.
    for (const k of kernels) assert.equal(run.stderr.split(`kernel ${k.name} (${k.version}) booted`).length - 1, 1, run.stderr);
  });

  it('argv words and standard input reach the VM intact; runs that arrive together share one boot', async () => {
    const target = new KernelTarget({ kernel: kernels[0] });
    const hostile = ["it's $(reboot -f) `reboot -f`; exit 1", 'line\nbreak', '', ' -x', '*'];
    try {
      const [echo, stdin, status] = await Promise.all([
        target.run(['sh', '-c', 'for w in "$@"; do printf "[%s]" "$w"; done', 'sh', ...hostile]),
        target.run(['cat'], { input: Buffer.from('an object\x01\x7f with \'quotes\' and no final newline') }),
        target.run(['sh', '-c', 'exit 7']),
      ]);
      assert.equal(echo.exitCode, 0, echo.stderr);
      assert.equal(echo.stderr, hostile.map((w) => `[${w}]`).join(''));
      assert.equal(stdin.exitCode, 0);
      assert.equal(stdin.stderr, "an object\x01\x7f with 'quotes' and no final newline");
      assert.equal(status.exitCode, 7);
      assert.equal(target.boots.length, 1, 'one boot for the three runs');
      assert.equal(target.boots[0].jobs, 3);
      assert.match(target.boots[0].release ?? '', /^5\.10\./);
    } finally {
      await target.dispose();
    }
  });

  describe('warm VMs (a VmPool, as the editor keeps them)', () => {
    /** The object of the constant-key fixture, built once on the host: each verify below is the VM's work alone. */
    async function fixtureObject(): Promise<string> {
      const build = await buildHeader({ headerPath: copyInto(FIXTURE, tmp.dir), bundledSdkDir: SDK_DIR });
      assert.ok(build.ok, build.failure);
      return build.objectPath;
    }

    it('the second verify on a kernel skips the boot: same verdict, well under a second', async () => {
      const object = await fixtureObject();
      const pool = new VmPool({ idleMs: 60_000 });
      const target = new KernelTarget({ kernel: kernels[1], pool });
      try {
        const times: number[] = [];
        const verdicts: string[] = [];
        for (let i = 0; i < 3; i++) {
          const started = Date.now();
          const result = await verifyHeaderOrObject({ input: object, target, logLevel: 'verbose', bundledSdkDir: SDK_DIR });
          times.push(Date.now() - started);
          verdicts.push(`${result.log.verdict}:${result.located?.error?.line}`);
        }
        console.log(`      kernel 6.1: first verify ${times[0]} ms (boot), then ${times.slice(1).join(', ')} ms (warm)`);
        assert.equal(new Set(verdicts).size, 1, verdicts.join(' '));
        assert.match(verdicts[0], /^rejected:/);
        assert.equal(target.boots.length, 1, 'one boot for three verifies');
        assert.equal(target.boots[0].jobs, 3);
        // The bench holds the 0.5 s goal on an idle machine; here, with other suites around, a bound that still
        // proves no boot happened (a TCG boot alone takes 2 s or more).
        for (const ms of times.slice(1)) assert.ok(ms < 1500, `a warm verify took ${ms} ms`);
        assert.equal(qemuProcessesUnder(os.tmpdir()).filter((pid) => isOurs(pid)).length, 1, 'one VM, still running');
      } finally {
        await pool.closeAll();
      }
      assert.deepEqual(qemuProcessesUnder(os.tmpdir()).filter((pid) => isOurs(pid)), [], 'closeAll ends the VM');
    });

    it('an idle VM shuts down after the idle timeout; the next run boots a fresh one', async () => {
      const pool = new VmPool({ idleMs: 1000 });
      const target = new KernelTarget({ kernel: kernels[0], pool });
      try {
        assert.equal((await target.run(['true'])).exitCode, 0);
        assert.equal(pool.size, 1);
        await waitFor('the idle VM to shut down', () => pool.size === 0 && qemuProcessesUnder(os.tmpdir()).filter(isOurs).length === 0, 20_000);
        assert.equal((await target.run(['sh', '-c', 'exit 3'])).exitCode, 3);
        assert.equal(target.boots.length, 2);
      } finally {
        await pool.closeAll();
      }
    });

    it('a warm VM killed while idle (the OOM killer, a user): the next run notices and boots a fresh one', async () => {
      const pool = new VmPool({ idleMs: 60_000 });
      const target = new KernelTarget({ kernel: kernels[0], pool });
      try {
        assert.equal((await target.run(['true'])).exitCode, 0);
        const [pid] = qemuProcessesUnder(os.tmpdir()).filter(isOurs);
        assert.ok(pid, 'the warm VM runs');
        process.kill(pid, 'SIGKILL');
        await waitFor('the pool to notice', () => pool.size === 0, 10_000);
        const next = await target.run(['uname', '-r']);
        assert.equal(next.exitCode, 0, next.spawnError?.message);
        assert.equal(target.boots.length, 2);
      } finally {
        await pool.closeAll();
      }
    });

    it('a run queued behind one that hangs: the hung one times out, the queued one runs on a fresh VM', async () => {
      const pool = new VmPool({ idleMs: 60_000 });
      const target = new KernelTarget({ kernel: kernels[0], pool });
      try {
        const [hung, next] = await Promise.all([
          target.run(['sh', '-c', 'exec sleep 600'], { timeoutMs: 2000 }),
          target.run(['uname', '-r']),
        ]);
        assert.equal(hung.timedOut, true);
        assert.equal(next.exitCode, 0, next.spawnError?.message);
        assert.match(next.stderr, /^5\.10\./);
        assert.equal(target.boots.length, 2);
      } finally {
        await pool.closeAll();
      }
    });

    it('closeAll while a job runs: the job says the VM was shut down, and no QEMU is left', async () => {
      const pool = new VmPool({ idleMs: 60_000 });
      const target = new KernelTarget({ kernel: kernels[0], pool });
      const running = target.run(['sh', '-c', 'echo started; exec sleep 600'], { onStderr: () => void pool.closeAll() });
      const result = await running;
      assert.equal(result.exitCode, null);
      assert.match(target.describeFailure(result), /the VM of kernel 5\.10 \(5\.10\.[0-9]+\) was shut down/);
      await pool.closeAll();
      assert.deepEqual(qemuProcessesUnder(os.tmpdir()).filter(isOurs), []);
    });
  });

  describe('kernels add, list, remove (a private cache)', () => {
    const cacheEnv = () => ({ ...env(), XDG_CACHE_HOME: path.join(tmp.dir, 'cache') });

    it('refuses a file that is not a bzImage, a truncated one, a reserved or hostile name', async () => {
      const random = path.join(tmp.dir, 'random');
      fs.writeFileSync(random, Buffer.alloc(4 * 1024 * 1024, 7));
      let run = await runCli(['kernels', 'add', 'junk', random], cacheEnv());
      assert.equal(run.code, 1);
      assert.match(run.stderr, /is not a Linux kernel image \(bzImage\): no "HdrS" boot header magic at offset 0x202/);
      const truncated = path.join(tmp.dir, 'vmlinuz-cut');
      const image = fs.readFileSync(kernels[1].vmlinuz);
      fs.writeFileSync(truncated, image.subarray(0, Math.floor(image.length / 2)));
      run = await runCli(['kernels', 'add', 'cut', truncated], cacheEnv());
      assert.equal(run.code, 1);
      assert.match(run.stderr, /is truncated: its bzImage header says [0-9]+ bytes, the file has [0-9]+/);
      run = await runCli(['kernels', 'add', 'host', kernels[1].vmlinuz], cacheEnv());
      assert.equal(run.code, 1);
      assert.match(run.stderr, /"host" is reserved/);
      run = await runCli(['kernels', 'add', '../../etc', kernels[1].vmlinuz], cacheEnv());
      assert.equal(run.code, 1);
      assert.match(run.stderr, /invalid kernel name/);
      const root = path.join(tmp.dir, 'cache', 'cilium-custom', 'kernels');
      assert.deepEqual(fs.existsSync(root) ? fs.readdirSync(root) : [], [], 'nothing half-added');
    });

    it('adds a node image under a name of its own, with the version read from its header; lists and removes it', async () => {
      let run = await runCli(['kernels', 'add', 'node-a', kernels[0].vmlinuz], cacheEnv());
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^node-a: ${kernels[0].version.replace(/\./g, '\\.')} \\(5\\.10\\.0-[0-9]+-cloud-amd64\\)`));
      run = await runCli(['kernels', 'list'], cacheEnv());
      assert.match(run.stdout, /^node-a +5\.10\.[0-9]+ .* added from /m);
      run = await runCli(['kernels', 'remove', 'node-a'], cacheEnv());
      assert.equal(run.code, 0, run.stderr);
      run = await runCli(['kernels', 'remove', 'node-a'], cacheEnv());
      assert.equal(run.code, 1);
      assert.match(run.stderr, /no kernel "node-a"/);
    });

    it('verify names a kernel that is not in the cache, with how to get one (exit 2, no VM)', async () => {
      const header = copyInto(FIXTURE, tmp.dir);
      const run = await runCli(['verify', header, '--kernel', 'nosuch'], cacheEnv());
      assert.equal(run.code, 2);
      assert.match(run.stderr, /no kernel "nosuch" in the cache .*kernels fetch 6\.1.*kernels add NAME VMLINUZ/);
    });
  });

  describe('faults: one clear message, nothing left behind', () => {
    it('QEMU missing: every kernel says so, with the package to install', async () => {
      const header = copyInto(FIXTURE, tmp.dir);
      const run = await runCli(['verify', header, '--kernel', '5.10', '--kernel', '6.1', '--json'], { ...env(), CILIUM_CUSTOM_QEMU: path.join(tmp.dir, 'no-such-qemu') });
      assert.equal(run.code, 1);
      const { matrix } = JSON.parse(run.stdout) as MatrixJson;
      assert.equal(matrix.length, 2);
      for (const entry of matrix) {
        assert.equal(entry.verdict, 'unknown');
        assert.equal(entry.problem, 'target');
        assert.match(entry.error!.message, /QEMU is not installed \(.*no-such-qemu not found\).*apt-get install qemu-system-x86/);
      }
    });

    it('an image that passes add but does not boot: stopped at the boot deadline, with what its console said', async () => {
      const cacheEnv = { ...env(), XDG_CACHE_HOME: path.join(tmp.dir, 'cache'), CILIUM_CUSTOM_VM_BOOT_TIMEOUT: '15' };
      const corrupt = path.join(tmp.dir, 'vmlinuz-corrupt');
      const image = Buffer.from(fs.readFileSync(kernels[1].vmlinuz));
      // The compressed kernel, scrambled in the middle: the header is fine, the decompressor is not.
      for (let i = image.length >> 1; i < (image.length >> 1) + 65536; i++) image[i] ^= 0x5a;
      fs.writeFileSync(corrupt, image);
      let run = await runCli(['kernels', 'add', 'corrupt', corrupt], cacheEnv);
      assert.equal(run.code, 0, run.stderr);
      const header = copyInto(FIXTURE, tmp.dir);
      const started = Date.now();
      run = await runCli(['verify', header, '--kernel', 'corrupt'], cacheEnv);
      assert.equal(run.code, 1);
      assert.ok(Date.now() - started < 60_000);
      assert.match(run.stdout, /failed +.*kernel corrupt \(6\.1\.[0-9]+\) did not boot within 15 s \(QEMU was stopped\)/);
    });

    it('a full cache disk: kernels add says so and stores nothing; a full TMPDIR: the VM says so and leaves nothing', async function () {
      requireOrSkip(this, isRoot(), 'mounting a small tmpfs needs root');
      const disk = privateMount('tmpfs', 'size=4m');
      try {
        const image = kernels[1].vmlinuz;
        let run = await runCli(['kernels', 'add', 'node-a', image], { ...env(), XDG_CACHE_HOME: disk.dir });
        assert.equal(run.code, 1);
        assert.match(run.stderr, /^cilium-custom: kernels add: no space left in the kernel cache .*cilium-custom\/kernels for node-a \([0-9]+ MB\): free some space there, or set XDG_CACHE_HOME to a roomier disk; nothing was stored\n$/);
        assert.deepEqual(fs.readdirSync(path.join(disk.dir, 'cilium-custom', 'kernels')), [], 'no half-written entry or staging folder');

        // TMPDIR on a disk with no room: the initramfs cannot be written.
        fill(disk.dir);
        // A build needs TMPDIR too (clang's dependency list), and says so.
        const header = copyInto(FIXTURE, tmp.dir);
        run = await runCli(['build', header], { TMPDIR: disk.dir });
        assert.equal(run.code, 1);
        assert.match(run.stderr, new RegExp(`^cilium-custom: cannot write the build's scratch files in ${disk.dir} \\(TMPDIR\\): No space left on device`));
        assert.equal((await runCli(['build', header], env())).code, 0);
        run = await runCli(['verify', header.replace(/\.h$/, '.o'), '--kernel', '6.1', '--json'], { TMPDIR: disk.dir });
        assert.equal(run.code, 1, run.stderr);
        const { matrix } = JSON.parse(run.stdout) as MatrixJson;
        assert.match(matrix[0].error!.message, new RegExp(`could not write the initramfs of kernel 6\\.1 \\(6\\.1\\.[0-9]+\\): no space left in ${disk.dir} \\(TMPDIR\\)`));
        assert.deepEqual(vmDirsUnder(disk.dir), [], 'no VM folder left');
        assert.deepEqual(qemuProcessesUnder(disk.dir), []);
      } finally {
        disk.remove();
      }
    });

    it('a VM that hangs in a job is killed at the job timeout', async () => {
      const target = new KernelTarget({ kernel: kernels[1] });
      const before = vmDirsUnder(os.tmpdir()).filter((d) => d.startsWith(`${VM_DIR_PREFIX}${process.pid}-`));
      let output = '';
      const started = Date.now();
      const result = await target.run(['sh', '-c', 'echo sleeping; exec sleep 600'], { timeoutMs: 3000, onStderr: (c) => (output += c) });
      await target.dispose();
      assert.equal(result.timedOut, true);
      assert.equal(result.exitCode, null);
      assert.equal(output, 'sleeping\n');
      assert.ok(Date.now() - started < 60_000);
      assert.match(target.describeFailure(result), /^sh timed out in the VM of kernel 6\.1 \(6\.1\.[0-9]+\) \(QEMU was stopped\)$/);
      assert.deepEqual(qemuProcessesUnder(`${VM_DIR_PREFIX}${process.pid}-`), []);
      assert.deepEqual(vmDirsUnder(os.tmpdir()).filter((d) => d.startsWith(`${VM_DIR_PREFIX}${process.pid}-`)), before);
    });

    it('a VM killed mid-verify: the verify fails with what happened, the rest of the matrix still answers', async function () {
      requireBpf(this);
      const slow = copyInto(SLOW_HEADER, tmp.dir);
      // --errors-only: the host's verdict in seconds rather than a 130 MB log; the VM's verifier still works for long.
      const cli = startCli(['verify', slow, '--kernel', '6.1', '--kernel', 'host', '--json', '--errors-only'], env());
      await cli.waitForStderr('booted in', 120_000);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // bpftool is at work in the VM now
      const pids = qemuProcessesUnder(vmTmp);
      assert.equal(pids.length, 1);
      process.kill(pids[0], 'SIGKILL');
      const run = await cli.done;
      assert.equal(run.code, 1);
      const { matrix } = JSON.parse(run.stdout) as MatrixJson;
      const vm = matrix.find((e) => e.target === 'kernel-6.1')!;
      assert.equal(vm.verdict, 'unknown');
      assert.match(vm.error!.message, /the VM of kernel 6\.1 \(6\.1\.[0-9]+\) ended before its jobs did: QEMU was killed by SIGKILL/);
      const host = matrix.find((e) => e.target === 'local')!;
      assert.equal(host.verdict, 'rejected', 'the host still gave its verdict');
    });

    it('a CLI interrupted mid-verify (SIGINT) stops its VMs and removes their folders', async () => {
      const slow = copyInto(SLOW_HEADER, tmp.dir);
      const cli = startCli(['verify', slow, '--kernel', '5.10', '--kernel', '6.1'], env());
      await cli.waitForStderr('booted in', 120_000);
      assert.ok(qemuProcessesUnder(vmTmp).length >= 1);
      cli.child.kill('SIGINT');
      const run = await cli.done;
      assert.equal(run.code, 1);
      assert.match(run.stdout, /cancelled/i);
    });

    it('a CLI killed outright (SIGKILL): its QEMU dies with it, and the next run removes the folder it left', async () => {
      const slow = copyInto(SLOW_HEADER, tmp.dir);
      const cli = startCli(['verify', slow, '--kernel', '6.1'], env());
      await waitFor('QEMU to start', () => qemuProcessesUnder(vmTmp).length === 1, 120_000);
      cli.child.kill('SIGKILL');
      await cli.done;
      await waitFor('QEMU to die with the CLI (parent-death signal)', () => qemuProcessesUnder(vmTmp).length === 0, 10_000);
      assert.equal(vmDirsUnder(vmTmp).length, 1, 'SIGKILL leaves no chance to clean up');
      const header = copyInto(FIXTURE, tmp.dir);
      const run = await runCli(['verify', header, '--kernel', '6.1', '--json'], env());
      assert.equal(run.code, 1);
      assert.deepEqual(vmDirsUnder(vmTmp), [], 'the next run removed the dead run\'s folder');
    });
  });
});
