// Everything this tool deletes must be provably ours. Each refusal here is a path an adversarial pass once got
// deleted: a tree of ordinary files given as the pin prefix, Cilium's tc/globals reached through --pin-prefix and
// --name, and folders on the bpffs that hold something besides our pin layout. The destructive cases run on a
// private bpffs mount, so a failure cannot touch the machine's real one.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeOurDirs } from '../../src/core/attach/removal';
import { LocalTarget } from '../../src/core/target';
import { bpftool, createCallsMap } from './helpers/callsMap';
import { runCli } from './helpers/cli';
import { privateMount } from './helpers/faults';
import { SDK_DIR, tempDir } from './helpers/fixtures';
import { requireBpf } from './helpers/require';

const BYTECOUNT = path.join(SDK_DIR, 'examples', 'bytecount.h');

/** Every path under dir with its content (files) or '/' (folders): to prove a tree survived exactly. */
function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        out.push(`${p}/`);
        walk(p);
      } else out.push(`${p}=${fs.readFileSync(p, 'utf8')}`);
    }
  };
  walk(dir);
  return out.sort();
}

describe('destructive paths are confined to our pins (system, private bpffs)', function () {
  this.timeout(120_000);
  let bpffs: ReturnType<typeof privateMount>;
  let tmp: ReturnType<typeof tempDir>;
  let files: string;
  const endpoint = 4321;

  before(function () {
    requireBpf(this);
    bpffs = privateMount('bpf');
    tmp = tempDir('ccp-destructive-');
    files = path.join(tmp.dir, 'x');
    for (const name of ['a', 'b']) {
      fs.mkdirSync(path.join(files, name), { recursive: true });
      fs.writeFileSync(path.join(files, name, 'keep.txt'), `precious ${name}`);
    }
    createCallsMap(endpoint, 'prog_array', bpffs.dir);
  });

  after(() => {
    bpffs?.remove();
    tmp?.remove();
  });

  it('a tree of ordinary files given as the pin prefix survives every command', async () => {
    const before = treeOf(files);
    const header = path.join(tmp.dir, 'counter.h');
    fs.copyFileSync(BYTECOUNT, header);
    const commands = [
      ['cleanup', '--pin-prefix', files],
      ['cleanup', '--dry-run', '--pin-prefix', files],
      ['cleanup', '--dry-run', '--pin-prefix', '/'],
      ['detach', '--endpoint', String(endpoint), '--hook', 'ipv4-ingress', '--pin-prefix', files, '--bpffs', bpffs.dir],
      ['detach', '--endpoint', String(endpoint), '--hook', 'ipv4-ingress', '--pin-prefix', files, '--name', 'a', '--bpffs', bpffs.dir],
      ['attach', header, '--endpoint', String(endpoint), '--hook', 'ipv4-ingress', '--pin-prefix', files, '--bpffs', bpffs.dir],
    ];
    for (const argv of commands) {
      const run = await runCli(argv);
      assert.equal(run.code, 2, `${argv.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /invalid pin prefix/, argv.join(' '));
      assert.doesNotMatch(run.stdout, /removed|would remove/);
    }
    assert.deepEqual(treeOf(files), before, 'the tree is untouched');
  });

  it("refuses prefixes and names that reach Cilium's folders (tc/globals survives)", async () => {
    const globals = path.join(bpffs.dir, 'tc', 'globals');
    const before = fs.readdirSync(globals);
    const refused = [
      ['--pin-prefix', path.join(bpffs.dir, 'tc'), '--name', 'globals'],
      ['--pin-prefix', globals],
      ['--pin-prefix', path.join(bpffs.dir, 'cilium')],
      ['--pin-prefix', path.join(bpffs.dir, 'xdp')],
      ['--pin-prefix', bpffs.dir],
      ['--name', '../tc'],
      ['--name', 'a/b'],
      ['--name', '..'],
      ['--name', '.'],
    ];
    for (const extra of refused) {
      const run = await runCli(['detach', '--endpoint', String(endpoint), '--hook', 'ipv4-ingress', '--bpffs', bpffs.dir, ...extra]);
      assert.equal(run.code, 2, `${extra.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /invalid pin (prefix|name)/);
    }
    assert.deepEqual(fs.readdirSync(globals), before, 'tc/globals is untouched');
  });

  it('cleanup removes only folders that hold nothing but our layout', async () => {
    const prefix = path.join(bpffs.dir, 'mine');
    const foreign = path.join(prefix, 'foreign');
    const nested = path.join(prefix, 'nested');
    const plain = path.join(prefix, 'plain');
    for (const dir of [foreign, path.join(nested, 'maps', 'deeper'), plain]) fs.mkdirSync(dir, { recursive: true });
    const pin = (p: string) => bpftool('map', 'create', p, 'type', 'array', 'key', '4', 'value', '4', 'entries', '1', 'name', 'test_pin');
    pin(path.join(foreign, 'prog'));
    pin(path.join(foreign, 'state')); // Not part of our layout.
    pin(path.join(nested, 'maps', 'deeper', 'm')); // A folder inside maps/ is not ours either.
    pin(path.join(plain, 'prog')); // Exactly our layout, with no program in any slot: a leftover.

    const run = await runCli(['cleanup', '--pin-prefix', prefix, '--bpffs', bpffs.dir, '--json']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const { failures } = JSON.parse(run.stdout) as { failures: string[] };
    assert.ok(failures.some((f) => f.includes(foreign) && /not a program or map pin of ours/.test(f)), failures.join('\n'));
    assert.ok(failures.some((f) => f.includes(nested)), failures.join('\n'));
    assert.ok(fs.existsSync(path.join(foreign, 'state')) && fs.existsSync(path.join(nested, 'maps', 'deeper', 'm')), 'foreign pins survive');
    assert.ok(!fs.existsSync(plain), 'our own leftover is removed');
    fs.rmSync(prefix, { recursive: true, force: true });
  });

  it('the removal function refuses symbolic links, files, places outside the prefix and off the bpffs', async () => {
    const prefix = path.join(bpffs.dir, 'cilium-custom');
    fs.mkdirSync(prefix, { recursive: true });
    const target = new LocalTarget({ bpffsRoot: bpffs.dir });
    fs.symlinkSync(files, path.join(tmp.dir, 'link'));
    const report = await removeOurDirs(
      target,
      [
        { kind: 'pins', path: path.join(prefix, '..') },
        { kind: 'pins', path: path.join(bpffs.dir, 'tc', 'globals') },
        { kind: 'pins', path: files },
        { kind: 'upload', path: path.join(tmp.dir, 'link') },
        { kind: 'upload', path: '/tmp/cilium-custom-verify-1-ab/../../etc' },
      ],
      prefix,
    );
    assert.deepEqual(report.removed, []);
    assert.equal(report.refused.length, 5, report.refused.join('\n'));
    assert.ok(fs.existsSync(files) && fs.existsSync(path.join(bpffs.dir, 'tc', 'globals')));

    // A folder in the right place that is not on the bpffs (another file system mounted there) is checked on the node.
    const evil = path.join(prefix, 'evil');
    fs.mkdirSync(evil);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', evil]);
    try {
      fs.writeFileSync(path.join(evil, 'prog'), 'not a pin');
      const checked = await removeOurDirs(target, [{ kind: 'pins', path: evil }], prefix);
      assert.deepEqual(checked.removed, []);
      assert.match(checked.refused[0] ?? '', /not on the bpffs/);
      assert.ok(fs.existsSync(path.join(evil, 'prog')));
    } finally {
      execFileSync('umount', [evil]);
    }
    fs.rmSync(prefix, { recursive: true, force: true });
  });
});
