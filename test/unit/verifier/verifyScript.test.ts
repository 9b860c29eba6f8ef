// The verify script's contract: its argv round-trips through verifyScriptPlan, its own stderr lines are read back
// (and kept out of messages), and, run by a real sh, it refuses a directory that is not a bpffs before making
// anything, passing hostile names through as data.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readStatFs, statFsArgv } from '../../../src/core/target/bpffs';
import { readVerifyScriptReport, verifyScriptArgv, verifyScriptPlan, withoutScriptLines } from '../../../src/core/verify/verifyScript';

describe('verify script', () => {
  const plan = {
    bpffsRoot: '/sys/fs/bpf',
    pinDir: '/sys/fs/bpf/cilium-custom-verify-1-ab',
    uploadDir: '/tmp/cilium-custom-verify-1-ab',
    uploadName: "it's $(touch x); `y`\n.o",
    bpftoolArgv: ['bpftool', '-d', 'prog', 'load', '/tmp/cilium-custom-verify-1-ab/o.o', '/sys/fs/bpf/cilium-custom-verify-1-ab/prog'],
  };

  it('round-trips its plan through the argv', () => {
    assert.deepEqual(verifyScriptPlan(verifyScriptArgv(plan)), plan);
    const local = { bpffsRoot: '/b', pinDir: '/b/cilium-custom-verify-2-cd', bpftoolArgv: ['bpftool', 'prog', 'load', '/x.o'] };
    assert.deepEqual(verifyScriptPlan(verifyScriptArgv(local)), local);
  });

  it('is not confused with other argvs', () => {
    assert.equal(verifyScriptPlan(['sh', '-c', 'echo hi', 'cilium-custom-verify', 'a', 'b', 'c', 'd']), undefined);
    assert.equal(verifyScriptPlan(['bpftool', 'prog', 'load']), undefined);
    assert.equal(verifyScriptPlan(verifyScriptArgv(plan).slice(0, 7)), undefined);
  });

  it('reads the failed step and what it left, and keeps its lines out of bpftool text', () => {
    const stderr = [
      'libbpf: loading object',
      '@cilium-custom-verify failed pins: mkdir: cannot create directory: Permission denied',
      '@cilium-custom-verify left /sys/fs/bpf/cilium-custom-verify-1-ab',
      '@cilium-custom-verify left /tmp/cilium-custom-verify-1-ab',
      'cilium-custom-verify: 24: bpftool: not found',
    ].join('\n');
    assert.deepEqual(readVerifyScriptReport(stderr), {
      failed: { step: 'pins', detail: 'mkdir: cannot create directory: Permission denied' },
      left: ['/sys/fs/bpf/cilium-custom-verify-1-ab', '/tmp/cilium-custom-verify-1-ab'],
    });
    assert.deepEqual(readVerifyScriptReport('plain verifier log\n'), { left: [] });
    assert.equal(withoutScriptLines(stderr), 'libbpf: loading object\ncilium-custom-verify: 24: bpftool: not found');
  });

  it('run by sh on a directory that is not a bpffs: says so, makes nothing, runs nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-verify-script-'));
    try {
      const marker = path.join(dir, 'ran');
      const argv = verifyScriptArgv({
        bpffsRoot: dir,
        pinDir: path.join(dir, 'pins'),
        uploadDir: path.join(dir, 'upload'),
        uploadName: plan.uploadName,
        bpftoolArgv: ['touch', marker],
      });
      const run = spawnSync(argv[0], argv.slice(1), { input: 'object bytes', encoding: 'utf8' });
      assert.equal(run.status, 3, run.stderr);
      assert.match(readVerifyScriptReport(run.stderr).failed?.step ?? '', /^bpffs$/);
      assert.deepEqual(fs.readdirSync(dir), [], 'no pins, no upload, no marker');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bpffs type check', () => {
  it('knows a bpffs by its magic, from GNU stat and from busybox stat', () => {
    assert.deepEqual(readStatFs('cafe4a11 bpf_fs\n'), { isBpffs: true, typeName: 'bpf_fs' });
    assert.deepEqual(readStatFs('cafe4a11 UNKNOWN\n'), { isBpffs: true, typeName: 'UNKNOWN' });
    assert.deepEqual(readStatFs('ef53 ext2/ext3\n'), { isBpffs: false, typeName: 'ext2/ext3' });
    assert.deepEqual(readStatFs(''), { isBpffs: false, typeName: '' });
    assert.deepEqual(statFsArgv('-x'), ['stat', '-f', '-c', '%t %T', '--', '-x']);
  });
});
