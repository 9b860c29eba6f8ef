import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runProcess } from '../../../src/core/process';
import { shellQuote } from '../../../src/core/target/shellQuote';
import { hostileStrings, longHostile } from './hostile';

function hasShell(name: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('shellQuote', () => {
  it('quotes by the documented rule', () => {
    const table: Array<[string[], string]> = [
      [['ls'], "'ls'"],
      [['bpftool', 'prog', 'show'], "'bpftool' prog show"],
      [['echo', ''], "'echo' ''"],
      [['echo', 'a b'], "'echo' 'a b'"],
      [['echo', "it's"], "'echo' 'it'\\''s'"],
      [['echo', "'"], "'echo' ''\\'''"],
      [['echo', '-n', '--', '/sys/fs/bpf/tc/globals/cilium_calls_custom_00042'], "'echo' -n -- /sys/fs/bpf/tc/globals/cilium_calls_custom_00042"],
      [['echo', 'a=b', '~', '*', '$x', 'a\nb'], "'echo' 'a=b' '~' '*' '$x' 'a\nb'"],
      [['echo', 'key', '0', '0', '0', '0', 'value', 'pinned', 'p@x:1,2+%'], "'echo' key 0 0 0 0 value pinned p@x:1,2+%"],
      [['time'], "'time'"],
      [['FOO=1'], "'FOO=1'"],
      [[], ''],
    ];
    for (const [argv, expected] of table) assert.equal(shellQuote(argv), expected, JSON.stringify(argv));
  });

  it('rejects NUL bytes with a clear error', () => {
    assert.throws(() => shellQuote(['echo', 'ok', 'a\0b']), /argument 2 contains a NUL byte/);
  });

  describe('round trip through real shells', () => {
    const marker = path.join(os.tmpdir(), `ccp-marker-${crypto.randomBytes(6).toString('hex')}`);
    const strings = [...hostileStrings(marker), longHostile(marker, 100_000)];
    afterEach(() => fs.rmSync(marker, { force: true }));

    for (const shell of ['sh', 'bash', 'dash', 'zsh', 'busybox']) {
      describe(shell, () => {
        before(function () {
          if (!hasShell(shell)) this.skip();
        });

        const argvFor = (script: string) => (shell === 'busybox' ? ['busybox', 'sh', '-c', script] : [shell, '-c', script]);

        it('passes each hostile string as exactly one argument, byte for byte', async () => {
          for (const arg of strings) {
            const result = await runProcess(argvFor(shellQuote(['printf', '%s\\0', arg])));
            assert.equal(result.exitCode, 0, `${JSON.stringify(arg.slice(0, 80))}: ${result.stderr}`);
            assert.deepEqual(Buffer.from(result.stdout), Buffer.from(`${arg}\0`), JSON.stringify(arg.slice(0, 80)));
            assert.equal(fs.existsSync(marker), false, `marker created by ${JSON.stringify(arg.slice(0, 80))}`);
          }
        });

        it('passes all of them in one command line, in order', async () => {
          const result = await runProcess(argvFor(shellQuote(['printf', '%s\\0', ...strings])));
          assert.equal(result.exitCode, 0, result.stderr);
          assert.deepEqual(result.stdout.split('\0').slice(0, -1), strings);
          assert.equal(fs.existsSync(marker), false);
        });

        it('does not take a quoted first word for a keyword or an assignment', async () => {
          const result = await runProcess(argvFor(`${shellQuote(['if'])} 2>&1; echo "rc=$?"`));
          // `if` as a program name: not found (127), instead of a syntax error from the keyword.
          assert.match(result.stdout, /rc=127/);
          const assignment = await runProcess(argvFor(`${shellQuote(['FOO=1'])} 2>&1; echo "rc=$?"`));
          assert.match(assignment.stdout, /rc=127/);
        });
      });
    }
  });
});
