// Leftovers on a real kernel: our program left in no slot and a dead verify's pins are found and removed; what is
// not ours (a foreign pin, a fresh verify's pins) is never touched.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attach } from '../../src/core/attach/attach';
import { findOrphans, removeOrphans } from '../../src/core/attach/orphans';
import { LocalTarget } from '../../src/core/target';
import { bpftool, createCallsMap, freeEndpointId } from './helpers/callsMap';
import { copyInto, SDK_DIR, tempDir } from './helpers/fixtures';
import { listBpffs } from './helpers/pins';
import { requireBpf } from './helpers/require';

const BPFFS = '/sys/fs/bpf';

describe('leftover programs and pins (real kernel)', function () {
  this.timeout(60_000);
  const cleanups: (() => void)[] = [];
  let before: string[];

  beforeEach(async function () {
    requireBpf(this);
    before = listBpffs();
  });

  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it('finds our program once its slot is emptied by hand, removes it, and leaves the rest as it was', async () => {
    const target = new LocalTarget();
    const id = freeEndpointId();
    cleanups.push(createCallsMap(id));
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const header = copyInto(path.join(SDK_DIR, 'examples', 'bytecount.h'), tmp.dir);
    const pinName = `orphan-test-${process.pid}`;
    const record = await attach({ target, input: header, endpointId: id, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR, pinName });
    cleanups.push(() => fs.rmSync(record.pinDir, { recursive: true, force: true }));
    // A foreign pin next to ours, and an old and a fresh temporary verify directory.
    const foreign = path.join(BPFFS, `orphan-test-foreign-${process.pid}`);
    fs.mkdirSync(foreign);
    cleanups.push(() => fs.rmSync(foreign, { recursive: true, force: true }));
    const deadVerify = path.join(BPFFS, `cilium-custom-verify-999999-${process.pid.toString(16)}a`);
    const freshVerify = path.join(BPFFS, `cilium-custom-verify-999998-${process.pid.toString(16)}b`);
    for (const dir of [deadVerify, freshVerify]) {
      fs.mkdirSync(dir);
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    }
    execFileSync('touch', ['-d', '30 minutes ago', deadVerify]);

    assert.ok(!(await findOrphans(target)).some((o) => o.path === record.pinDir), 'an attached program is not a leftover');
    bpftool('map', 'delete', 'pinned', `${BPFFS}/tc/globals/cilium_calls_custom_${String(id).padStart(5, '0')}`, 'key', '0', '0', '0', '0');

    const orphans = await findOrphans(target);
    const paths = orphans.map((o) => o.path);
    assert.ok(paths.includes(record.pinDir), `our unreferenced program is found: ${paths.join(', ')}`);
    assert.ok(paths.includes(deadVerify), 'the dead verify is found');
    assert.ok(!paths.includes(freshVerify), 'a fresh verify may still be running');
    assert.ok(!paths.includes(foreign), 'a foreign pin is not ours');

    const mine = orphans.filter((o) => o.path === record.pinDir || o.path === deadVerify);
    assert.deepEqual(await removeOrphans(target, mine), []);
    assert.ok(!fs.existsSync(record.pinDir) && !fs.existsSync(deadVerify));
    assert.ok(fs.existsSync(foreign) && fs.existsSync(freshVerify));
  });

  it('refuses to remove a path that is not one of ours', async () => {
    const failures = await removeOrphans(new LocalTarget(), [{ kind: 'program', path: `${BPFFS}/tc/globals`, detail: 'forged' }]);
    assert.match(failures[0] ?? '', /not one of ours/);
    if (before.includes(`${BPFFS}/tc/globals`)) assert.ok(fs.existsSync(`${BPFFS}/tc/globals`), 'tc/globals is untouched');
    // Temporary verify directories only by their exact names, on the bpffs or in /tmp: never a path that climbs out.
    const forged = [
      { kind: 'verify-upload' as const, path: '/etc', detail: 'forged' },
      { kind: 'verify-upload' as const, path: '/tmp/cilium-custom-verify-1/../../etc', detail: 'forged' },
      { kind: 'verify-upload' as const, path: `${BPFFS}/cilium-custom-verify-1-a`, detail: 'forged' },
      { kind: 'verify-pins' as const, path: '/tmp/cilium-custom-verify-1-a', detail: 'forged' },
    ];
    const refused = await removeOrphans(new LocalTarget(), forged);
    assert.equal(refused.length, forged.length, refused.join('\n'));
    for (const failure of refused) assert.match(failure, /not one of ours/);
    assert.ok(fs.existsSync('/etc/passwd'));
  });

  afterEach(() => {
    const after = listBpffs();
    assert.deepEqual(after.filter((p) => !before.includes(p)), [], 'the bpffs is as before');
  });
});
