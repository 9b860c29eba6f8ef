// The language server's quick fixes produce a program the kernel takes: the faulty tail-call example with every
// quick fix applied builds with the SDK Makefile and loads with bpftool (type classifier). Pins are removed.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeText } from '../../src/server/analyzeText';
import { FIXTURES, SDK_DIR, tempDir } from './helpers/fixtures';
import { requireBpf } from './helpers/require';
import { applyEdits } from '../unit/server/helpers';

describe('language server quick fixes (real clang, bpftool and kernel)', function () {
  this.timeout(120_000);

  it('the quick-fixed faulty example builds and passes the verifier', async function () {
    requireBpf(this);
    let text = fs.readFileSync(path.join(FIXTURES, 'server', 'faulty_tail_call.h'), 'utf8');
    // One fix at a time, re-analysing in between (fixes of one map share their edit).
    for (let round = 0; round < 10; round++) {
      const fix = (await analyzeText(text)).find((f) => f.fix)?.fix;
      if (!fix) break;
      text = applyEdits(text, fix.edits);
    }
    assert.match(text, /if \(!fc \|\| !bytes\)\n\t\treturn faulty_verdict\(ctx\);/);
    assert.match(text, /__uint\(max_entries, 2\);/);
    assert.match(text, /\t__u32 identity;\n\t__u32 pad1;\n\t__u64 len;/);
    assert.match(text, /memset\(fc, 0, sizeof\(\*fc\)\);/);
    const tmp = tempDir('cilium-custom-ls-fixed-');
    const pin = `/sys/fs/bpf/cilium-custom-ls-test-${process.pid}`;
    const maps = `${pin}-maps`;
    try {
      const header = path.join(tmp.dir, 'faulty_fixed.h');
      fs.writeFileSync(header, text);
      execFileSync('make', ['-s', '-C', SDK_DIR, `BPF_CUSTOM_PROG_FILE=${header}`], { stdio: 'pipe' });
      const object = path.join(tmp.dir, 'faulty_fixed.o');
      assert.ok(fs.existsSync(object));
      execFileSync('bpftool', ['prog', 'load', object, pin, 'type', 'classifier', 'pinmaps', maps], { stdio: 'pipe' });
      assert.ok(fs.existsSync(pin), 'the program is pinned');
      assert.deepEqual(fs.readdirSync(maps).sort(), ['faulty_bytes', 'faulty_ctx_map', 'faulty_progs']);
    } finally {
      fs.rmSync(pin, { force: true });
      fs.rmSync(maps, { recursive: true, force: true });
      tmp.remove();
    }
    assert.ok(!fs.existsSync(pin) && !fs.existsSync(maps), 'pins removed');
  });

  it('faulty_stages.h: libbpf refuses the undefined stage; quick-fixed, it builds and passes the verifier', async function () {
    requireBpf(this);
    const faulty = fs.readFileSync(path.join(FIXTURES, 'server', 'faulty_stages.h'), 'utf8');
    let text = faulty;
    for (let round = 0; round < 5; round++) {
      const fix = (await analyzeText(text, 'faulty_stages')).find((f) => f.fix)?.fix;
      if (!fix) break;
      text = applyEdits(text, fix.edits);
    }
    assert.match(text, /int stages_two\(struct __ctx_buff \*ctx\)\n\{/);
    const tmp = tempDir('cilium-custom-ls-stages-');
    const pin = `/sys/fs/bpf/cilium-custom-ls-stages-${process.pid}`;
    const maps = `${pin}-maps`;
    const load = (source: string): void => {
      const header = path.join(tmp.dir, 'faulty_stages.h');
      fs.writeFileSync(header, source);
      execFileSync('make', ['-s', '-C', SDK_DIR, `BPF_CUSTOM_PROG_FILE=${header}`], { stdio: 'pipe' });
      execFileSync('bpftool', ['prog', 'load', path.join(tmp.dir, 'faulty_stages.o'), pin, 'type', 'classifier', 'pinmaps', maps], { stdio: 'pipe', encoding: 'utf8' });
    };
    try {
      assert.throws(() => load(faulty), (e: { stderr?: string }) => /failed to find BTF for extern 'stages_two'/.test(e.stderr ?? ''), 'what the lint says, at load time');
      fs.rmSync(maps, { recursive: true, force: true });
      load(text);
      assert.ok(fs.existsSync(pin), 'the program is pinned');
      assert.deepEqual(fs.readdirSync(maps), ['stages_progs']);
    } finally {
      fs.rmSync(pin, { force: true });
      fs.rmSync(maps, { recursive: true, force: true });
      tmp.remove();
    }
  });
});
