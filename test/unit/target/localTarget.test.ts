import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { succeeded } from '../../../src/core/process';
import { createTarget, describeTargetFailure, LocalTarget } from '../../../src/core/target';

describe('LocalTarget', () => {
  let target: LocalTarget;
  const leftovers: string[] = [];
  beforeEach(() => (target = new LocalTarget()));
  afterEach(async () => {
    await target.dispose();
    for (const dir of leftovers.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs an argv as it is', async () => {
    const result = await target.run(['printf', '%s|', 'a b', "it's", '$(x)']);
    assert.ok(succeeded(result));
    assert.equal(result.stdout, "a b|it's|$(x)|");
  });

  it('passes input and reports failures', async () => {
    const result = await target.run(['cat'], { input: Buffer.from('bytes\0in') });
    assert.equal(result.stdout, 'bytes\0in');
    const missing = await target.run(['/nonexistent/tool']);
    assert.match(describeTargetFailure(target, missing), /not installed/);
    const nul = await target.run(['echo', 'a\0b']);
    assert.match(target.describeFailure(nul), /NUL byte/);
  });

  it('prefixes sudo -n only for privileged runs, only when configured, and never as root', () => {
    const sudo = new LocalTarget({ sudo: true });
    const asRoot = process.getuid?.() === 0;
    assert.deepEqual(sudo.commandFor(['bpftool', 'prog'], true), asRoot ? ['bpftool', 'prog'] : ['sudo', '-n', '--', 'bpftool', 'prog']);
    assert.deepEqual(sudo.commandFor(['bpftool', 'prog'], false), ['bpftool', 'prog']);
    assert.deepEqual(target.commandFor(['bpftool', 'prog'], true), ['bpftool', 'prog']);
  });

  it('is what createTarget builds for kind local', () => {
    const local = createTarget({ kind: 'local', bpftool: '/usr/sbin/bpftool', bpffsRoot: '/mnt/bpf' });
    assert.equal(local.name, 'local');
    assert.equal(local.isRemote, false);
    assert.equal(local.bpftool, '/usr/sbin/bpftool');
    assert.equal(local.bpffsRoot, '/mnt/bpf');
  });
});
