// The pieces of the kernel matrix that need no VM: the bzImage check, the cache, the Debian package choice, the
// initramfs archive, the marker stream of the job port and QEMU's command line.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkKernelName, compareVersions, KernelCache, kernelCacheDir } from '../../../src/core/kernels/cache';
import { kernelVersionOf, readBzImage } from '../../../src/core/kernels/bzImage';
import { latestPackage, parseAptShow, privateAptState } from '../../../src/core/kernels/fetch';
import { listCpio, writeCpio } from '../../../src/core/kernels/cpio';
import { buildInitramfs, encodeJobFrame, markerPrefix, parseLdd } from '../../../src/core/kernels/initramfs';
import { MarkerStream } from '../../../src/core/kernels/markerStream';
import { qemuArgv } from '../../../src/core/kernels/qemu';
import { KernelTarget } from '../../../src/core/kernels/kernelTarget';
import { shellQuote } from '../../../src/core/target/shellQuote';

/** A file shaped like a bzImage: "HdrS" at 0x202, setup_sects and syssize giving `size`, a version string. */
function fakeBzImage(size: number, version = '6.1.0-50-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)'): Buffer {
  const b = Buffer.alloc(size);
  b[0x1f1] = 27;
  b.writeUInt32LE(Math.floor((size - 28 * 512) / 16), 0x1f4);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x3000, 0x20e);
  b.write(`${version}\0`, 0x3000 + 0x200, 'latin1');
  return b;
}

describe('kernels: bzImage check', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-bz-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: Buffer) => {
    fs.writeFileSync(path.join(dir, name), data);
    return path.join(dir, name);
  };

  it('reads the release and the Debian version from the header', () => {
    const facts = readBzImage(write('k', fakeBzImage(1024 * 1024)));
    assert.equal(facts.release, '6.1.0-50-cloud-amd64');
    assert.equal(kernelVersionOf(facts), '6.1.176');
    assert.equal(kernelVersionOf({ size: 1, release: '6.18.44-fc-v857' }), '6.18.44');
  });

  it('refuses a file without HdrS, a truncated image, an implausible header, a tiny file, a directory', () => {
    assert.throws(() => readBzImage(write('zero', Buffer.alloc(1024 * 1024))), /no "HdrS" boot header magic at offset 0x202/);
    assert.throws(() => readBzImage(write('cut', fakeBzImage(1024 * 1024).subarray(0, 700 * 1024))), /is truncated: its bzImage header says 1048576 bytes, the file has 716800/);
    const wild = fakeBzImage(1024 * 1024);
    wild.writeUInt32LE(0xffffffff, 0x1f4);
    assert.throws(() => readBzImage(write('wild', wild)), /implausible size/);
    assert.throws(() => readBzImage(write('tiny', fakeBzImage(1024 * 1024).subarray(0, 4096))), /truncated|only 4096 bytes/);
    assert.throws(() => readBzImage(dir), /not a regular file|EISDIR/);
    assert.throws(() => readBzImage(path.join(dir, 'missing')), /cannot read .*ENOENT/);
  });

  it('accepts an image longer than its header says (an appended signature)', () => {
    const signed = Buffer.concat([fakeBzImage(1024 * 1024), Buffer.alloc(4096, 1)]);
    assert.equal(readBzImage(write('signed', signed)).release, '6.1.0-50-cloud-amd64');
  });
});

describe('kernels: cache', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-cache-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lives under XDG_CACHE_HOME when it is absolute, else ~/.cache', () => {
    assert.equal(kernelCacheDir({ XDG_CACHE_HOME: '/x/y' }), '/x/y/cilium-custom/kernels');
    assert.equal(kernelCacheDir({ XDG_CACHE_HOME: 'relative' }), path.join(os.homedir(), '.cache', 'cilium-custom', 'kernels'));
    assert.equal(kernelCacheDir({}), path.join(os.homedir(), '.cache', 'cilium-custom', 'kernels'));
  });

  it('names: letters, digits and . _ + -; host, all and local are reserved; no paths', () => {
    for (const ok of ['5.10', '6.12', 'node-a', 'eks_1.29+x']) assert.equal(checkKernelName(ok), undefined, ok);
    for (const bad of ['', '.', '..', '../x', 'a/b', '-x', 'a b', 'x'.repeat(65), 'a..b']) assert.match(checkKernelName(bad)!, /invalid kernel name/, bad);
    for (const reserved of ['host', 'all', 'local']) assert.match(checkKernelName(reserved)!, /reserved/);
  });

  it('stores, lists by version, replaces, removes; a refused image leaves nothing', () => {
    const cache = new KernelCache(path.join(dir, 'kernels'));
    const image = path.join(dir, 'img');
    fs.writeFileSync(image, fakeBzImage(1024 * 1024));
    cache.store('b', image, { source: 'file', from: image });
    fs.writeFileSync(image, fakeBzImage(1024 * 1024, '5.10.0-32-cloud-amd64 (x) #1 SMP Debian 5.10.223-1 (2025)'));
    const a = cache.store('a', image, { source: 'file' });
    assert.equal(a.version, '5.10.223');
    assert.deepEqual(cache.list().map((k) => `${k.name}=${k.version}`), ['a=5.10.223', 'b=6.1.176']);
    cache.store('a', image, { source: 'debian', version: '5.10.999' });
    assert.equal(cache.get('a')!.version, '5.10.999');
    assert.equal(cache.get('a')!.sha256.length, 64);
    fs.writeFileSync(image, Buffer.alloc(1024 * 1024));
    assert.throws(() => cache.store('c', image, { source: 'file' }), /HdrS/);
    assert.deepEqual(fs.readdirSync(cache.root).sort(), ['a', 'b']);
    assert.equal(cache.remove('a'), true);
    assert.equal(cache.remove('a'), false);
    assert.throws(() => cache.remove('../b'), /invalid kernel name/);
    assert.deepEqual(cache.list().map((k) => k.name), ['b']);
  });

  it('orders versions numerically', () => {
    assert.deepEqual(['6.12.117', '5.10.223', '6.1.176', '6.1.9'].sort(compareVersions), ['5.10.223', '6.1.9', '6.1.176', '6.12.117']);
  });
});

describe('kernels: Debian packages', () => {
  const names = [
    'linux-image-5.10.0-30-cloud-amd64-unsigned',
    'linux-image-5.10.0-32-cloud-amd64-unsigned',
    'linux-image-6.1.0-47-cloud-amd64-unsigned',
    'linux-image-6.1.0-50-cloud-amd64-unsigned',
    'linux-image-6.12.107+deb13-cloud-amd64-unsigned',
    'linux-image-6.12.117+deb13-cloud-amd64-unsigned',
    'linux-image-6.12.9+deb13-cloud-amd64-unsigned',
  ];

  it('picks the newest cloud kernel of each series, never another series', () => {
    assert.equal(latestPackage(names, '5.10'), 'linux-image-5.10.0-32-cloud-amd64-unsigned');
    assert.equal(latestPackage(names, '6.1'), 'linux-image-6.1.0-50-cloud-amd64-unsigned');
    assert.equal(latestPackage(names, '6.12'), 'linux-image-6.12.117+deb13-cloud-amd64-unsigned');
    assert.equal(latestPackage(names, '4.19'), undefined);
  });

  it('reads version and size from apt-cache show', () => {
    const text = 'Package: linux-image-6.1.0-50-cloud-amd64-unsigned\nSource: linux\nVersion: 6.1.176-1\nSize: 26489272\n';
    assert.deepEqual(parseAptShow(text), { name: 'linux-image-6.1.0-50-cloud-amd64-unsigned', version: '6.1.176-1', size: 26489272 });
    assert.equal(parseAptShow('nothing'), undefined);
  });

  it('the apt state is private: its own sources, lists and cache, no sources.list.d', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-apt-'));
    try {
      const options = privateAptState(dir, ['bullseye', 'trixie'], 'http://deb.debian.org/debian');
      assert.equal(fs.readFileSync(path.join(dir, 'sources.list'), 'utf8'), 'deb http://deb.debian.org/debian bullseye main\ndeb http://deb.debian.org/debian trixie main\n');
      const values = options.filter((_, i) => i % 2 === 1);
      assert.ok(values.includes(`Dir::Etc::SourceList=${path.join(dir, 'sources.list')}`));
      assert.ok(values.includes('Dir::Etc::SourceParts=/dev/null'));
      assert.ok(values.includes(`Dir::State::Lists=${path.join(dir, 'lists')}`));
      assert.ok(values.includes(`Dir::Cache=${path.join(dir, 'cache')}`));
      assert.ok(options.every((o, i) => i % 2 === 1 || o === '-o'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kernels: initramfs', () => {
  it('writes a newc archive that reads back: files, modes, symlinks, device nodes', () => {
    const archive = writeCpio([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/x', data: Buffer.from('abc'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'chardev', path: 'console', major: 5, minor: 1 },
    ]);
    assert.equal(archive.length % 4, 0);
    const entries = listCpio(archive);
    assert.deepEqual(entries.map((e) => [e.path, e.mode.toString(8)]), [['bin', '40755'], ['bin/x', '100755'], ['bin/sh', '120777'], ['console', '20600']]);
    assert.equal(entries[1].data.toString(), 'abc');
    assert.equal(entries[2].data.toString(), 'busybox');
    assert.throws(() => writeCpio([{ kind: 'file', path: '../etc/x', data: Buffer.alloc(0) }]), /bad initramfs path/);
  });

  it('reads ldd output, the loader included', () => {
    const text = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibelf.so.1 => /lib/x86_64-linux-gnu/libelf.so.1 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n';
    assert.deepEqual(parseLdd(text), ['/lib/x86_64-linux-gnu/libelf.so.1', '/lib64/ld-linux-x86-64.so.2']);
  });

  it('carries the tools, the init and the nonce; no jobs (they come over the job port)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-initrd-'));
    try {
      const tool = path.join(dir, 'tool');
      fs.writeFileSync(tool, 'x');
      const archive = buildInitramfs({ busybox: tool, bpftool: tool, libraries: [tool] }, 'n0nce');
      const entries = new Map(listCpio(archive).map((e) => [e.path, e]));
      assert.equal(entries.get('etc/ccp-marker')!.data.toString(), markerPrefix('n0nce'));
      assert.equal(entries.get('init')!.mode & 0o777, 0o755);
      assert.match(entries.get('init')!.data.toString(), /while read -r word id alen ilen <&4/);
      assert.ok(entries.has(tool.slice(1)), 'libraries at their own path');
      assert.ok(entries.has('dev/console'));
      assert.ok(![...entries.keys()].some((k) => k.startsWith('jobs')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a job frame: a header line with exact byte counts, the shell-quoted argv, then the raw standard input', () => {
    const argv = ['sh', '-c', 'echo "$1"', 'sh', "it's $(reboot) `x`\nline"];
    const input = Buffer.from([0, 1, 10, 13, 0x1b, 0xff, 0x11, 0x13]);
    const frame = encodeJobFrame('7', { argv, input });
    const newline = frame.indexOf(10);
    const [word, id, alen, ilen] = frame.subarray(0, newline).toString('latin1').split(' ');
    assert.deepEqual([word, id], ['job', '7']);
    const quoted = frame.subarray(newline + 1, newline + 1 + Number(alen));
    assert.equal(quoted.toString('utf8'), shellQuote(argv));
    assert.deepEqual(frame.subarray(newline + 1 + Number(alen)), input);
    assert.equal(Number(ilen), input.length);
    assert.equal(encodeJobFrame('8', { argv: ['true'] }).toString('latin1'), `job 8 ${shellQuote(['true']).length} 0\n${shellQuote(['true'])}`);
    assert.throws(() => encodeJobFrame('9', { argv: ['a\0b'] }), /NUL/);
  });
});

describe('kernels: the job port', () => {
  function collect(chunks: string[], prefix = '@@ccp-abc') {
    const events: string[] = [];
    const outputs = new Map<string, string>();
    let current = '';
    const stream = new MarkerStream(prefix, {
      onBoot: (release) => events.push(`boot ${release}`),
      onBegin: (id, pid) => {
        current = id;
        outputs.set(id, '');
        events.push(`begin ${id} ${pid}`);
      },
      onOutput: (text) => outputs.set(current, (outputs.get(current) ?? '') + text),
      onEnd: (id, status) => events.push(`end ${id} ${status}`),
    });
    for (const c of chunks) stream.push(c);
    stream.end();
    return { events, outputs };
  }

  it('splits markers from output in any chunking, keeps output exact, drops the init\'s own newline', () => {
    const text = '\n@@ccp-abc boot 6.1.0\n@@ccp-abc begin 0000 42\nline 1\nline 2\n\n@@ccp-abc end 0000 0\n@@ccp-abc begin 0001 43\nno newline\n@@ccp-abc end 0001 255\n';
    for (const size of [1, 3, 7, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const { events, outputs } = collect(chunks);
      assert.deepEqual(events, ['boot 6.1.0', 'begin 0000 42', 'end 0000 0', 'begin 0001 43', 'end 0001 255']);
      assert.equal(outputs.get('0000'), 'line 1\nline 2\n');
      assert.equal(outputs.get('0001'), 'no newline');
    }
  });

  it('a job cannot fake a marker without the nonce; a job cut off keeps its last newline', () => {
    const { events, outputs } = collect(['@@ccp-abc begin 0000 1\n@@ccp-xyz end 0000 0\n@@ccp-abcd end 0000 0\nsleeping\n']);
    assert.deepEqual(events, ['begin 0000 1']);
    assert.equal(outputs.get('0000'), '@@ccp-xyz end 0000 0\n@@ccp-abcd end 0000 0\nsleeping\n');
  });
});

describe('kernels: QEMU command line and target', () => {
  it('no devices but the serial ports; TCG or KVM; the console and the job port apart', () => {
    const argv = qemuArgv('qemu-system-x86_64', 'tcg', '/k/vmlinuz', '/t/initrd.cpio', '/t/console.log', 512);
    assert.deepEqual(argv.slice(0, 5), ['qemu-system-x86_64', '-accel', 'tcg', '-m', '512']);
    for (const flag of ['-nographic', '-nodefaults', '-no-reboot']) assert.ok(argv.includes(flag), flag);
    assert.deepEqual(argv.filter((_, i) => argv[i - 1] === '-serial'), ['file:/t/console.log', 'stdio']);
    assert.match(argv[argv.indexOf('-append') + 1], /console=ttyS0 .*panic=-1 .*rdinit=\/init/);
    assert.ok(qemuArgv('q', 'kvm', 'k', 'i', 'c', 256).includes('host'));
  });

  it('a kernel target: remote-like, its own bpffs and bpftool; a cleanup run needs no boot; bad argv refused', async () => {
    const target = new KernelTarget({ kernel: { name: '6.1', version: '6.1.176', vmlinuz: '/nonexistent' } });
    assert.equal(target.name, 'kernel-6.1');
    assert.equal(target.isRemote, true);
    assert.equal(target.bpffsRoot, '/sys/fs/bpf');
    assert.equal(target.label, 'kernel 6.1 (6.1.176)');
    const rm = await target.run(['rm', '-rf', '--', '/sys/fs/bpf/x']);
    assert.equal(rm.exitCode, 0);
    assert.equal(target.boots.length, 0);
    const bad = await target.run(['-x']);
    assert.equal(bad.spawnError?.code, 'EINVAL');
    await target.dispose();
    assert.match((await target.run(['true'])).spawnError!.message, /disposed/);
  });
});
