// The CLI bundle as a user runs it, with bad input: numeric options, empty strings, usage errors, help and version,
// explain of endless, huge or binary input and of logs with terminal escapes, output that cannot be written,
// signals, --log over a source, and commands that need root run by a user without it. Every case checks the exit
// code and the exact stderr line. Nothing here touches BPF state: every refusal happens before the command runs.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasBpfPrivilege } from '../../src/cli/privilege';
import { REPO, SDK_DIR, tempDir } from './helpers/fixtures';
import { hasCommand, isRoot, requireOrSkip } from './helpers/require';

const CLI = path.join(REPO, 'dist', 'cli.js');
const EXAMPLE = path.join(SDK_DIR, 'examples', 'bytecount.h');
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: SpawnSyncOptions = {}): Run {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, ...options });
  return { status: run.status, signal: run.signal, stdout: String(run.stdout ?? ''), stderr: String(run.stderr ?? '') };
}

/** Runs the CLI as another user or with fewer capabilities, through setpriv. */
function cliAs(setprivArgs: string[], args: string[]): Run {
  const run = spawnSync('setpriv', [...setprivArgs, process.execPath, CLI, ...args], { encoding: 'utf8', timeout: 60_000, cwd: '/' });
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
}

/** Exactly one line on stderr, matching `line`, and the exit code. */
function assertOneLine(run: Run, status: number, line: RegExp | string): void {
  const detail = JSON.stringify(run);
  assert.equal(run.status, status, detail);
  assert.equal(run.stderr.split('\n').length, 2, `one line on stderr: ${detail}`);
  if (typeof line === 'string') assert.equal(run.stderr, `${line}\n`, detail);
  else assert.match(run.stderr.trimEnd(), line, detail);
}

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('cilium-custom with bad input (CLI bundle, system)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let header: string;
  before(function () {
    requireOrSkip(this, fs.existsSync(CLI), `${CLI} is missing (npm run build)`);
  });
  beforeEach(() => {
    tmp = tempDir('ccp-cli-inputs-');
    // Readable by the unprivileged user of the setpriv cases.
    fs.chmodSync(tmp.dir, 0o755);
    header = path.join(tmp.dir, 'prog.h');
    fs.copyFileSync(EXAMPLE, header);
  });
  afterEach(() => tmp.remove());

  describe('numeric options: exit code 2 and one line, the same on every command', () => {
    const table: Array<[string, string[], RegExp]> = [
      ['verify', ['verify', 'x.h', '--timeout', 'abc'], /^cilium-custom: --timeout must be an integer from 1 to 2147483 seconds, not "abc"/],
      ['verify', ['verify', 'x.h', '--timeout', '0'], /--timeout must be an integer from 1 to 2147483 seconds, not "0"/],
      ['verify', ['verify', 'x.h', '--timeout=-1'], /--timeout must be .* not "-1"/],
      ['verify', ['verify', 'x.h', '--timeout', '99999999999'], /--timeout must be .* not "99999999999"/],
      ['verify', ['verify', 'x.h', '--timeout', '1.5'], /--timeout must be/],
      ['maps', ['maps', '--offset', 'x'], /--offset must be an integer from 0 to/],
      ['maps', ['maps', '--limit', '0'], /--limit must be an integer from 1 to 10000, not "0"/],
      ['maps', ['maps', '--limit', '10001'], /--limit must be an integer from 1 to 10000/],
      ['maps', ['maps', '--limit=-1'], /--limit must be an integer from 1 to 10000, not "-1"/],
      ['maps', ['maps', '--limit', '-1'], /'--limit' argument is ambiguous/],
      ['explain', ['explain', 'x.log', '--max-bytes', 'abc'], /--max-bytes must be a byte count \(suffixes K, M, G, T\) from 1 to/],
      ['explain', ['explain', 'x.log', '--max-bytes', '0'], /--max-bytes must be a byte count/],
      ['attach', ['attach', 'x.h', '--endpoint', 'abc', '--hook', 'ipv4-ingress'], /endpoint/],
      ['attach', ['attach', 'x.h', '--endpoint', '0', '--hook', 'ipv4-ingress'], /endpoint/],
      ['detach', ['detach', '--endpoint', '65536', '--hook', 'ipv4-ingress'], /endpoint/],
      ['sandbox', ['sandbox', 'up', '--endpoint', '0'], /endpoint/],
      ['sandbox', ['sandbox', 'up', '--identity', 'abc'], /identity/],
      ['sandbox', ['sandbox', 'up', '--identity', '16777216'], /identity/],
      ['sandbox', ['sandbox', 'up', '--return-code', '256'], /return code/],
      ['sandbox', ['sandbox', 'traffic', '--count', '0'], /count/],
      ['sandbox', ['sandbox', 'traffic', '--size', 'abc'], /size/],
    ];
    for (const [command, args, message] of table) {
      it(args.join(' '), () => {
        const run = cli(args, { cwd: tmp.dir });
        assertOneLine(run, 2, message);
        assert.match(run.stderr, new RegExp(`\\(see cilium-custom ${command} --help\\)\\n$`));
        assert.doesNotMatch(run.stderr, /TimeoutOverflowWarning|timed out/);
        assert.equal(run.stdout, '');
      });
    }
  });

  describe('usage errors, help and version', () => {
    it('an unknown option is one line pointing to the command help, no usage text', () => {
      assertOneLine(cli(['build', '--bogus']), 2, /^cilium-custom: Unknown option '--bogus'.* \(see cilium-custom build --help\)$/);
      assertOneLine(cli(['verify']), 2, 'cilium-custom: verify takes exactly one header or object file (see cilium-custom verify --help)');
    });

    it('an unknown command is one line pointing to --help', () => {
      assertOneLine(cli(['frobnicate']), 2, 'cilium-custom: unknown command: frobnicate (see cilium-custom --help)');
    });

    for (const command of ['build', 'verify', 'explain', 'attach', 'detach', 'endpoints', 'maps', 'cleanup', 'sandbox']) {
      it(`${command} --help prints its own usage and exits with 0`, () => {
        for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
          const run = cli(args);
          assert.equal(run.status, 0, JSON.stringify(run));
          assert.match(run.stdout, new RegExp(`^usage: cilium-custom ${command} `));
          assert.match(run.stdout, /Exit codes: 0 /);
          assert.equal(run.stderr, '');
        }
      });
    }

    it('--help with other, even invalid, arguments is still help', () => {
      const run = cli(['verify', 'x.h', '--timeout', 'abc', '--help']);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /^usage: cilium-custom verify/);
    });

    it('--help and --version', () => {
      const help = cli(['--help']);
      assert.equal(help.status, 0);
      assert.match(help.stdout, /^usage: cilium-custom <command>/);
      const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;
      const run = cli(['--version']);
      assert.deepEqual([run.status, run.stdout, run.stderr], [0, `cilium-custom ${version}\n`, '']);
    });
  });

  describe('empty strings are not defaults', () => {
    for (const [args, option] of [
      [['verify', 'x.h', '--ssh', ''], 'ssh'],
      [['verify', 'x.h', '--ssh', '   '], 'ssh'],
      [['endpoints', '--ssh', ''], 'ssh'],
      [['maps', '--target', ''], 'target'],
      [['cleanup', '--bpffs', ' '], 'bpffs'],
      [['explain', 'x.log', '--source', ''], 'source'],
      [['maps', '--dir', ''], 'dir'],
    ] as Array<[string[], string]>) {
      it(`${args[0]} --${option} ${JSON.stringify(args[args.length - 1])}`, () => {
        assertOneLine(cli(args), 2, new RegExp(`^cilium-custom: --${option} must not be empty \\(see cilium-custom ${args[0]} --help\\)$`));
      });
    }
  });

  describe('explain: input it must not read forever or print', () => {
    it('refuses /dev/zero at once (NUL bytes), under `timeout 5`', () => {
      const started = Date.now();
      const run = cli(['explain', '/dev/zero'], { timeout: 10_000 });
      assertOneLine(run, 1, 'cilium-custom: /dev/zero is not a text verifier log: it holds a NUL byte at offset 0');
      assert.ok(Date.now() - started < 5_000);
    });

    it('refuses binary junk instead of printing it as the error', () => {
      const junk = crypto.randomBytes(20_000).filter((b) => b !== 0);
      fs.writeFileSync(path.join(tmp.dir, 'junk.bin'), junk);
      assertOneLine(cli(['explain', 'junk.bin'], { cwd: tmp.dir }), 1, 'cilium-custom: junk.bin is not a text verifier log: most of its start is invalid UTF-8 or control bytes (binary?)');
      assertOneLine(cli(['explain', '-'], { input: Buffer.from('\xff\xfel\0o\0g\0', 'latin1') }), 1, /standard input is not a text verifier log: it is UTF-16/);
    });

    it('refuses a log over --max-bytes, from a file or a pipe; takes suffixes', () => {
      const log = path.join(tmp.dir, 'v.log');
      fs.writeFileSync(log, 'func#0 @0\n0: R1=ctx() R10=fp0\n'.repeat(1000));
      assertOneLine(cli(['explain', log, '--max-bytes', '1K']), 1, `cilium-custom: ${log} is larger than --max-bytes 1024; raise --max-bytes to explain it`);
      assertOneLine(cli(['explain', '-', '--max-bytes', '1000'], { input: fs.readFileSync(log) }), 1, /^cilium-custom: standard input is larger than --max-bytes 1000/);
      assert.equal(cli(['explain', log, '--max-bytes', '64KiB']).stderr, '');
    });

    it('says which file cannot be read in one line', () => {
      assertOneLine(cli(['explain', path.join(tmp.dir, 'missing.log')]), 1, `cilium-custom: cannot read ${path.join(tmp.dir, 'missing.log')}: no such file or directory`);
      assertOneLine(cli(['explain', tmp.dir]), 1, `cilium-custom: cannot read ${tmp.dir}: it is a directory`);
      assertOneLine(cli(['explain', 'x.log', '--source', path.join(tmp.dir, 'nope')]), 2, /--source ".*nope" is not a directory/);
    });

    for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      it(`ends at once on ${signal} while reading an endless pipe (exit ${status})`, async () => {
        const child = spawn(process.execPath, [CLI, 'explain', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, sig) => resolve([code, sig])));
        // Node itself catches SIGINT/SIGTERM from its start (to reset the terminal), so SigCgt proves nothing. Once
        // the CLI reads standard input its handlers are in place: a write four times the pipe's 64 KiB completes only then.
        await new Promise((resolve) => child.stdin.write('0: R1=ctx() R10=fp0\n'.repeat(13_000), resolve));
        const sent = Date.now();
        child.kill(signal);
        const [code, sig] = await exited;
        child.stdin.destroy();
        assert.deepEqual([code, sig], [status, null], stderr);
        assert.equal(stderr, `cilium-custom: interrupted (${signal})\n`);
        assert.ok(Date.now() - sent < 5_000);
      });
    }
  });

  describe('control characters from a log are escaped', () => {
    const hostile = '0: R1=ctx() R10=fp0\n\x1b[2Jinvalid mem access \x1b]0;pwned\x07 \u202escalar \u009b31m\x7f\r\nprocessed 5 insns (limit 1000000)\n';

    it('in the human output of explain', () => {
      fs.writeFileSync(path.join(tmp.dir, 'esc.log'), hostile);
      const run = cli(['explain', 'esc.log'], { cwd: tmp.dir });
      assert.equal(run.status, 0, run.stderr);
      assert.doesNotMatch(run.stdout, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
      assert.match(run.stdout, /error: \\x1b\[2Jinvalid mem access \\x1b\]0;pwned\\x07 \\u202escalar \\u009b31m\\u007f\n/);
    });

    it('and unchanged in JSON, which escapes them itself', () => {
      fs.writeFileSync(path.join(tmp.dir, 'esc.log'), hostile);
      const run = cli(['explain', 'esc.log', '--json'], { cwd: tmp.dir });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).error.message, '\x1b[2Jinvalid mem access \x1b]0;pwned\x07 \u202escalar \u009b31m\x7f');
      assert.doesNotMatch(run.stdout, /[\x7f-\x9f\u202e]/);
    });

    it('in error messages', () => {
      assertOneLine(cli(['\x1b[2Jfrob']), 2, 'cilium-custom: unknown command: \\x1b[2Jfrob (see cilium-custom --help)');
    });
  });

  describe('JSON figures', () => {
    it('stackDepth is a number (the sum over subprograms), and error.file absolute with --source', () => {
      fs.writeFileSync(path.join(tmp.dir, 'ok.log'), 'stack depth 0+8\nprocessed 5 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 0\n');
      const ok = cli(['explain', path.join(tmp.dir, 'ok.log'), '--json']);
      assert.equal(ok.status, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout).stats, { insnsProcessed: 5, insnLimit: 1000000, totalStates: 2, peakStates: 2, stackDepth: 8 });
      const log = 'func#0 @0\n0: R1=ctx() R10=fp0\n; int x = *p; @ prog.h:7\n1: (61) r0 = *(u32 *)(r2 +0)\nR2 invalid mem access \'scalar\'\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n';
      fs.writeFileSync(path.join(tmp.dir, 'bad.log'), log);
      const bad = JSON.parse(cli(['explain', path.join(tmp.dir, 'bad.log'), '--json', '--source', tmp.dir]).stdout);
      assert.equal(bad.error.file, header);
      assert.equal(JSON.parse(cli(['explain', path.join(tmp.dir, 'bad.log'), '--json']).stdout).error.file, 'prog.h');
    });
  });

  describe('standard output that cannot be written', () => {
    it('/dev/full: exit code 1 and a message on stderr', () => {
      fs.writeFileSync(path.join(tmp.dir, 'ok.log'), 'processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n');
      for (const args of [['--help'], ['--version'], ['explain', path.join(tmp.dir, 'ok.log')], ['explain', path.join(tmp.dir, 'ok.log'), '--json']]) {
        const full = fs.openSync('/dev/full', 'w');
        try {
          const run = cli(args, { stdio: ['ignore', full, 'pipe'] });
          assertOneLine(run, 1, /^cilium-custom: cannot write the output: ENOSPC: no space left on device/);
        } finally {
          fs.closeSync(full);
        }
      }
    });

    it('a closed pipe (| head) is no error: exit code 0, nothing on stderr', async () => {
      const child = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise((resolve) => child.on('exit', resolve));
      assert.deepEqual([code, stderr], [0, '']);
    });
  });

  describe('verify --log refuses to overwrite what the verify reads', () => {
    const cases: Array<[string, () => string, RegExp]> = [
      ['the header', () => header, /would overwrite the header/],
      ['the header, relative', () => 'prog.h', /would overwrite the header/],
      ['the object', () => path.join(tmp.dir, 'prog.o'), /would overwrite the object/],
      ['the landing program', () => path.join(SDK_DIR, 'bpf_custom.c'), /would overwrite the landing program/],
      ['the Makefile', () => path.join(SDK_DIR, 'Makefile'), /would overwrite a Makefile of the build/],
      ['a symbolic link to the header', () => (fs.symlinkSync(header, path.join(tmp.dir, 'link.log')), path.join(tmp.dir, 'link.log')), /would overwrite the header/],
      ['another source', () => path.join(SDK_DIR, 'include', 'x.h'), /named like a source, object or Makefile/],
    ];
    for (const [what, log, message] of cases) {
      it(what, () => {
        const before = fs.readFileSync(header);
        const run = cli(['verify', header, '--log', log()], { cwd: tmp.dir });
        assertOneLine(run, 2, message);
        assert.match(run.stderr, /\(see cilium-custom verify --help\)\n$/);
        assert.deepEqual(fs.readFileSync(header), before, 'the header is untouched');
        assert.ok(!fs.existsSync(path.join(SDK_DIR, 'include', 'x.h')));
      });
    }
  });

  describe('a second signal while the command cleans up', () => {
    it('is ignored with one warning; the first one cancels (a make that ignores SIGTERM)', async () => {
      // A make that ignores SIGINT and SIGTERM: the build's cancellation waits for its SIGKILL after a grace period.
      const bin = path.join(tmp.dir, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'make'), '#!/bin/sh\ntrap "" TERM INT\necho "fake make running" >&2\nsleep 6\nexit 2\n', { mode: 0o755 });
      const child = spawn(process.execPath, [CLI, 'build', header, '--verbose'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, sig) => resolve([code, sig])));
      await until(() => stderr.includes('fake make running'), 'make to start');
      child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGTERM');
      const [code, sig] = await exited;
      assert.equal(sig, null, `not killed by the second signal: ${stderr}`);
      assert.equal(code, 1, stderr);
      assert.equal(stderr.split('finishing the rollback').length, 2, `one warning: ${stderr}`);
      assert.match(stderr, /^cilium-custom: finishing the rollback \(or cleanup\) first; interrupting it could leave an endpoint half attached \(SIGKILL to force\)$/m);
      assert.match(stderr, /cancelled/);
    });
  });

  describe('commands that need root, run without it', () => {
    before(function () {
      requireOrSkip(this, isRoot() && hasCommand('setpriv'), 'switching to an unprivileged user needs root and setpriv');
    });

    const commands: Array<[string, (h: string) => string[]]> = [
      ['verify', (h) => ['verify', h]],
      ['attach', (h) => ['attach', h, '--endpoint', '4242', '--hook', 'ipv4-ingress']],
      ['detach', () => ['detach', '--endpoint', '4242', '--hook', 'ipv4-ingress']],
      ['endpoints', () => ['endpoints']],
      ['maps', () => ['maps']],
      ['cleanup', () => ['cleanup', '--dry-run']],
      ['sandbox', () => ['sandbox', 'up']],
      ['sandbox', () => ['sandbox', 'traffic']],
      ['sandbox', () => ['sandbox', 'down']],
    ];
    for (const [command, args] of commands) {
      it(`${args('prog.h').join(' ')} says it needs root and exits with 1`, () => {
        const run = cliAs(NOBODY, args(header));
        assertOneLine(run, 1, new RegExp(`^cilium-custom ${command}( \\w+)? needs root \\(or CAP_BPF and CAP_NET_ADMIN\\)$`));
        assert.ok(!fs.existsSync(path.join(tmp.dir, 'prog.o')), 'nothing was built');
      });
    }

    it('root without CAP_BPF and CAP_SYS_ADMIN is refused the same way', () => {
      assertOneLine(cliAs(['--bounding-set=-bpf,-sys_admin'], ['endpoints']), 1, 'cilium-custom endpoints needs root (or CAP_BPF and CAP_NET_ADMIN)');
      assertOneLine(cliAs(['--bounding-set=-net_admin'], ['cleanup', '--dry-run']), 1, 'cilium-custom cleanup needs root (or CAP_BPF and CAP_NET_ADMIN)');
    });

    it('usage errors still come first (exit 2), and explain needs no privilege', () => {
      assertOneLine(cliAs(NOBODY, ['maps', '--limit', '0']), 2, /--limit must be/);
      fs.writeFileSync(path.join(tmp.dir, 'ok.log'), 'processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n', { mode: 0o644 });
      const run = cliAs(NOBODY, ['explain', path.join(tmp.dir, 'ok.log')]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /accepted by the verifier/);
    });
  });

  describe('maps --dir that does not exist', () => {
    before(function () {
      requireOrSkip(this, hasBpfPrivilege(), 'maps runs on this machine only with root (or CAP_BPF and CAP_NET_ADMIN)');
    });

    it('is an error: exit code 1 and a message', () => {
      const missing = path.join(tmp.dir, 'no-such-dir');
      assertOneLine(cli(['maps', '--dir', missing]), 1, `cilium-custom: ${missing} does not exist on local`);
      const json = cli(['maps', '--dir', missing, '--json']);
      assert.equal(json.status, 1);
      assert.deepEqual(JSON.parse(json.stdout).missingDirs, [missing]);
    });

    it('a relative --dir is bad usage', () => {
      assertOneLine(cli(['maps', '--dir', 'tc/globals']), 2, /--dir "tc\/globals" must be an absolute path/);
    });
  });
});
