// An attach interrupted at each of its steps, as a user interrupts it: Ctrl-C (SIGINT), Ctrl-C twice, and SIGKILL.
// The CLI runs as a real process on a private bpffs mount; CILIUM_CUSTOM_TEST_PAUSE stops it at an exact step.
// After SIGINT the endpoint is as before when the process ends; after SIGKILL the journal on the node lets the next
// attach, detach or cleanup finish the rollback.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { callsMapPath } from '../../src/core/ids';
import { nodeStateDir } from '../../src/core/target/nodeLock';
import { bpftool, createCallsMap } from './helpers/callsMap';
import { runCli, startCli } from './helpers/cli';
import { privateMount } from './helpers/faults';
import { SDK_DIR, tempDir } from './helpers/fixtures';
import { requireBpf } from './helpers/require';

const BYTECOUNT = path.join(SDK_DIR, 'examples', 'bytecount.h');
const HOOKS = ['--hook', 'ipv4-ingress', '--hook', 'ipv4-egress'];

describe('attach interrupted at each step (system, real kernel, private bpffs)', function () {
  this.timeout(300_000);
  let bpffs: ReturnType<typeof privateMount>;
  let tmp: ReturnType<typeof tempDir>;
  let object: string;
  let prefix: string;
  let journal: string;
  let nextId = 200;

  const slots = (id: number) => bpftool('-j', 'map', 'dump', 'pinned', callsMapPath(bpffs.dir, id)).trim();
  const pinDirs = () => (fs.existsSync(prefix) ? fs.readdirSync(prefix) : []);
  const flags = () => ['--bpffs', bpffs.dir];
  /** The endpoint and the node as they were before the attach: empty slots, no pins, no journal. */
  const assertAsBefore = (id: number, what: string) => {
    assert.equal(slots(id), '[]', `${what}: the slots are empty again`);
    assert.deepEqual(pinDirs(), [], `${what}: no pins are left`);
    assert.ok(!fs.existsSync(journal), `${what}: no journal is left`);
  };

  before(async function () {
    requireBpf(this);
    bpffs = privateMount('bpf');
    prefix = path.join(bpffs.dir, 'cilium-custom');
    journal = `${nodeStateDir(bpffs.dir)}/slots.journal`;
    tmp = tempDir('ccp-interrupt-');
    const header = path.join(tmp.dir, 'counter.h');
    fs.copyFileSync(BYTECOUNT, header);
    const built = await runCli(['build', header]);
    assert.equal(built.code, 0, built.stderr);
    object = header.replace(/\.h$/, '.o');
  });

  // A failed test must not leave its state to the next one (the mount is private: everything in it is this suite's).
  afterEach(() => {
    if (!bpffs) return;
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.rmSync(journal, { force: true });
  });

  after(() => {
    bpffs?.remove();
    tmp?.remove();
  });

  for (const step of ['verify and load', 'check the program', 'journal', 'update ipv4-ingress', 'update ipv4-egress', 'read back']) {
    it(`SIGINT at "${step}": the process rolls back before it ends`, async () => {
      const id = nextId++;
      createCallsMap(id, 'prog_array', bpffs.dir);
      const cli = startCli(['attach', object, '--endpoint', String(id), ...HOOKS, ...flags()], { CILIUM_CUSTOM_TEST_PAUSE: `${step}=60000` });
      await cli.waitForStderr(`paused at ${step}`);
      cli.child.kill('SIGINT');
      const run = await cli.done;
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /cancelled/i);
      assertAsBefore(id, step);
    });
  }

  it('a second Ctrl-C during the rollback is ignored, with a line saying so, until the rollback ends', async () => {
    const id = nextId++;
    createCallsMap(id, 'prog_array', bpffs.dir);
    const cli = startCli(['attach', object, '--endpoint', String(id), ...HOOKS, ...flags()], {
      CILIUM_CUSTOM_TEST_PAUSE: 'update ipv4-egress=60000,roll back=1500',
    });
    await cli.waitForStderr('paused at update ipv4-egress');
    assert.notEqual(slots(id), '[]', 'the first slot was updated before the pause');
    cli.child.kill('SIGINT');
    await cli.waitForStderr('paused at roll back');
    cli.child.kill('SIGINT');
    cli.child.kill('SIGINT');
    const run = await cli.done;
    assert.equal(run.signal, null, 'the process was not ended by the second signal');
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /finishing the rollback/);
    assert.equal(run.stderr.match(/finishing the rollback/g)!.length, 1, 'the warning is said once');
    assertAsBefore(id, 'double Ctrl-C');
  });

  // SIGKILL leaves the node as the process left it; the next command that takes the lock finishes the rollback.
  const killSteps: [string, string, 'cleanup' | 'attach' | 'detach'][] = [
    ['check the program', 'check the program=60000', 'cleanup'],
    ['journal', 'journal=60000', 'cleanup'],
    ['update ipv4-ingress', 'update ipv4-ingress=60000', 'detach'],
    ['update ipv4-egress', 'update ipv4-egress=60000', 'attach'],
    ['read back', 'read back=60000', 'cleanup'],
  ];
  for (const [step, pause, recoverWith] of killSteps) {
    it(`SIGKILL at "${step}": ${recoverWith} finishes the rollback`, async () => {
      const id = nextId++;
      createCallsMap(id, 'prog_array', bpffs.dir);
      const cli = startCli(['attach', object, '--endpoint', String(id), ...HOOKS, ...flags()], { CILIUM_CUSTOM_TEST_PAUSE: pause });
      await cli.waitForStderr(`paused at ${step}`);
      cli.child.kill('SIGKILL');
      await cli.done;
      const journalLeft = fs.existsSync(journal);
      // The journal is written right after the "journal" step begins, before the first slot update.
      assert.equal(journalLeft, !['check the program', 'journal'].includes(step), 'the journal is on the node once written');

      const dry = await runCli(['cleanup', '--dry-run', '--json', ...flags()]);
      assert.equal(dry.code, 0, dry.stderr);
      const kinds = (JSON.parse(dry.stdout) as { orphans: { kind: string }[] }).orphans.map((o) => o.kind);
      if (journalLeft) assert.ok(kinds.includes('interrupted'), `cleanup --dry-run reports the interrupted attach: ${dry.stdout}`);
      else assert.ok(kinds.includes('program'), `cleanup --dry-run reports the loaded, unattached program: ${dry.stdout}`);

      if (recoverWith === 'cleanup') {
        const cleaned = await runCli(['cleanup', ...flags()]);
        assert.equal(cleaned.code, 0, cleaned.stderr);
        assertAsBefore(id, `SIGKILL at ${step}, then cleanup`);
      } else if (recoverWith === 'detach') {
        const detached = await runCli(['detach', '--endpoint', String(id), ...HOOKS, ...flags()]);
        assert.equal(detached.code, 0, detached.stderr);
        assert.match(detached.stdout, /finished the rollback of an interrupted attach/);
        assert.equal(slots(id), '[]');
        assert.ok(!fs.existsSync(journal));
        await runCli(['cleanup', ...flags()]);
        assertAsBefore(id, `SIGKILL at ${step}, then detach`);
      } else {
        const again = await runCli(['attach', object, '--endpoint', String(id), ...HOOKS, ...flags()]);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /finished the rollback of an interrupted attach/);
        assert.equal(pinDirs().length, 1, 'the interrupted attach left no second copy');
        const detached = await runCli(['detach', '--endpoint', String(id), ...HOOKS, ...flags()]);
        assert.equal(detached.code, 0, detached.stderr);
        assertAsBefore(id, `SIGKILL at ${step}, then attach`);
      }
    });
  }

  it('SIGKILL during the rollback of a Ctrl-C: cleanup finishes it', async () => {
    const id = nextId++;
    createCallsMap(id, 'prog_array', bpffs.dir);
    const cli = startCli(['attach', object, '--endpoint', String(id), ...HOOKS, ...flags()], {
      CILIUM_CUSTOM_TEST_PAUSE: 'update ipv4-egress=60000,roll back=60000',
    });
    await cli.waitForStderr('paused at update ipv4-egress');
    cli.child.kill('SIGINT');
    await cli.waitForStderr('paused at roll back');
    cli.child.kill('SIGKILL');
    await cli.done;
    assert.ok(fs.existsSync(journal));
    const cleaned = await runCli(['cleanup', ...flags()]);
    assert.equal(cleaned.code, 0, cleaned.stderr);
    assertAsBefore(id, 'SIGKILL during rollback, then cleanup');
  });
});
