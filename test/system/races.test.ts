// Two of our processes racing on one node must never lose an update: real CLI processes, started together, on a
// private bpffs mount (so that nothing else on the machine can disturb the counts), 50 rounds per pair. Each round
// checks that what every process said it did is true of the slots and pins afterwards.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { callsMapPath } from '../../src/core/ids';
import { bpftool, createCallsMap } from './helpers/callsMap';
import { runCli, type CliRun } from './helpers/cli';
import { privateMount } from './helpers/faults';
import { SDK_DIR, tempDir } from './helpers/fixtures';
import { requireBpf } from './helpers/require';

const ROUNDS = 50;
const BYTECOUNT = path.join(SDK_DIR, 'examples', 'bytecount.h');

function slots(root: string, id: number): Map<number, number> {
  const dump = JSON.parse(bpftool('-j', 'map', 'dump', 'pinned', callsMapPath(root, id))) as { key: string[]; value: string[] }[];
  return new Map(dump.map((e) => [parseInt(e.key[0], 16), e.value.reduce((n, b, i) => n + parseInt(b, 16) * 256 ** i, 0)]));
}

function json(run: CliRun): Record<string, unknown> & { ok?: boolean; problem?: string } {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

describe('races between our processes on one node (system, real kernel, private bpffs)', function () {
  this.timeout(600_000);
  let bpffs: ReturnType<typeof privateMount>;
  let tmp: ReturnType<typeof tempDir>;
  let objects: string[];
  let prefix: string;
  let nextId = 100;
  const flags = () => ['--bpffs', bpffs.dir, '--json'];
  const pinDirs = () => (fs.existsSync(prefix) ? fs.readdirSync(prefix).sort() : []);

  before(async function () {
    requireBpf(this);
    bpffs = privateMount('bpf');
    prefix = path.join(bpffs.dir, 'cilium-custom');
    tmp = tempDir('ccp-races-');
    // Two programs with one base name in two folders (their pins would collide without the lock; their code differs,
    // so neither is taken for the other's build), and a third.
    objects = [];
    for (const [dir, name] of [['x', 'prog.h'], ['y', 'prog.h'], ['z', 'other.h']]) {
      fs.mkdirSync(path.join(tmp.dir, dir));
      const header = path.join(tmp.dir, dir, name);
      const text = fs.readFileSync(BYTECOUNT, 'utf8');
      fs.writeFileSync(header, dir === 'y' ? text.replace('ctx_full_len(ctx);', 'ctx_full_len(ctx) + 1;') : text);
      const built = await runCli(['build', header, '--json']);
      assert.equal(built.code, 0, built.stderr);
      objects.push(header.replace(/\.h$/, '.o'));
    }
  });

  after(() => {
    bpffs?.remove();
    tmp?.remove();
  });

  it(`attach vs attach to one free slot: exactly one wins and the slot holds it (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = nextId++;
      createCallsMap(id, 'prog_array', bpffs.dir);
      const pinsBefore = pinDirs();
      const [a, b] = round % 2 ? [objects[0], objects[1]] : [objects[0], objects[2]];
      const runs = await Promise.all([a, b].map((obj) => runCli(['attach', obj, '--endpoint', String(id), '--hook', 'ipv4-ingress', ...flags()])));
      const winners = runs.filter((r) => r.code === 0);
      assert.equal(winners.length, 1, `round ${round}: exactly one attach succeeds:\n${runs.map((r) => `${r.code} ${r.stdout} ${r.stderr}`).join('\n')}`);
      const loser = runs.find((r) => r.code !== 0)!;
      assert.equal(loser.code, 1);
      // Occupied; or, for the same header name, held by another build of "that header".
      const said = json(loser).problem;
      assert.ok(said === 'slot-occupied' || (round % 2 === 1 && said === 'program-changed'), `round ${round}: the loser says the slot is taken: ${loser.stdout}`);
      const record = json(winners[0]) as { prog: { id: number }; pinName: string };
      assert.equal(slots(bpffs.dir, id).get(0), record.prog.id, `round ${round}: the slot holds the winner`);
      assert.deepEqual(pinDirs(), [...pinsBefore, record.pinName].sort(), `round ${round}: only the winner's pins were added`);
    }
  });

  it(`attach --replace vs detach: the slot ends as one order of the two would leave it (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = nextId++;
      createCallsMap(id, 'prog_array', bpffs.dir);
      const first = await runCli(['attach', objects[0], '--endpoint', String(id), '--hook', 'ipv4-ingress', ...flags()]);
      assert.equal(first.code, 0, first.stderr);
      const old = json(first) as { prog: { id: number }; pinDir: string };
      const [replaced, detached] = await Promise.all([
        runCli(['attach', objects[2], '--replace', '--endpoint', String(id), '--hook', 'ipv4-ingress', ...flags()]),
        runCli(['detach', '--endpoint', String(id), '--hook', 'ipv4-ingress', ...flags()]),
      ]);
      assert.equal(replaced.code, 0, `round ${round}: ${replaced.stdout}${replaced.stderr}`);
      assert.equal(detached.code, 0, `round ${round}: ${detached.stdout}${detached.stderr}`);
      const fresh = json(replaced) as { prog: { id: number }; pinDir: string };
      const gone = (json(detached) as { hooks: { progId: number | null }[] }).hooks[0].progId;
      const slot = slots(bpffs.dir, id).get(0);
      if (gone === old.prog.id) {
        // detach first, then the attach found the slot empty.
        assert.equal(slot, fresh.prog.id, `round ${round}: detach ran first, so the slot holds the new program`);
        assert.ok(fs.existsSync(fresh.pinDir), `round ${round}: the attached program keeps its pins`);
      } else {
        assert.equal(gone, fresh.prog.id, `round ${round}: detach removed either program: ${detached.stdout}`);
        assert.equal(slot, undefined, `round ${round}: attach ran first, so detach emptied the slot`);
        assert.ok(!fs.existsSync(fresh.pinDir), `round ${round}: the detached program's pins are gone`);
      }
      assert.ok(!fs.existsSync(old.pinDir), `round ${round}: the first program's pins are gone either way`);
    }
  });

  it(`cleanup vs attach: cleanup never takes an attach's fresh pins (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = nextId++;
      createCallsMap(id, 'prog_array', bpffs.dir);
      // A leftover for cleanup to find: our program, taken out of its slot by hand.
      const first = await runCli(['attach', objects[1], '--endpoint', String(id), '--hook', 'ipv4-egress', ...flags()]);
      assert.equal(first.code, 0, first.stderr);
      const leftover = json(first) as { pinDir: string };
      bpftool('map', 'delete', 'pinned', callsMapPath(bpffs.dir, id), 'key', '1', '0', '0', '0');
      const [attached, cleaned] = await Promise.all([
        runCli(['attach', objects[2], '--endpoint', String(id), '--hook', 'ipv4-ingress', ...flags()]),
        runCli(['cleanup', ...flags()]),
      ]);
      assert.equal(attached.code, 0, `round ${round}: ${attached.stdout}${attached.stderr}`);
      assert.equal(cleaned.code, 0, `round ${round}: ${cleaned.stdout}${cleaned.stderr}`);
      const record = json(attached) as { prog: { id: number }; pinDir: string };
      assert.equal(slots(bpffs.dir, id).get(0), record.prog.id, `round ${round}: the attach holds`);
      assert.ok(fs.existsSync(record.pinDir), `round ${round}: the attach's pins survive cleanup`);
      assert.ok(!fs.existsSync(leftover.pinDir), `round ${round}: the leftover is gone`);
    }
  });
});
