// The sandbox against its own concurrency and its users' mistakes, through the real CLI (dist/cli.js) on the real
// kernel: two `sandbox up` of one id at once (exactly one creates it; nothing of it is lost or stranded), `up`
// racing `down`, `traffic` stopping as soon as `down` removes its sandbox, `down` taking out (and unpinning) the
// programs attached to its slots or refusing, naming them, when others put them there, and the one line a user
// without root gets. Every check is on this file's own sandbox ids and pins: other suites run concurrently.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sandboxNames, SANDBOX_NEEDS_ROOT, sandboxLockName, stateFilePath } from '../../src/core/sandbox/names';
import { SandboxError, sandboxDown, sandboxUp } from '../../src/core/sandbox/sandbox';
import { LocalTarget } from '../../src/core/target/localTarget';
import { withNodeLock } from '../../src/core/target/nodeLock';
import { CLI, runCli, startCli, type CliRun } from './helpers/cli';
import { copyInto, SDK_DIR, tempDir } from './helpers/fixtures';
import { processes, sleep, waitFor } from './helpers/pins';
import { rejectionOf } from './helpers/rejection';
import { hasCommand, requireBpf, requireOrSkip } from './helpers/require';

const BPFFS = '/sys/fs/bpf';
/** Ids whose addresses (10.200.<id % 250>.0/30) stay clear of the other suites' sandboxes (4242-4244). */
const ID_RANGE = [4510, 4599] as const;

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

/** Everything of sandbox `id` that exists on this machine (empty: nothing is left). */
function remnants(id: number): string[] {
  const n = sandboxNames(id);
  const found: string[] = [];
  if (fs.existsSync(path.join('/run/netns', n.netns))) found.push(`netns ${n.netns}`);
  if (linkExists(n.hostIf)) found.push(`link ${n.hostIf}`);
  if (fs.existsSync(n.callsMapPin)) found.push(n.callsMapPin);
  if (fs.existsSync(n.pinDir)) found.push(n.pinDir);
  if (fs.existsSync(stateFilePath(id))) found.push(stateFilePath(id));
  return found;
}

function complete(id: number): boolean {
  try {
    return (JSON.parse(fs.readFileSync(stateFilePath(id), 'utf8')) as { complete: boolean }).complete === true;
  } catch {
    return false;
  }
}

/** `down --force`, then by hand whatever a lost state file would have stranded. Never throws. */
async function removeSandbox(id: number): Promise<void> {
  await runCli(['sandbox', 'down', '--endpoint', String(id), '--force']);
  const n = sandboxNames(id);
  spawnSync('ip', ['netns', 'del', n.netns], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'del', 'dev', n.hostIf], { stdio: 'ignore' });
  fs.rmSync(n.pinDir, { recursive: true, force: true });
  fs.rmSync(n.callsMapPin, { force: true });
  fs.rmSync(stateFilePath(id), { force: true });
}

let nextId = ID_RANGE[0];
/** A sandbox id nobody uses right now (no state, namespace, link or pins). */
function freeId(): number {
  for (; nextId <= ID_RANGE[1]; nextId++) {
    if (remnants(nextId).length === 0) return nextId++;
  }
  throw new Error(`no free sandbox id in ${ID_RANGE.join('..')}`);
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function show(run: CliRun): string {
  return `exit ${run.code ?? run.signal}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
}

describe('sandbox under concurrency, interruption and misuse (real CLI, netns, veth, bpftool)', function () {
  this.timeout(170_000);
  const used = new Set<number>();
  const cli = (...args: (string | number)[]) => runCli(args.map(String));
  let tmp: { dir: string; remove: () => void } | undefined;
  /** Our own pin prefix, so that the attach and detach in these tests never meet the other suites' pins. */
  const pinPrefix = path.join(BPFFS, `ccsbtest-${process.pid}`);
  const foreignPin = path.join(BPFFS, `ccsbtest-${process.pid}-foreign`);

  const id = () => {
    const n = freeId();
    used.add(n);
    return n;
  };

  before(function () {
    requireBpf(this);
    for (const tool of ['ip', 'tc', 'flock']) requireOrSkip(this, hasCommand(tool), `${tool} is not installed`);
    requireOrSkip(this, fs.existsSync(CLI), `${CLI} is missing (npm run build)`);
    tmp = tempDir('ccp-sandbox-race-');
  });

  afterEach(async function () {
    this.timeout(60_000);
    for (const n of used) await removeSandbox(n);
    used.clear();
  });

  after(() => {
    fs.rmSync(pinPrefix, { recursive: true, force: true });
    fs.rmSync(foreignPin, { force: true });
    tmp?.remove();
  });

  it('two `sandbox up` of one id at once, 50 times: exactly one creates it, the other says so, and `down` leaves nothing', async () => {
    const n = id();
    const said = new Map<string, number>();
    const started = Date.now();
    for (let round = 0; round < 50; round++) {
      const runs = await Promise.all([cli('sandbox', 'up', '--endpoint', n), cli('sandbox', 'up', '--endpoint', n)]);
      const winners = runs.filter((r) => r.code === 0);
      assert.equal(winners.length, 1, `round ${round}: one up must win:\n${runs.map(show).join('\n')}`);
      const loser = runs.find((r) => r.code !== 0)!;
      assert.equal(loser.code, 1, show(loser));
      assert.equal(loser.stdout, '', show(loser));
      assert.equal(lines(loser.stderr).length, 1, show(loser));
      const reason = /sandbox \d+ is (being created by another process|already up)/.exec(loser.stderr)?.[1];
      assert.ok(reason, `round ${round}: the loser says why:\n${show(loser)}`);
      said.set(reason, (said.get(reason) ?? 0) + 1);
      // The winner's sandbox is whole: the loser's rollback (if any) removed nothing of it.
      assert.match(winners[0].stdout, new RegExp(`sandbox ${n} is up`));
      assert.ok(complete(n), `round ${round}: the state file is there and complete`);
      assert.equal(remnants(n).length, 5, `round ${round}: ${remnants(n).join(', ')}`);

      // The CLI's down once; then the same function in this process, which spares a Node start per round.
      if (round === 0) {
        const down = await cli('sandbox', 'down', '--endpoint', n);
        assert.equal(down.code, 0, show(down));
        assert.match(down.stdout, new RegExp(`sandbox ${n} removed`));
      } else {
        assert.equal((await sandboxDown({ endpointId: n })).wasUp, true);
      }
      assert.deepEqual(remnants(n), [], `round ${round}: nothing of sandbox ${n} is left`);
    }
    console.log(`      50 rounds in ${((Date.now() - started) / 1000).toFixed(1)} s; the loser said: ${[...said].map(([k, v]) => `"${k}" ${v}x`).join(', ')}`);
  });

  it('`up` racing `down` of the same id, 10 times: the sandbox is either whole or entirely gone', async () => {
    const n = id();
    for (let round = 0; round < 10; round++) {
      const [up, down] = await Promise.all([cli('sandbox', 'up', '--endpoint', n), cli('sandbox', 'down', '--endpoint', n)]);
      assert.equal(up.code, 0, show(up));
      assert.equal(down.code, 0, show(down));
      const left = remnants(n);
      if (left.length) {
        assert.equal(left.length, 5, `round ${round}: half a sandbox: ${left.join(', ')}`);
        assert.ok(complete(n));
        const status = await cli('sandbox', 'status', '--endpoint', n);
        assert.match(status.stdout, new RegExp(`^${n}: up,`), show(status));
        assert.equal((await cli('sandbox', 'down', '--endpoint', n)).code, 0);
      }
      assert.deepEqual(remnants(n), []);
    }
  });

  it('an up that cannot get the lock in time says the sandbox is being created, and creates nothing', async () => {
    const n = id();
    // Another process's up, as far as the lock is concerned: held for the whole check.
    await withNodeLock(new LocalTarget(), sandboxLockName(n), async () => {
      const error = await rejectionOf(sandboxUp({ endpointId: n, sdkDir: SDK_DIR, lockWaitMs: 300 }), SandboxError);
      assert.equal(error.kind, 'busy');
      assert.equal(error.message, `sandbox ${n} is being created by another process`);
      const run = await cli('sandbox', 'up', '--endpoint', n);
      assert.equal(run.code, 1, show(run));
      assert.deepEqual(lines(run.stderr), [`cilium-custom: sandbox ${n} is being created by another process; try again once it has finished`]);
      assert.deepEqual(remnants(n), []);
    });
  });

  it('`traffic` stops within moments of `down`, which takes out and unpins the program attached to its slot', async () => {
    const n = id();
    // Return code 2 (TC_ACT_SHOT) once a program sits in the slot: every datagram is dropped and waits for its echo
    // in vain, so 1000 of them would take 1000 s.
    assert.equal((await cli('sandbox', 'up', '--endpoint', n, '--return-code', 2)).code, 0);
    const header = copyInto(path.join(SDK_DIR, 'examples', 'bytecount.h'), tmp!.dir, 'sbdrop.h');
    const attach = await cli('attach', header, '--endpoint', n, '--hook', 'ipv4-ingress', '--pin-prefix', pinPrefix);
    assert.equal(attach.code, 0, show(attach));
    const pins = path.join(pinPrefix, 'sbdrop');
    assert.ok(fs.existsSync(path.join(pins, 'prog')));

    const traffic = startCli(['sandbox', 'traffic', '--endpoint', String(n), '--count', '1000', '--family', 'ipv4']);
    let trafficEnded = 0;
    void traffic.done.then(() => (trafficEnded = Date.now()));
    // Under way: its echo server runs in the namespace, and a datagram or two have been dropped.
    const nsV4 = sandboxNames(n).nsV4;
    const echoServer = () => processes((argv) => argv.length > 0 && path.basename(argv[0]) === 'node' && argv.includes('udp4') && argv.includes(nsV4));
    assert.ok(await waitFor(() => echoServer().length > 0 || trafficEnded > 0, 30_000), 'the echo server started');
    await sleep(1_500);
    assert.equal(trafficEnded, 0, 'traffic is still running before down');
    const down = await cli('sandbox', 'down', '--endpoint', n, '--pin-prefix', pinPrefix);
    const downEnded = Date.now();
    assert.equal(down.code, 0, show(down));
    assert.match(down.stdout, new RegExp(`detached sbdrop \\(program \\d+\\) from ipv4-ingress; removed its pins ${pins}`));

    const run = await traffic.done;
    const lag = Math.max(0, trafficEnded - downEnded);
    console.log(`      traffic ended ${lag} ms after down`);
    assert.ok(lag < 3_000, `traffic ended ${lag} ms after down`);
    assert.equal(run.code, 1, show(run));
    assert.deepEqual(lines(run.stderr).length, 1, show(run));
    assert.match(run.stderr, new RegExp(`^cilium-custom: sandbox ${n} was removed while traffic was running: stopped after \\d+ of 1000 IPv4 datagrams`));
    assert.ok(!fs.existsSync(pins), 'the program attached to the sandbox was unpinned with it');
    assert.ok(await waitFor(() => echoServer().length === 0, 5_000), 'the echo server is gone too');
    assert.deepEqual(remnants(n), []);
  });

  it('`down` detaches our programs from every slot (default pin prefix) and removes their pins', async () => {
    const n = id();
    assert.equal((await cli('sandbox', 'up', '--endpoint', n)).code, 0);
    const name = `sbtest-${process.pid}-${n}`;
    const header = copyInto(path.join(SDK_DIR, 'examples', 'bytecount.h'), tmp!.dir, 'bytecount.h');
    const attach = await cli('attach', header, '--endpoint', n, '--hook', 'ipv4-ingress', '--hook', 'ipv6-egress', '--name', name);
    assert.equal(attach.code, 0, show(attach));
    const pins = path.join(BPFFS, 'cilium-custom', name);
    assert.ok(fs.existsSync(pins));

    const down = await cli('sandbox', 'down', '--endpoint', n, '--json');
    assert.equal(down.code, 0, show(down));
    const result = JSON.parse(down.stdout) as { wasUp: boolean; detached: { hook: string; ours: string | null }[]; removedPins: string[]; keptPins: string[] };
    assert.equal(result.wasUp, true);
    assert.deepEqual(
      result.detached.map((d) => [d.hook, d.ours]),
      [
        ['ipv4-ingress', name],
        ['ipv6-egress', name],
      ],
    );
    assert.deepEqual(result.removedPins, [pins]);
    assert.ok(!fs.existsSync(pins), 'no orphan left pinned under cilium-custom/');
    assert.deepEqual(remnants(n), []);
  });

  it('`down` refuses, naming it, a program cilium-custom did not attach; `--force` takes it out and keeps its pin', async () => {
    const n = id();
    assert.equal((await cli('sandbox', 'up', '--endpoint', n)).code, 0);
    const source = path.join(tmp!.dir, 'foreign.c');
    fs.writeFileSync(source, 'int __attribute__((section("tc"), used)) sbforeign(void *skb) { return 0; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n');
    execFileSync('clang', ['--target=bpf', '-O2', '-c', source, '-o', path.join(tmp!.dir, 'foreign.o')]);
    execFileSync('bpftool', ['prog', 'load', path.join(tmp!.dir, 'foreign.o'), foreignPin, 'type', 'classifier']);
    const mapPin = sandboxNames(n).callsMapPin;
    execFileSync('bpftool', ['map', 'update', 'pinned', mapPin, 'key', '2', '0', '0', '0', 'value', 'pinned', foreignPin]);

    const refused = await cli('sandbox', 'down', '--endpoint', n);
    assert.equal(refused.code, 1, show(refused));
    assert.equal(lines(refused.stderr).length, 1, show(refused));
    assert.match(refused.stderr, /ipv6-ingress holds program \d+ \(sbforeign, sched_cls\), which cilium-custom did not attach/);
    assert.match(refused.stderr, /Nothing was changed\..*--hook ipv6-ingress --force.*sandbox down --endpoint \d+ --force/);
    assert.equal(remnants(n).length, 5, 'nothing was removed');
    assert.ok(complete(n));

    const forced = await cli('sandbox', 'down', '--endpoint', n, '--force');
    assert.equal(forced.code, 0, show(forced));
    assert.match(forced.stdout, /took program \d+ out of ipv6-ingress \(--force; not attached by cilium-custom, its pins are kept\)/);
    assert.ok(fs.existsSync(foreignPin), 'a foreign program keeps its pin');
    fs.rmSync(foreignPin);
    assert.deepEqual(remnants(n), []);
  });

  it('without root, up, down, traffic and status say so in one line and touch nothing', async function () {
    requireOrSkip(this, hasCommand('setpriv'), 'setpriv is not installed (util-linux)');
    const n = id();
    for (const sub of ['up', 'down', 'traffic', 'status']) {
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'sandbox', sub, '--endpoint', String(n)], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 1, `${sub}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '', sub);
      assert.equal(r.stderr, `${SANDBOX_NEEDS_ROOT}\n`, sub);
    }
    // The library the editor uses says the same, instead of a raw EACCES on the state file.
    const script = `require(${JSON.stringify(path.resolve(__dirname, '../../src/core/sandbox/sandbox.js'))})
      .sandboxUp({ endpointId: ${n}, sdkDir: ${JSON.stringify(SDK_DIR)} })
      .then(() => console.log('created'), (e) => console.log(e.kind + ': ' + e.message));`;
    const core = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(core.stdout, `needs-root: ${SANDBOX_NEEDS_ROOT}\n`, core.stderr);
    assert.deepEqual(remnants(n), []);
  });
});
