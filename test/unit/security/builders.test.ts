// Every command builder against one table of hostile strings: the value is either refused with a clear error before
// it can reach an argv, or it arrives as exactly one intact argv element (nothing split, joined or added).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BuildInputError, buildMakeArgs, makeVariable } from '../../../src/core/build/makeArgs';
import type { MakeDirectory } from '../../../src/core/build/makeDirectory';
import { parseEndpointId, parseHook, parseHooks, parsePinName, parsePinPrefix, sanitizePinName, callsMapPath, ValidationError } from '../../../src/core/ids';
import { isValidIfName, isValidNetnsName, SandboxError, sandboxCommands, sandboxNames, validateCount, validateEndpointId, validateIdentity, validateReturnCode } from '../../../src/core/sandbox/names';
import { createTarget, SshTarget } from '../../../src/core/target';
import { shellQuote } from '../../../src/core/target/shellQuote';
import { checkDestination, parseSshSpec } from '../../../src/core/target/sshSpec';
import { cliFlagsForTarget, targetConfigFromSetting } from '../../../src/core/target/targetSettings';
import { TARGET_OPTIONS } from '../../../src/cli/targetArgs';
import { hostileInputs, type HostileInput } from './hostileInputs';

const TABLE = hostileInputs('/tmp/ccp-never-created');
const sdk: MakeDirectory = { dir: '/opt/ext/bpf', source: 'bundled-sdk', ciliumTree: false };
const cilium: MakeDirectory = { dir: '/src/cilium/bpf/custom', source: 'header-folder', ciliumTree: true };
const short = (h: HostileInput) => `${h.label} ${JSON.stringify(h.value.slice(0, 40))}`;

/** What make sees after its own `$$` -> `$` unescaping of a command-line variable value. */
const unmake = (value: string) => value.replace(/\$\$/g, '$');

/** A clear error: an Error of the expected class whose message names the problem (not a TypeError or similar). */
function assertRefused(fn: () => unknown, cls: new (...a: never[]) => Error, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof cls && e.message.length > 10 && !/undefined|\[object/.test(e.message), what);
}

describe('security: every command builder against the hostile table', () => {
  it('the table covers every class the brief names', () => {
    const labels = TABLE.map((h) => h.label);
    for (const l of ['NUL', 'very long', 'empty', 'spaces only', 'percent tokens', 'RTL override', 'emoji', 'combining', 'glob', 'newline', 'CR', 'tab', 'leading dash', 'leading double dash', 'dot-dot path', 'backticks', '$() substitution', 'semicolon', 'pipe', 'and-and']) {
      assert.ok(labels.includes(l), l);
    }
    assert.equal(TABLE.find((h) => h.label === 'very long')!.value.length, 100 * 1024);
  });

  describe('make argv (buildMakeArgs, makeVariable)', () => {
    for (const h of TABLE) {
      it(`header directory and file name: ${short(h)}`, () => {
        for (const headerPath of [`/home/u/${h.value}/prog.h`, `/home/u/p/${h.value}.h`]) {
          let inv;
          try {
            inv = buildMakeArgs({ make: 'make', makeDir: sdk, headerPath, goAvailable: true });
          } catch (e) {
            assert.ok(e instanceof BuildInputError, String(e));
            assert.ok(h.nul || h.newline, `refused only for NUL/newline, got: ${(e as Error).message}`);
            continue;
          }
          assert.ok(!h.nul && !h.newline, 'NUL and newlines must be refused');
          assert.equal(inv.argv.length, 6, 'nothing added');
          assert.deepEqual(inv.argv.slice(0, 4), ['make', '-B', '-C', sdk.dir]);
          const file = inv.argv[4];
          assert.ok(file.startsWith('BPF_CUSTOM_PROG_FILE='));
          assert.equal(unmake(file.slice('BPF_CUSTOM_PROG_FILE='.length)), path.resolve(headerPath), 'make sees the exact path');
          assert.match(inv.argv[5], /^BPF_CUSTOM_PROG_NAME=[A-Za-z0-9_.-]+$/, 'the section name is always plain');
        }
      });

      it(`Cilium tree refuses what its Makefile would put unquoted into a shell: ${short(h)}`, () => {
        const headerPath = `/src/cilium/bpf/custom/${h.value}.h`;
        let inv;
        try {
          inv = buildMakeArgs({ make: 'make', makeDir: cilium, headerPath, goAvailable: true });
        } catch (e) {
          assert.ok(e instanceof BuildInputError, String(e));
          return;
        }
        const value = inv.argv.find((a) => a.startsWith('BPF_CUSTOM_PROG_FILE='))!.slice('BPF_CUSTOM_PROG_FILE='.length);
        assert.match(value, /^[A-Za-z0-9._+/-]+$/, 'only shell-inert names reach the Cilium Makefile');
      });

      it(`make directory, section name and extra variables: ${short(h)}`, () => {
        // The make directory is its own argv element after -C (getopt takes it whatever it starts with).
        const dir = `/opt/${h.value}`;
        const inv = buildMakeArgs({ make: 'make', makeDir: { ...sdk, dir }, headerPath: '/h/prog.h', goAvailable: true });
        assert.deepEqual(inv.argv.slice(2, 4), ['-C', dir]);
        assert.equal(inv.argv.length, 6);
        // Section names: only [A-Za-z0-9_.-]+.
        if (/^[A-Za-z0-9_.-]+$/.test(h.value)) {
          assert.equal(buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: '/h/p.h', progName: h.value, goAvailable: true }).argv[5], `BPF_CUSTOM_PROG_NAME=${h.value}`);
        } else {
          assertRefused(() => buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: '/h/p.h', progName: h.value, goAvailable: true }), BuildInputError, 'section name');
        }
        // Variable names are identifiers only; values are one element with $ doubled, or refused for NUL/newlines.
        assertRefused(() => makeVariable(h.value, 'x'), BuildInputError, 'variable name');
        if (h.nul || h.newline) {
          assertRefused(() => makeVariable('EXTRA', h.value), BuildInputError, 'variable value');
        } else {
          const inv2 = buildMakeArgs({ make: 'make', makeDir: sdk, headerPath: '/h/p.h', goAvailable: true, extraVariables: { EXTRA: h.value } });
          assert.equal(inv2.argv.length, 7);
          assert.equal(unmake(inv2.argv[6].slice('EXTRA='.length)), h.value);
        }
      });
    }

    it('make itself reads a doubled-$ variable back as the original, running nothing', function () {
      try {
        execFileSync('make', ['--version'], { stdio: 'ignore' });
      } catch {
        this.skip();
      }
      for (const h of TABLE) {
        if (h.nul || h.newline || h.label === 'very long') continue;
        // Values are absolute paths in practice (make strips a value's leading blanks).
        const value = `/p/${h.value}`;
        const out = execFileSync('make', ['-s', '-f', '-', makeVariable('V', value)], {
          input: 'all:\n\t@printf "%s" "$$V"\nexport V\n',
          encoding: 'utf8',
        });
        assert.equal(out, value, h.label);
      }
    });
  });

  describe('shellQuote and the SSH remote command string', () => {
    const target = new SshTarget({ name: 'n', destination: 'root@node1', sudo: true });
    for (const h of TABLE) {
      it(`one intact word through sh: ${short(h)}`, () => {
        if (h.nul) {
          assert.throws(() => shellQuote(['printf', h.value]), /NUL byte/);
          assert.throws(() => target.remoteCommand(['printf', h.value]), /NUL byte/);
          return;
        }
        for (const privileged of [false, true]) {
          const remote = target.remoteCommand(['printf', '%s\\0', h.value, 'end'], privileged);
          // Locally there is no sudo: a privileged command runs `sudo -n --`; put a stand-in on PATH-free sh.
          const script = privileged ? `sudo() { shift 2; "$@"; }; ${remote.replace(/exec /, '')}` : remote;
          const out = execFileSync('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
          assert.deepEqual(out, Buffer.from(`${h.value}\0end\0`), `${h.label} privileged=${privileged}`);
        }
      });
    }

    it('an argv[0] that starts with "-" is not taken for an option of exec (bash)', function () {
      // Every remote command ends in `exec <argv...>`. bash's exec takes options (-a NAME, -c, -l): a program path that
      // starts with '-' (e.g. a bpftool setting of "-a") would change what runs.
      const target2 = new SshTarget({ name: 'n', destination: 'root@node1' });
      let remote: string;
      try {
        remote = target2.remoteCommand(['-a', 'x', 'echo', 'INJECTED']);
      } catch (error) {
        assert.match(String(error), /starts with '-'/);
        return;
      }
      let out = '';
      try {
        out = execFileSync('bash', ['-c', remote], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        /* refusing to run is fine */
      }
      assert.doesNotMatch(out, /INJECTED/, `bash ran: ${remote}`);
    });
  });

  describe('SSH destinations (checkDestination, parseSshSpec, SshTarget)', () => {
    // Users: nothing a shell or ssh_config reads specially (ProxyCommand puts %r into a shell command); hosts: plain.
    const SAFE = /^([^\s\x00-\x1f\x7f'"`$;&|<>(){}[\]*?!\\#~]+@)?[A-Za-z0-9_.%:-]+$/u;
    const extra = ['-oProxyCommand=touch /tmp/x', 'host;id', '%h', 'a@b@-c', 'user@-oProxyCommand=x', 'host -p 1', 'ho\nst', '`id`@host', '$(id)@host', 'u@host|id', "u'@host", '[::1]:22;id'];
    for (const value of [...TABLE.map((h) => h.value), ...extra]) {
      it(`destination ${JSON.stringify(value.slice(0, 40))}`, () => {
        for (const destination of [value, `root@${value}`, `${value}@node1`]) {
          const problem = checkDestination(destination);
          if (problem === undefined) {
            assert.match(destination, SAFE, 'accepted destinations are plain words');
            assert.ok(!destination.startsWith('-'));
            const t = createTarget({ kind: 'ssh', name: 'x', destination }) as SshTarget;
            assert.equal(t.destination, destination);
          } else {
            assert.ok(problem.length > 10);
            assert.throws(() => createTarget({ kind: 'ssh', name: 'x', destination }), /SSH/);
          }
          let spec;
          try {
            spec = parseSshSpec(destination);
          } catch (e) {
            assert.match((e as Error).message, /^--ssh /);
            continue;
          }
          assert.match(spec.destination, SAFE);
        }
      });
    }
  });

  describe('targetConfigFromSetting and cliFlagsForTarget', () => {
    for (const h of TABLE) {
      it(`target fields: ${short(h)}`, () => {
        // The name is only shown: any non-blank string is kept as it is.
        if (h.value.trim() === '') assert.throws(() => targetConfigFromSetting({ name: h.value }), /non-empty "name"/);
        else assert.equal((targetConfigFromSetting({ name: h.value, host: 'node1' }) as { name: string }).name, h.value);
        // Hosts: refused unless plain.
        try {
          const c = targetConfigFromSetting({ name: 'n', host: h.value });
          if (h.value !== '') assert.match((c as { destination: string }).destination, /^[A-Za-z0-9_.%:@-]+$/);
        } catch (e) {
          assert.match((e as Error).message, /--ssh|SSH/);
        }
        // sshOptions: refused with control characters, blank or leading '-'; otherwise one `-o` value as it is.
        const option = `User=${h.value}`;
        try {
          const c = targetConfigFromSetting({ name: 'n', host: 'node1', sshOptions: [option, h.value] });
          createTarget(c);
          assert.ok(!/[\x00-\x1f\x7f]/.test(h.value) && h.value.trim() !== '' && !h.value.startsWith('-'));
          assert.deepEqual((c as { extraOptions: string[] }).extraOptions, [option, h.value]);
        } catch (e) {
          assert.match((e as Error).message, /SSH option/);
        }
        // bpftool path: kept as one string (it is argv[0] of every bpftool run).
        if (h.value !== '') assert.equal(targetConfigFromSetting({ name: 'n', host: 'node1', bpftool: h.value }).bpftool, h.value);
      });

      it(`cliFlagsForTarget round-trips through the CLI's own option parser: ${short(h)}`, () => {
        if (h.value === '' || h.nul) return;
        const settings = [
          { name: 'n', host: 'node1', bpftool: h.value },
          { name: 'n', host: 'node1', identityFile: h.value },
          { name: 'n', host: 'node1', sshOptions: [h.value, `User=${h.value}`] },
          { name: 'n', host: 'node1', bpffsRoot: `/${h.value}` },
        ];
        for (const setting of settings) {
          const flags = cliFlagsForTarget(setting);
          const parsed = parseArgs({ args: flags, options: TARGET_OPTIONS, allowPositionals: true, strict: true });
          assert.deepEqual(parsed.positionals, [], `nothing left over: ${JSON.stringify(flags).slice(0, 200)}`);
          const v = parsed.values as Record<string, unknown>;
          assert.equal(v.ssh, 'node1');
          if (setting.bpftool) assert.equal(v.bpftool, setting.bpftool);
          if (setting.identityFile) assert.equal(v.identity, setting.identityFile);
          if (setting.sshOptions) assert.deepEqual(v['ssh-option'], setting.sshOptions);
          if (setting.bpffsRoot) assert.equal(v.bpffs, setting.bpffsRoot);
        }
      });
    }
  });

  describe('endpoint ids, hooks, pin names and prefixes (refused before any command)', () => {
    for (const h of TABLE) {
      it(`${short(h)}`, () => {
        assertRefused(() => parseEndpointId(h.value), ValidationError, 'endpoint id');
        if (h.value !== '') assertRefused(() => parseEndpointId(`1${h.value}`), ValidationError, 'endpoint id with suffix');
        assertRefused(() => parseHook(h.value), ValidationError, 'hook');
        if (h.value !== "") assertRefused(() => parseHook(`ipv4-ingress${h.value}`), ValidationError, "hook with suffix");
        assertRefused(() => parseHooks(['ipv4-ingress', h.value]), ValidationError, 'hooks');
        assertRefused(() => callsMapPath('/sys/fs/bpf', h.value as unknown as number), ValidationError, 'calls map path');
        const PIN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
        if (PIN.test(h.value)) assert.equal(parsePinName(h.value), h.value);
        else assertRefused(() => parsePinName(h.value), ValidationError, 'pin name');
        // Names derived from files always pass the explicit check.
        for (const file of [h.value, `${h.value}.h`, `/x/${h.value}.o`, `-${h.value}`, `.${h.value}`]) {
          const name = sanitizePinName(file);
          assert.equal(parsePinName(name), name, `sanitizePinName(${JSON.stringify(file.slice(0, 40))}) = ${name}`);
        }
        const prefix = `/sys/fs/bpf/${h.value}`;
        try {
          const parsed = parsePinPrefix(prefix);
          assert.ok(!/[\s\x00-\x1f\x7f]/.test(parsed) && !/(^|\/)\.\.(\/|$)/.test(parsed));
          assert.ok(parsed === prefix || parsed === prefix.replace(/\/+$/, ''));
        } catch (e) {
          assert.ok(e instanceof ValidationError);
        }
        assertRefused(() => parsePinPrefix(h.value.startsWith('/') ? `${h.value}/../x` : h.value), ValidationError, 'relative prefix');
      });
    }
  });

  describe('sandbox names', () => {
    for (const h of TABLE) {
      it(`${short(h)}`, () => {
        for (const fn of [validateEndpointId, validateIdentity, validateReturnCode, (v: unknown) => validateCount(v, 'count', 1, 100)]) {
          assertRefused(() => fn(h.value), SandboxError, 'sandbox number');
        }
        assertRefused(() => sandboxNames(h.value as unknown as number), SandboxError, 'sandbox endpoint');
        if (isValidNetnsName(h.value)) assert.match(h.value, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
        if (isValidIfName(h.value)) assert.ok(!/[/:\s]/.test(h.value) && Buffer.byteLength(h.value) <= 15);
        // Tool paths are one argv element each, whatever they hold.
        const cmds = sandboxCommands(sandboxNames(4242), { bpftool: h.value, ip: h.value, tc: h.value, clang: h.value });
        assert.equal(cmds.createCallsMap()[0], h.value);
        assert.equal(cmds.addNetns()[0], h.value);
        assert.equal(cmds.addClsact()[0], h.value);
        const compile = cmds.compileMock(h.value, h.value, h.value);
        assert.deepEqual(compile.filter((a) => a === h.value).length, 3);
        assert.equal(compile.length, 10);
      });
    }
  });
});
