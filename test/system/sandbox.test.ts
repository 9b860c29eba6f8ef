// The sandbox end to end on the real kernel: up -> build bytecount.h -> load -> attach to slots 0/1 of the sandbox's
// cilium_calls_custom map -> real UDP traffic through the mock datapath -> read the counter -> detach -> down, and the
// machine (bpffs, netns list, links) exactly as before.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sandboxDown, sandboxStatus, sandboxTraffic, sandboxUp, type SandboxState } from '../../src/core/sandbox/sandbox';
import { runProcess, succeeded } from '../../src/core/process';
import { copyInto, SDK_DIR, tempDir } from './helpers/fixtures';
import { hasCommand, requireBpf, requireOrSkip } from './helpers/require';

const ENDPOINT = 4244;
const IDENTITY = 12345;
const BPFFS = '/sys/fs/bpf';

function bpffsSnapshot(dir = BPFFS, prefix = ''): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out; // Removed while we looked (another suite's pins).
  }
  for (const entry of entries) {
    const rel = prefix + entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...bpffsSnapshot(path.join(dir, entry.name), `${rel}/`));
  }
  return out.sort();
}
function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter(Boolean).sort();
}
function linkList(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname).sort();
}
function bpftoolJson(args: string[]): unknown {
  return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));
}
async function run(argv: string[]) {
  const r = await runProcess(argv, { timeoutMs: 120_000 });
  assert.ok(succeeded(r), `${argv.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('sandbox (real netns, veth, tc, bpftool)', function () {
  this.timeout(180_000);
  let baseline: { bpffs: string[]; netns: string[]; links: string[] };
  let state: SandboxState | undefined;
  let tmp: { dir: string; remove: () => void } | undefined;
  let stateDir = '';
  const progPin = path.join(BPFFS, `cilium-custom-sbtest-${process.pid}`);
  const mapDir = path.join(BPFFS, `cilium-custom-sbtest-${process.pid}-maps`);

  const cleanup = async () => {
    if (state) {
      for (const key of ['0', '1']) await runProcess(['bpftool', 'map', 'delete', 'pinned', state.names.callsMapPin, 'key', key, '0', '0', '0']);
    }
    fs.rmSync(progPin, { force: true });
    fs.rmSync(mapDir, { recursive: true, force: true });
    if (stateDir) await sandboxDown({ endpointId: ENDPOINT, stateDir });
    tmp?.remove();
    tmp = undefined;
  };

  before(function () {
    requireBpf(this);
    for (const tool of ['ip', 'tc']) requireOrSkip(this, hasCommand(tool), `${tool} is not installed (apt-get install iproute2)`);
    baseline = { bpffs: bpffsSnapshot(), netns: netnsList(), links: linkList() };
    tmp = tempDir('ccp-sandbox-test-');
    stateDir = path.join(tmp.dir, 'state');
  });
  after(async function () {
    this.timeout(60_000);
    await cleanup();
  });

  it('brings up the netns, veth, clsact filters and a 4-entry prog_array', async () => {
    const up = await sandboxUp({ endpointId: ENDPOINT, identity: IDENTITY, sdkDir: SDK_DIR, stateDir });
    state = up.state;
    const n = state.names;
    assert.ok(netnsList().includes(n.netns));
    assert.ok(linkList().includes(n.hostIf));
    const nsLinks = JSON.parse(execFileSync('ip', ['-n', n.netns, '-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
    assert.ok(nsLinks.some((l) => l.ifname === 'eth0'));
    for (const dir of ['ingress', 'egress']) {
      const filters = JSON.parse(execFileSync('tc', ['-j', 'filter', 'show', 'dev', n.hostIf, dir], { encoding: 'utf8' })) as { options?: { prog?: { name?: string }; 'direct-action'?: boolean } }[];
      assert.ok(filters.some((f) => f.options?.prog?.name === `mock_${dir}` && f.options['direct-action']), `${dir}: ${JSON.stringify(filters)}`);
    }
    assert.equal(n.callsMapPin, `${BPFFS}/tc/globals/cilium_calls_custom_04244`);
    const map = bpftoolJson(['map', 'show', 'pinned', n.callsMapPin]) as Record<string, unknown>;
    assert.equal(map.type, 'prog_array');
    assert.equal(map.max_entries, 4);
    assert.equal(map.bytes_key, 4);
    assert.equal(map.bytes_value, 4);
    const [status] = await sandboxStatus({ endpointId: ENDPOINT, stateDir });
    assert.deepEqual([status.netnsPresent, status.hostIfPresent, status.callsMapPresent, status.occupiedSlots], [true, true, true, []]);
  });

  it('counts real traffic with bytecount.h tail-called from slots 0 and 1', async function () {
    if (!state || !tmp) this.skip();
    const header = copyInto(path.join(SDK_DIR, 'examples', 'bytecount.h'), tmp.dir);
    await run(['make', '-C', SDK_DIR, `BPF_CUSTOM_PROG_FILE=${header}`, 'BPF_CUSTOM_PROG_NAME=bytecount']);
    const object = header.replace(/\.h$/, '.o');
    await run(['bpftool', 'prog', 'load', object, progPin, 'type', 'classifier', 'pinmaps', mapDir]);
    for (const key of ['0', '1']) {
      await run(['bpftool', 'map', 'update', 'pinned', state.names.callsMapPin, 'key', key, '0', '0', '0', 'value', 'pinned', progPin]);
    }
    const [status] = await sandboxStatus({ endpointId: ENDPOINT, stateDir });
    assert.deepEqual(status.occupiedSlots, [0, 1]);

    const count = 20;
    const size = 100;
    const traffic = await sandboxTraffic({ endpointId: ENDPOINT, count, size, family: 'ipv4', stateDir });
    const [v4] = traffic.families;
    assert.equal(v4.sent, count);
    assert.equal(v4.echoed, count, 'every datagram should be echoed back');
    assert.equal(v4.frameBytes, size + 42);

    const entries = bpftoolJson(['map', 'dump', 'pinned', path.join(mapDir, 'bytecount_map')]) as {
      key: unknown;
      value: unknown;
      formatted?: { key: number; value: number };
    }[];
    const bytesOf = (e: (typeof entries)[number]) =>
      e.formatted ? { key: e.formatted.key, value: e.formatted.value } : { key: Buffer.from((e.key as string[]).map(Number)).readUInt32LE(0), value: Number(Buffer.from((e.value as string[]).map(Number)).readBigUInt64LE(0)) };
    const counted = entries.map(bytesOf).find((e) => e.key === IDENTITY)?.value ?? 0;
    const expected = v4.toPodBytes + v4.fromPodBytes; // 2 * count * (size + 42): datagrams out through egress, echoes in through ingress
    console.log(`      bytecount_map[${IDENTITY}] = ${counted} B; UDP sent+echoed = ${expected} B (${count}+${count} x ${v4.frameBytes} B)`);
    assert.ok(counted >= expected, `counter ${counted} < ${expected}`);
    // Anything beyond that would be other IPv4 packets on this private link; there should be none (ARP is not IP).
    assert.ok(counted <= expected + 4 * 1514, `counter ${counted} far above ${expected}`);
    assert.deepEqual(entries.map(bytesOf).map((e) => e.key), [IDENTITY], 'only the sandbox identity is counted');
  });

  it('detaches, tears down, and leaves bpffs, netns and links exactly as before', async function () {
    if (!baseline) this.skip();
    await cleanup();
    const down = await sandboxDown({ endpointId: ENDPOINT, stateDir });
    assert.equal(down.wasUp, false, 'down is idempotent');
    const now = bpffsSnapshot();
    // tc/, tc/globals and cilium-custom-sandbox/ are ours to remove only while nobody else (Cilium, another sandbox, a
    // concurrent suite) has pinned under them.
    const shared = now.some((e) => e.startsWith('tc/globals/') && !e.endsWith('_04244'));
    const sandboxesShared = now.some((e) => e.startsWith('cilium-custom-sandbox/') && !e.startsWith('cilium-custom-sandbox/4244'));
    const mine = (e: string) => ours(e) && !(shared && (e === 'tc' || e === 'tc/globals')) && !(sandboxesShared && e === 'cilium-custom-sandbox');
    assert.deepEqual(now.filter(mine), baseline.bpffs.filter(mine));
    // Only this sandbox's namespace and link: other suites make their own concurrently.
    const ownNetns = (name: string) => name === 'cilium-custom-sb-4244';
    const ownLink = (name: string) => name === 'ccsb4244h' || name === 'ccsb4244p';
    assert.deepEqual(netnsList().filter(ownNetns), baseline.netns.filter(ownNetns));
    assert.deepEqual(linkList().filter(ownLink), baseline.links.filter(ownLink));
  });
});

/** bpffs entries this test or the sandbox could create (other suites may pin their own things concurrently). */
function ours(entry: string): boolean {
  return (
    entry === 'tc' ||
    entry === 'tc/globals' ||
    entry === 'tc/globals/cilium_calls_custom_04244' ||
    entry === 'cilium-custom-sandbox' ||
    entry.startsWith('cilium-custom-sandbox/4244') ||
    entry.startsWith(`cilium-custom-sbtest-${process.pid}`)
  );
}
