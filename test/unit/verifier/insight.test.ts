// The insight model (src/core/verifier/insight) on the corpus's level-2 logs: per-line counts, the path to the
// error, the register state there, and the chain of writes behind the failing register; streaming in any chunking
// gives the same answer, and the verdict is exactly the parser's.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from '../../../src/core/process';
import { objectInsnLines } from '../../../src/core/verifier/insight/objectLines';
import { parseVerifierLog } from '../../../src/core/verifier/parser';
import { DetailedLogReader, describeValue, insnEffect, readDetailedLog, typeOf, type InsightReport } from '../../../src/core/verifier/insight';
import { loadCorpus, rng } from './corpus';

const corpus = loadCorpus();
const byName = (prefix: string) => {
  const c = corpus.find((x) => x.name.startsWith(prefix));
  if (!c) throw new Error(`corpus log ${prefix} missing`);
  return c;
};

function insightOf(prefix: string): InsightReport {
  const c = byName(prefix);
  const r = readDetailedLog(c.text);
  assert.ok(r.insight, `${prefix}: no insight`);
  return r.insight;
}

describe('verifier insight (level-2 logs)', () => {
  for (const c of corpus) {
    it(`${c.name}: the verdict is the parser's, and the per-line counts add up`, () => {
      const r = readDetailedLog(c.text);
      assert.deepEqual(r.log, parseVerifierLog(c.text));
      if (!r.insight) return;
      const i = r.insight;
      const perLine = i.lines.reduce((s, l) => s + l.processed, 0);
      assert.equal(perLine + i.unattributed, i.insnsSeen);
      assert.ok(i.lines.every((l, k) => k === 0 || i.lines[k - 1]!.processed >= l.processed), 'hottest first');
      if (r.log.stats?.insnsProcessed != null && !r.log.truncated) assert.ok(i.insnsSeen <= r.log.stats.insnsProcessed);
    });
  }

  it('map value or null (01): R0 is map_value_or_null, made by the lookup; the path ends on the failing line', () => {
    const c = byName('01-');
    const i = insightOf('01-');
    assert.equal(i.failingRegister, 'R0');
    assert.equal(i.registers?.R0?.type, 'map_value_or_null');
    assert.deepEqual(i.origin?.map((o) => o.text), ['call bpf_map_lookup_elem#1']);
    const last = i.path.at(-1)!;
    assert.equal(last.line, c.sidecar.source_line);
    assert.equal(last.insns.at(-1), c.sidecar.failing_insn_idx);
  });

  it('subprogram (16): the failing path is the second call (the popped branch), not the first', () => {
    const i = insightOf('16-');
    assert.equal(i.registers?.R0?.type, 'map_value_or_null');
    assert.equal(i.origin?.[0]?.insn, 12);
    // The path: entry, the branch to 4 (popped), the call, the subprogram up to the failing line.
    const insns = i.path.flatMap((r) => r.insns);
    assert.deepEqual(insns.slice(0, 3), [0, 1, 2]);
    assert.ok(!insns.includes(3), `insn 3 was on the other branch: ${insns.join(',')}`);
    assert.equal(insns.at(-1), 14);
  });

  it('use after release (12): the chain goes back through two moves to the socket lookup', () => {
    const i = insightOf('12-');
    assert.deepEqual(i.origin?.map((o) => o.text), ['r1 = r7', 'r7 = r0', 'call bpf_sk_lookup_udp#85']);
  });

  it('pointer math (23): the offset register, back through shifts to its load', () => {
    const i = insightOf('23-');
    assert.equal(i.failingRegister, 'R1');
    assert.equal(i.origin?.at(-1)?.text, 'r1 = *(u32 *)(r6 +8)');
  });

  it('subprogram arguments (58): the chain crosses the call into the caller', () => {
    const i = insightOf('58-');
    assert.deepEqual(i.origin?.map((o) => o.insn), [10, 9, 1, 0]);
  });

  it('a loop (07): the per-iteration increment is named once in the chain, the hot lines are the loop', () => {
    const i = insightOf('07-');
    const hot = i.lines[0]!;
    assert.ok(hot.processed > hot.distinct * 5, JSON.stringify(hot));
  });

  it('plain `; source` lines (kernels < 6.8) are found by text in the sources', () => {
    const c = byName('04-');
    const plain = c.text.replace(/^(;.*?) @ \S+:\d+$/gm, '$1');
    const withAt = readDetailedLog(c.text).insight!;
    const r = readDetailedLog(plain, { sources: [{ name: c.source!.name, content: c.source!.content }] });
    const lines = (x: InsightReport) => x.lines.map((l) => `${l.line}:${l.processed}`).sort();
    assert.deepEqual(lines(r.insight!), lines(withAt));
    assert.equal(r.insight!.path.at(-1)?.line, withAt.path.at(-1)?.line);
  });

  it('no line info at all (4.x, no BTF): the object line table places every instruction', async function () {
    this.timeout(60_000);
    if ((await runProcess(['clang', '--version'])).exitCode !== 0) {
      if (process.env.CI === 'true') assert.fail('clang is required in CI');
      this.skip();
    }
    const c = byName('01-');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-objline-'));
    try {
      const includes = ['x86_64-linux-gnu', 'aarch64-linux-gnu'].map((d) => path.join('/usr/include', d)).filter((d) => fs.existsSync(d)).flatMap((d) => ['-I', d]);
      const obj = path.join(tmp, 'p.o');
      const build = await runProcess(['clang', '-O2', '-g', '--target=bpf', ...includes, '-c', path.join(path.dirname(c.logPath), c.source!.name), '-o', obj]);
      assert.equal(build.exitCode, 0, build.stderr);
      const insnLine = await objectInsnLines(obj);
      assert.ok(insnLine);
      const bare = c.text.split('\n').filter((l) => !l.startsWith(';')).join('\n');
      const r = readDetailedLog(bare, { insnLine });
      assert.equal(r.insight?.path.at(-1)?.line, c.sidecar.source_line);
      // Every instruction is placed (the object gives compiler-generated ones the line before them).
      assert.equal(r.insight!.unattributed, 0);
      assert.equal(r.insight!.lines.reduce((sum, l) => sum + l.processed, 0), r.insight!.insnsSeen);
      assert.deepEqual(r.insight!.lines.find((l) => l.line === c.sidecar.source_line), { file: c.source!.name, line: c.sidecar.source_line, processed: 1, distinct: 1 });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('streams: any chunking gives the same insight', () => {
    for (const prefix of ['16-', '07-', '12-']) {
      const c = byName(prefix);
      const whole = readDetailedLog(c.text);
      const next = rng(prefix.length * 7919);
      for (let round = 0; round < 5; round++) {
        const reader = new DetailedLogReader({ detail: true });
        const bytes = Buffer.from(c.text);
        for (let at = 0; at < bytes.length; ) {
          const n = 1 + Math.floor(next() * 300);
          reader.push(bytes.subarray(at, at + n));
          at += n;
        }
        assert.deepEqual(reader.end(), whole, `${prefix} round ${round}`);
      }
    }
  });

  it('never throws on hostile input', () => {
    for (const text of ['from 5 to 6: R1=', '5: (bf) r1 = r2 ; R1_w=', '9999999999: (95) exit', 'from x to y', '(\n'.repeat(1000), '; @ :0\n0: (85) call pc+0\n'.repeat(50)]) {
      assert.doesNotThrow(() => readDetailedLog(text));
    }
  });
});

describe('instruction effects', () => {
  const cases: [string, ReturnType<typeof insnEffect>][] = [
    ['r1 = r7', { kind: 'move', dst: 'r1', src: 'r7' }],
    ['w1 = w2', { kind: 'move', dst: 'r1', src: 'r2' }],
    ['r1 = (s8)r2', { kind: 'move', dst: 'r1', src: 'r2' }],
    ['r1 = *(u64 *)(r10 -16)', { kind: 'load', dst: 'r1', base: 'r10', off: -16 }],
    ['*(u64 *)(r10 -16) = r0', { kind: 'store', base: 'r10', off: -16, src: 'r0' }],
    ['*(u32 *)(r10 -4) = 0', { kind: 'store', base: 'r10', off: -4 }],
    ['lock *(u64 *)(r0 +0) += r1', { kind: 'store', base: 'r0', off: 0, src: 'r1' }],
    ['r2 += -4', { kind: 'alu', dst: 'r2' }],
    ['r7 ^= r4', { kind: 'alu', dst: 'r7', src: 'r4' }],
    ['r1 = 0xffff888118246000', { kind: 'const', dst: 'r1' }],
    ['r1 = map[id:5]', { kind: 'const', dst: 'r1' }],
    ['call bpf_map_lookup_elem#1', { kind: 'call', dst: 'r0', helper: 'bpf_map_lookup_elem' }],
    ['call pc+7', { kind: 'subcall' }],
    ['if r2 > 0x3e8 goto pc+1', { kind: 'jump', conditional: true }],
    ['goto pc-3', { kind: 'jump' }],
    ['exit', { kind: 'exit' }],
  ];
  for (const [text, effect] of cases) it(text, () => assert.deepEqual(insnEffect(text), effect));
});

describe('register values in plain words', () => {
  it('types', () => {
    assert.equal(typeOf('map_value_or_null(id=1,map=m,ks=4,vs=8)'), 'map_value_or_null');
    assert.equal(typeOf('8'), 'scalar');
    assert.equal(typeOf('P0'), 'scalar');
    assert.equal(typeOf('inv(id=0,umax_value=255)'), 'scalar');
    assert.equal(typeOf('fp-4'), 'fp');
    assert.equal(typeOf('mmmmmmmm'), 'stack');
  });
  it('words', () => {
    assert.match(describeValue('map_value_or_null(id=52,map=hot_loop_map,ks=4,vs=8)'), /^may be NULL: check it before use/);
    assert.equal(describeValue('scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))'), 'a number between 0 and 255');
    assert.equal(describeValue('scalar(umax=1000)'), 'a number between 0 and 1000');
    assert.equal(describeValue('inv(id=0,umax_value=255,var_off=(0x0; 0xff))'), 'a number between 0 and 255');
    assert.equal(describeValue('scalar()'), 'a number the verifier knows nothing about (any value)');
    assert.equal(describeValue('48'), 'the number 48');
    assert.match(describeValue('pkt(off=34,r=0)'), /not checked against data_end/);
    assert.match(describeValue('pkt(off=34,r=34)'), /checked for 34 bytes/);
    assert.equal(describeValue('fp-4'), 'a pointer to the stack at fp-4');
  });
});
