// attach / detach / endpoint discovery on the real kernel. The tests create the cilium_calls_custom_<id> maps
// themselves (there is no Cilium here) under high endpoint ids, and check that every failure leaves the bpffs as
// it was, and that detach removes exactly what attach created.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attach, detach, type AttachRecord } from '../../src/core/attach/attach';
import { discoverEndpoints } from '../../src/core/endpoints/discover';
import { callsMapPath, ValidationError } from '../../src/core/ids';
import { CustomCallsProblem } from '../../src/core/problem';
import { setSlot } from '../../src/core/endpoints/slots';
import type { RunResult } from '../../src/core/process';
import { LocalTarget, SshTarget } from '../../src/core/target';
import type { Target, TargetRunOptions } from '../../src/core/target/target';
import { bpftool, createCallsMap, freeEndpointId, ourBpffsView } from './helpers/callsMap';
import { copyInto, HEADER_FIXTURES, SDK_DIR, tempDir } from './helpers/fixtures';
import { bpfIds, RecordingTarget, waitFor } from './helpers/pins';
import { rejectionOf } from './helpers/rejection';
import { hasCommand, isRoot, requireBpf, requireOrSkip } from './helpers/require';
import { sshdAvailable, sshTargetConfig, startSshd, type Sshd } from './helpers/sshd';

const BPFFS = '/sys/fs/bpf';
const BYTECOUNT = path.join(SDK_DIR, 'examples', 'bytecount.h');

/** slot -> program id, read with bpftool directly (not through the code under test). */
function slots(id: number): Map<number, number> {
  const dump = JSON.parse(bpftool('-j', 'map', 'dump', 'pinned', callsMapPath(BPFFS, id))) as { key: string[]; value: string[] }[];
  return new Map(dump.map((e) => [parseInt(e.key[0], 16), e.value.reduce((n, b, i) => n + parseInt(b, 16) * 256 ** i, 0)]));
}

/** The bpffs paths this suite may touch: our pin prefix, tc/globals and this test's calls maps. */
const ourView = ourBpffsView;

const problemOf = (pending: Promise<unknown>) => rejectionOf(pending, CustomCallsProblem);

/** Runs everything through `inner`, but fails the first run whose argv satisfies `fail` (without running it). */
class FailingTarget extends RecordingTarget {
  injected = 0;
  constructor(
    inner: Target,
    private readonly fail: (argv: readonly string[]) => boolean,
  ) {
    super(inner);
  }
  override async run(argv: readonly string[], options: TargetRunOptions = {}): Promise<RunResult> {
    if (this.injected === 0 && this.fail(argv)) {
      this.injected++;
      return { argv, exitCode: 255, signal: null, stdout: '{"error":"injected failure"}', stderr: '', durationMs: 0, cancelled: false, timedOut: false };
    }
    return super.run(argv, options);
  }
}

const isSlotUpdate = (key: string) => (argv: readonly string[]) => argv.includes('update') && argv[argv.indexOf('key') + 1] === key;

describe('attach and detach (system, real kernel)', function () {
  let tmp: ReturnType<typeof tempDir>;
  let header: string;
  /** The same program under another header name: another program for the same endpoint. */
  let other: string;
  let target: Target;
  let endpoint: number;
  const cleanups: (() => void)[] = [];
  let baseline: string[];

  before(function () {
    requireBpf(this);
  });

  beforeEach(() => {
    tmp = tempDir('cilium-custom-attach-');
    header = copyInto(BYTECOUNT, tmp.dir);
    other = copyInto(BYTECOUNT, tmp.dir, 'other.h');
    target = new LocalTarget();
    endpoint = freeEndpointId();
    cleanups.push(createCallsMap(endpoint));
    baseline = ourView([endpoint]);
  });

  afterEach(async () => {
    // Whatever happened, nothing of ours stays: slots, pins, calls maps.
    for (const key of [0, 1, 2, 3]) {
      try {
        bpftool('map', 'delete', 'pinned', callsMapPath(BPFFS, endpoint), 'key', String(key), '0', '0', '0');
      } catch {
        // Empty.
      }
    }
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    for (const dir of fs.existsSync(`${BPFFS}/cilium-custom`) ? fs.readdirSync(`${BPFFS}/cilium-custom`) : []) {
      if (dir.startsWith('bytecount') || dir.startsWith('other')) fs.rmSync(`${BPFFS}/cilium-custom/${dir}`, { recursive: true, force: true });
    }
    try {
      fs.rmdirSync(`${BPFFS}/cilium-custom`); // Only when empty, as detach leaves it.
    } catch {
      // Absent, or in use.
    }
    await target.dispose();
    tmp.remove();
  });

  const attachBytecount = (hooks: string[], extra: Partial<Parameters<typeof attach>[0]> = {}) =>
    attach({ target, input: header, endpointId: endpoint, hooks, bundledSdkDir: SDK_DIR, ...extra });
  const attachOther = (hooks: string[], extra: Partial<Parameters<typeof attach>[0]> = {}) =>
    attach({ target, input: other, endpointId: endpoint, hooks, bundledSdkDir: SDK_DIR, ...extra });

  it('attaches to ipv4-ingress and ipv4-egress in one action, reads the slots back, and detach restores the bpffs exactly', async () => {
    const record = await attachBytecount(['ipv4-ingress', 'ipv4-egress']);
    assert.equal(record.prog.type, 'sched_cls');
    assert.equal(record.endpointId, endpoint);
    assert.deepEqual(record.hooks.map((h) => [h.hook, h.key, h.previousProgId]), [['ipv4-ingress', 0, null], ['ipv4-egress', 1, null]]);
    assert.deepEqual([...slots(endpoint)].sort(), [[0, record.prog.id], [1, record.prog.id]]);
    // Named after the header; -N when a bytecount of someone else's is pinned on this machine already.
    assert.match(record.pinDir, new RegExp(`^${BPFFS}/cilium-custom/bytecount(-\\d+)?$`));
    assert.ok(fs.existsSync(record.progPin));
    assert.deepEqual(record.maps, ['bytecount_map']);

    const result = await detach({ target, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv4-egress'] });
    assert.deepEqual(result.hooks.map((h) => [h.hook, h.progId, h.ours]), [['ipv4-ingress', record.prog.id, 'bytecount'], ['ipv4-egress', record.prog.id, 'bytecount']]);
    assert.deepEqual(result.removedPins, [record.pinDir]);
    assert.equal(slots(endpoint).size, 0);
    assert.deepEqual(ourView([endpoint]), baseline);
    assert.ok(await waitFor(() => !bpfIds().progs.has(record.prog.id), 5000), 'the program is freed after detach');
  });

  it('a program the verifier rejects: located, no pin, no prefix made, no slot changed', async () => {
    const rejectedHeader = copyInto(path.join(HEADER_FIXTURES, 'null_deref.h'), tmp.dir);
    const prefix = `${BPFFS}/cilium-custom-attach-test-${process.pid}`;
    const problem = await problemOf(attach({ target, input: rejectedHeader, endpointId: endpoint, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR, pinPrefix: prefix }));
    assert.equal(problem.kind, 'verifier-rejected', problem.full);
    assert.match(problem.message, new RegExp(`nothing was attached: ${rejectedHeader.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `));
    assert.deepEqual(problem.rollbackFailures, []);
    assert.ok(!fs.existsSync(prefix), 'the pin prefix made for the load is gone');
    assert.equal(slots(endpoint).size, 0);
    assert.deepEqual(ourView([endpoint]), baseline);
  });

  it('refuses an occupied slot without replace, naming the program, and changes nothing', async () => {
    const first = await attachOther(['ipv4-ingress']);
    const view = ourView([endpoint]);
    const problem = await problemOf(attachBytecount(['ipv4-egress', 'ipv4-ingress']));
    assert.equal(problem.kind, 'slot-occupied');
    assert.match(problem.message, new RegExp(`ipv4-ingress holds program ${first.prog.id} \\(custom_hook, sched_cls\\)`));
    assert.match(problem.full, /--replace/);
    assert.deepEqual([...slots(endpoint)], [[0, first.prog.id]]);
    assert.deepEqual(ourView([endpoint]), view);
  });

  it('replaces with replace: our replaced program stays while used elsewhere and goes when not; a foreign pin is left alone', async () => {
    const first = await attachBytecount(['ipv4-ingress', 'ipv4-egress']);
    // A program we did not attach, pinned elsewhere, in ipv6-ingress.
    const foreignDir = `${BPFFS}/ccp-foreign-${process.pid}`;
    cleanups.push(() => fs.rmSync(foreignDir, { recursive: true, force: true }));
    fs.mkdirSync(foreignDir);
    bpftool('prog', 'load', first.objectPath, `${foreignDir}/prog`, 'type', 'classifier', 'pinmaps', `${foreignDir}/maps`);
    bpftool('map', 'update', 'pinned', callsMapPath(BPFFS, endpoint), 'key', '2', '0', '0', '0', 'value', 'pinned', `${foreignDir}/prog`);
    const foreignId = slots(endpoint).get(2)!;

    const second = await attachOther(['ipv4-ingress', 'ipv6-ingress'], { replace: true });
    assert.equal(second.pinName, 'other');
    assert.deepEqual(second.hooks.map((h) => h.previousProgId), [first.prog.id, foreignId]);
    assert.deepEqual([...slots(endpoint)].sort(), [[0, second.prog.id], [1, first.prog.id], [2, second.prog.id]]);
    assert.deepEqual(second.removedPins, [], 'the first program is still in ipv4-egress');
    assert.ok(fs.existsSync(first.progPin));
    assert.ok(fs.existsSync(`${foreignDir}/prog`), 'a replaced program that is not ours keeps its pin');

    const third = await attachOther(['ipv4-egress'], { replace: true });
    assert.equal(third.reused, true, 'other is already loaded for this endpoint: its program is reused');
    assert.equal(third.prog.id, second.prog.id);
    assert.deepEqual(third.removedPins, [first.pinDir], 'our replaced program, referenced by no slot any more, loses its pins');
    assert.ok(!fs.existsSync(first.pinDir));

    await detach({ target, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv4-egress', 'ipv6-ingress', 'ipv6-egress'] });
    assert.equal(slots(endpoint).size, 0);
    assert.ok(fs.existsSync(`${foreignDir}/prog`));
    assert.deepEqual(ourView([endpoint]), baseline);
  });

  it('one program per header and endpoint: another hook reuses it and its maps; a changed build replaces it everywhere', async () => {
    const first = await attachBytecount(['ipv4-ingress']);
    const second = await attachBytecount(['ipv4-egress']);
    assert.equal(second.reused, true);
    assert.equal(second.prog.id, first.prog.id, 'the same program in both slots');
    assert.equal(second.pinDir, first.pinDir);
    assert.deepEqual(fs.readdirSync(`${BPFFS}/cilium-custom`).filter((d) => d.startsWith('bytecount')), ['bytecount'], 'one copy, one bytecount_map');
    assert.deepEqual([...slots(endpoint)].sort(), [[0, first.prog.id], [1, first.prog.id]]);

    // The header changes: attaching it again says so, and changes nothing until asked to replace it everywhere.
    fs.writeFileSync(header, fs.readFileSync(header, 'utf8').replace('ctx_full_len(ctx);', 'ctx_full_len(ctx) + 1;'));
    const view = ourView([endpoint]);
    const changed = await problemOf(attachBytecount(['ipv6-ingress']));
    assert.equal(changed.kind, 'program-changed', changed.full);
    assert.match(changed.message, /ipv4-ingress, ipv4-egress hold an older build of bytecount.*Nothing was changed/);
    assert.deepEqual(ourView([endpoint]), view, 'no second copy stays pinned');

    const replaced = await attachBytecount(['ipv6-ingress'], { replace: true });
    assert.notEqual(replaced.prog.id, first.prog.id);
    assert.deepEqual(replaced.hooks.map((h) => h.hook).sort(), ['ipv4-egress', 'ipv4-ingress', 'ipv6-ingress']);
    assert.deepEqual([...slots(endpoint)].sort(), [[0, replaced.prog.id], [1, replaced.prog.id], [2, replaced.prog.id]]);
    assert.deepEqual(replaced.removedPins, [first.pinDir], 'the old build, in no slot any more, loses its pins');
  });

  it('rejects a hook beyond 3 before running anything, and slot key 4 never reaches bpftool', async () => {
    const recording = new RecordingTarget(target);
    await assert.rejects(attach({ target: recording, input: header, endpointId: endpoint, hooks: ['ipv4-ingress', '4'], bundledSdkDir: SDK_DIR }), ValidationError);
    await assert.rejects(attach({ target: recording, input: header, endpointId: endpoint, hooks: ['ipv7-ingress'], bundledSdkDir: SDK_DIR }), /invalid hook "ipv7-ingress"/);
    await assert.rejects(setSlot(recording, callsMapPath(BPFFS, endpoint), 4, { id: 1 }), /keys 0 to 3/);
    assert.deepEqual(recording.runs, []);
    // What the kernel itself says for key 4, so the message stays clear if it ever gets there.
    assert.throws(() => bpftool('map', 'update', 'pinned', callsMapPath(BPFFS, endpoint), 'key', '4', '0', '0', '0', 'value', 'id', '1'), /Argument list too long|No such file|Invalid/);
    assert.equal(slots(endpoint).size, 0);
  });

  it('refuses a map of the wrong type named like a calls map, changing nothing', async () => {
    const wrong = freeEndpointId();
    cleanups.push(createCallsMap(wrong, 'hash'));
    const view = ourView([endpoint, wrong]);
    const problem = await problemOf(attach({ target, input: header, endpointId: wrong, hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR }));
    assert.equal(problem.kind, 'wrong-map');
    assert.match(problem.message, /is not a Cilium custom-calls map: type hash \(expected prog_array\).*Nothing was changed/);
    assert.deepEqual(ourView([endpoint, wrong]), view);
    const missing = await problemOf(attach({ target, input: header, endpointId: freeEndpointId(), hooks: ['ipv4-ingress'], bundledSdkDir: SDK_DIR }));
    assert.equal(missing.kind, 'no-calls-map');
    assert.deepEqual(ourView([endpoint, wrong]), view);
  });

  it('rolls back the first hook when the second hook fails midway (slot emptied again, pins removed)', async () => {
    const failing = new FailingTarget(target, isSlotUpdate('1'));
    const problem = await problemOf(attach({ target: failing, input: header, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv4-egress'], bundledSdkDir: SDK_DIR }));
    assert.equal(failing.injected, 1);
    assert.equal(problem.kind, 'update-failed');
    assert.match(problem.message, /injected failure.*rolled back/);
    assert.deepEqual(problem.rollbackFailures, []);
    assert.equal(slots(endpoint).size, 0);
    assert.ok(failing.runs.some((r) => r.argv.includes('delete') && r.argv[r.argv.indexOf('key') + 1] === '0'), 'slot 0 was cleared by the rollback');
    assert.deepEqual(ourView([endpoint]), baseline);
  });

  it('rolls back to the previous program by id when a replace fails midway', async () => {
    const first = await attachBytecount(['ipv4-ingress', 'ipv4-egress']);
    const view = ourView([endpoint]);
    const failing = new FailingTarget(target, isSlotUpdate('1'));
    const problem = await problemOf(attach({ target: failing, input: other, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv4-egress'], replace: true, bundledSdkDir: SDK_DIR }));
    assert.equal(problem.kind, 'update-failed');
    assert.deepEqual([...slots(endpoint)].sort(), [[0, first.prog.id], [1, first.prog.id]]);
    assert.deepEqual(ourView([endpoint]), view);
  });

  it('detach refuses a program we did not attach unless forced, and rolls back when clearing fails midway', async () => {
    const foreignDir = `${BPFFS}/ccp-foreign-${process.pid}`;
    cleanups.push(() => fs.rmSync(foreignDir, { recursive: true, force: true }));
    fs.mkdirSync(foreignDir);
    const record: AttachRecord = await attachBytecount(['ipv4-ingress']);
    bpftool('prog', 'load', record.objectPath, `${foreignDir}/prog`, 'type', 'classifier', 'pinmaps', `${foreignDir}/maps`);
    bpftool('map', 'update', 'pinned', callsMapPath(BPFFS, endpoint), 'key', '3', '0', '0', '0', 'value', 'pinned', `${foreignDir}/prog`);
    const foreignId = slots(endpoint).get(3)!;

    const refused = await problemOf(detach({ target, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv6-egress'] }));
    assert.equal(refused.kind, 'not-ours');
    assert.match(refused.message, new RegExp(`ipv6-egress holds program ${foreignId}.*not attached by us.*Nothing was changed`));
    assert.match(refused.full, /--force/);
    assert.equal(slots(endpoint).size, 2);

    const failing = new FailingTarget(target, (argv) => argv.includes('delete') && argv[argv.indexOf('key') + 1] === '3');
    const failed = await problemOf(detach({ target: failing, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv6-egress'], force: true }));
    assert.equal(failed.kind, 'update-failed');
    assert.deepEqual([...slots(endpoint)].sort(), [[0, record.prog.id], [3, foreignId]], 'slot 0 was restored');
    assert.ok(fs.existsSync(record.progPin));

    const result = await detach({ target, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv6-egress'], force: true });
    assert.deepEqual(result.hooks.map((h) => h.ours), ['bytecount', null]);
    assert.deepEqual(result.removedPins, [record.pinDir]);
    assert.ok(fs.existsSync(`${foreignDir}/prog`), 'a forced detach never removes pins that are not ours');
    assert.equal(slots(endpoint).size, 0);
  });

  it('discovers the endpoint with its 4 slots and the occupying program', async () => {
    const record = await attachBytecount(['ipv4-egress']);
    const result = await discoverEndpoints(target);
    assert.equal(result.reason, null);
    const found = result.endpoints.find((e) => e.id === endpoint);
    assert.ok(found, `endpoint ${endpoint} listed`);
    assert.equal(found.problem, null);
    assert.deepEqual(found.slots.map((s) => [s.key, s.hook, s.progId]), [[0, 'ipv4-ingress', null], [1, 'ipv4-egress', record.prog.id], [2, 'ipv6-ingress', null], [3, 'ipv6-egress', null]]);
    assert.equal(found.slots[1].prog?.name, 'custom_hook');
    assert.equal(found.slots[1].prog?.tag, record.prog.tag);
    assert.equal(found.slots[1].ours, 'bytecount');
    assert.equal(result.cilium.available, false, 'no Cilium on this machine');
    assert.ok(result.cilium.reason);
  });
});

describe('endpoint discovery without custom-calls maps (system, temporary bpffs)', function () {
  let dir: ReturnType<typeof tempDir> | undefined;
  let mounted = false;

  before(function () {
    requireBpf(this);
  });

  after(() => {
    if (mounted) execFileSync('umount', [dir!.dir]);
    dir?.remove();
  });

  it('gives the reason string when no cilium_calls_custom_* map exists', async () => {
    dir = tempDir('cilium-custom-bpffs-');
    execFileSync('mount', ['-t', 'bpf', 'bpf', dir.dir]);
    mounted = true;
    const target = new LocalTarget({ bpffsRoot: dir.dir });
    try {
      const empty = await discoverEndpoints(target);
      assert.deepEqual(empty.endpoints, []);
      assert.ok(
        empty.reason?.startsWith(
          `no cilium_calls_custom_* maps under ${dir.dir}/tc/globals: custom calls are disabled in this Cilium (built without ENABLE_CUSTOM_CALLS) or this is Cilium 1.19+, which removed the feature`,
        ),
        empty.reason ?? 'no reason',
      );
      // An existing but empty tc/globals gives the same answer; a calls map there is found.
      fs.mkdirSync(path.join(dir.dir, 'tc', 'globals'), { recursive: true });
      assert.ok((await discoverEndpoints(target)).reason);
      createCallsMap(65000, 'prog_array', dir.dir);
      const one = await discoverEndpoints(target, { skipCilium: true });
      assert.deepEqual(one.endpoints.map((e) => [e.id, e.slots.length, e.problem]), [[65000, 4, null]]);
      assert.equal(one.reason, null);
    } finally {
      await target.dispose();
    }
  });
});

describe('attach over SSH (system, real sshd on 127.0.0.1)', function () {
  let sshd: Sshd | undefined;
  let tmp: ReturnType<typeof tempDir>;
  let endpoint: number;
  let removeMap: (() => void) | undefined;

  before(async function () {
    requireOrSkip(this, isRoot(), 'SSH tests start sshd, which needs root');
    requireOrSkip(this, sshdAvailable(), 'sshd is not installed (apt-get install openssh-server)');
    requireOrSkip(this, hasCommand('ssh'), 'the ssh client is not installed (apt-get install openssh-client)');
    requireBpf(this);
    sshd = await startSshd();
  });

  after(async () => {
    removeMap?.();
    tmp?.remove();
    await sshd?.stop();
  });

  it('attaches bytecount to two hooks, reads them back and detaches, leaving the bpffs as it was', async () => {
    tmp = tempDir('cilium-custom-attach-ssh-');
    const header = copyInto(BYTECOUNT, tmp.dir);
    endpoint = freeEndpointId();
    removeMap = createCallsMap(endpoint);
    const initial = ourView([endpoint]);
    const target = new RecordingTarget(
      new SshTarget(sshTargetConfig(sshd!)),
    );
    try {
      const record = await attach({ target, input: header, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv4-egress'], bundledSdkDir: SDK_DIR });
      assert.deepEqual([...slots(endpoint)].sort(), [[0, record.prog.id], [1, record.prog.id]]);
      assert.ok(target.runs.some((r) => r.argv.includes('load') && !r.argv.includes(record.objectPath)), 'the object was uploaded, not loaded from the local path');
      // The verification is the load: one bpftool prog load, and its upload directory is gone.
      assert.equal(target.loads.length, 1, target.loads.map((l) => l.argv.join(' ')).join('\n'));
      assert.equal(target.uploadDirs.length, 1);
      assert.deepEqual(target.uploadDirs.filter((dir) => fs.existsSync(dir)), []);
      console.log(`      attach: ${target.runs.length} round trips over the shared connection`);
      const found = (await discoverEndpoints(target, { skipCilium: true })).endpoints.find((e) => e.id === endpoint);
      assert.equal(found?.slots[0].ours, 'bytecount');
      const result = await detach({ target, endpointId: endpoint, hooks: ['ipv4-ingress', 'ipv4-egress'] });
      assert.deepEqual(result.removedPins, [record.pinDir]);
      assert.equal(slots(endpoint).size, 0);
      assert.deepEqual(ourView([endpoint]), initial);
    } finally {
      await target.dispose();
    }
  });
});
