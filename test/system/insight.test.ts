// "See what the verifier saw": a header with a bounded loop (a known hot line) and a known rejection (a map-lookup
// pointer moved through the stack, then dereferenced unchecked), verified by the real kernel with
// `verify --detail --json`, and its level-2 log explained again with `explain --detail --json`. Checked: the path's
// last line, the failing register's type, its chain of writes back to the lookup, and the hottest line.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyInto, expectation, HEADER_FIXTURES, REPO, tempDir } from './helpers/fixtures';
import { requireBpf } from './helpers/require';

const CLI = path.join(REPO, 'dist', 'cli.js');
const FIXTURE = path.join(HEADER_FIXTURES, 'hot_loop_null.h');

interface DetailJson {
  verdict: string;
  error: { message: string; insn: number; file: string; line: number } | null;
  stats: { insnsProcessed: number } | null;
  path: { file: string; line: number; insns: number[] }[];
  lines: { file: string; line: number; processed: number; distinct: number }[];
  registers: Record<string, { type: string; text: string }> | null;
  origin: { insn: number; file: string | null; line: number | null; text: string }[] | null;
}

function checkDetail(json: DetailJson, header: string): void {
  const errorLine = expectation(FIXTURE, 'verifier').line!;
  const hotLine = expectation(FIXTURE, 'hot-line').line!;
  assert.equal(json.verdict, 'rejected');
  assert.ok(json.error);
  assert.equal(json.error.line, errorLine);
  assert.deepEqual(Object.keys(json), ['verdict', 'error', 'stats', 'truncated', 'path', 'lines', 'registers', 'origin']);

  // The path ends on the failing line, at the failing instruction, and starts at instruction 0.
  const last = json.path.at(-1)!;
  assert.equal(last.file, header);
  assert.equal(last.line, errorLine);
  assert.equal(last.insns.at(-1), json.error.insn);
  assert.equal(json.path[0]!.insns[0], 0);

  // The failing register and its type.
  const r1 = json.registers?.R1;
  assert.ok(r1, `R1 in ${JSON.stringify(json.registers)}`);
  assert.equal(r1.type, 'map_value_or_null');

  // Its chain of writes: the fill from the stack, the spill, the lookup; each on its own source line.
  const origin = json.origin!;
  assert.ok(origin && origin.length >= 3, JSON.stringify(origin));
  assert.match(origin[0]!.text, /^r1 = \*\(u64 \*\)\(r10 -\d+\)$/, 'a fill from the stack');
  assert.match(origin[1]!.text, /^\*\(u64 \*\)\(r10 -\d+\) = r0$/, 'the spill of r0');
  assert.match(origin.at(-1)!.text, /^call bpf_map_lookup_elem#1$/, 'back to the lookup');
  const src = fs.readFileSync(header, 'utf8').split('\n');
  assert.match(src[origin.at(-1)!.line! - 1]!, /map_lookup_elem/);
  assert.ok(origin.every((o) => o.insn < json.error!.insn));

  // The loop body is the hottest line: every iteration ran it.
  const hottest = json.lines[0]!;
  assert.equal(hottest.file, header);
  assert.equal(hottest.line, hotLine);
  // 48 iterations of the loop body (its first instruction, the loop entry, runs once).
  assert.ok(hottest.processed >= 48 * (hottest.distinct - 1), `${hottest.processed} for ${hottest.distinct} instructions`);
  const total = json.lines.reduce((sum, l) => sum + l.processed, 0);
  assert.ok(total <= json.stats!.insnsProcessed && total >= json.stats!.insnsProcessed * 0.9, `${total} of ${json.stats!.insnsProcessed}`);
}

describe('verify --detail and explain --detail (real kernel)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;

  beforeEach(function () {
    requireBpf(this);
    tmp = tempDir('cilium-custom-insight-');
  });

  afterEach(() => tmp?.remove());

  it('verify --detail --json: the path, the failing register, its origin and the hottest line', () => {
    const header = copyInto(FIXTURE, tmp.dir);
    const logFile = path.join(tmp.dir, 'verifier.log');
    const run = spawnSync(process.execPath, [CLI, 'verify', header, '--detail', '--json', '--log', logFile], { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stderr);
    checkDetail(JSON.parse(run.stdout) as DetailJson, header);

    // The same log, explained afterwards from the file.
    const explained = spawnSync(process.execPath, [CLI, 'explain', logFile, '--source', tmp.dir, '--detail', '--json'], { encoding: 'utf8' });
    assert.equal(explained.status, 0, explained.stderr);
    checkDetail(JSON.parse(explained.stdout) as DetailJson, header);

    // Without --detail the JSON keeps its shape.
    const plain = spawnSync(process.execPath, [CLI, 'explain', logFile, '--source', tmp.dir, '--json'], { encoding: 'utf8' });
    assert.deepEqual(Object.keys(JSON.parse(plain.stdout)), ['verdict', 'error', 'stats', 'truncated']);

    // Text: the hottest line and the origin chain are printed.
    const text = spawnSync(process.execPath, [CLI, 'explain', logFile, '--source', tmp.dir, '--detail'], { encoding: 'utf8' });
    assert.match(text.stdout, /hottest lines/);
    assert.match(text.stdout, /call bpf_map_lookup_elem#1/);
  });

  it('--detail does not combine with --errors-only (exit 2)', () => {
    const header = copyInto(FIXTURE, tmp.dir);
    const run = spawnSync(process.execPath, [CLI, 'verify', header, '--detail', '--errors-only'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--detail/);
  });
});

// A level-2 log of a loop the verifier walked until it gave up, generated to CCP_INSIGHT_BYTES (default 256 MiB) and
// streamed through the detail reader in 64 KiB chunks: every processed instruction is counted on its line, the path
// is kept only as a window, and the peak RSS stays bounded (CCP_INSIGHT_MAX_RSS_MB, default 400).
describe('--detail on a huge level-2 log in bounded memory (system)', function () {
  this.timeout(300_000);
  const SIZE = Number(process.env.CCP_INSIGHT_BYTES ?? 256 * 1024 * 1024);
  const MAX_RSS_MB = Number(process.env.CCP_INSIGHT_MAX_RSS_MB ?? 400);
  let tmp: ReturnType<typeof tempDir> | undefined;
  after(() => tmp?.remove());

  it(`streams ${Math.round(SIZE / 2 ** 20)} MiB: per-line counts exact, peak RSS < ${MAX_RSS_MB} MB`, async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DetailedLogReader } = require('../../src/core/verifier/insight') as typeof import('../../src/core/verifier/insight');
    tmp = tempDir('cilium-custom-insight-big-');
    const file = path.join(tmp.dir, 'loop.log');
    const fd = fs.openSync(file, 'w');
    const head = ['func#0 @0', '0: R1=ctx() R10=fp0', '; int acc = 0; @ loop.c:9', '0: (b7) r0 = 0                        ; R0=0', '1: (b7) r2 = 0                        ; R2=0'];
    fs.writeSync(fd, `${head.join('\n')}\n`);
    let written = 0;
    let iterations = 0;
    const block: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const r2 = `0x${(iterations + i).toString(16)}`;
      block.push(
        '; acc = acc * 31 + i; @ loop.c:12',
        '2: (27) r1 *= 31                      ; R1=scalar()',
        '; asm volatile("" : "+r"(acc)); @ loop.c:13',
        `3: (bf) r0 = r2                       ; R0=${r2} R2=${r2}`,
        '4: (0f) r0 += r1                      ; R0=scalar() R1=scalar()',
        '; for (i = 0; i < 5000000; i++) { @ loop.c:11',
        `5: (07) r2 += 1                       ; R2=${r2}`,
        `6: (bf) r1 = r0                       ; R0=scalar(id=${i}) R1=scalar(id=${i})`,
        `7: (55) if r2 != 0x4c4b40 goto pc-6   ; R2=${r2}`,
      );
    }
    const chunk = Buffer.from(`${block.join('\n')}\n`);
    while (written + chunk.length < SIZE) {
      written += fs.writeSync(fd, chunk);
      iterations += 2000;
    }
    fs.writeSync(fd, 'BPF program is too large. Processed 1000001 insn\nprocessed 1000001 insns (limit 1000000) max_states_per_insn 4 total_states 9805 peak_states 9805 mark_read 0\n');
    fs.closeSync(fd);

    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let n = 0;
    const started = Date.now();
    const reader = new DetailedLogReader({ detail: true });
    for await (const c of fs.createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
      reader.push(c);
      if ((++n & 15) === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const { log, insight } = reader.end();
    peak = Math.max(peak, process.memoryUsage().rss);
    const ms = Date.now() - started;
    console.log(`      ${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB in ${ms} ms, RSS ${(before / 2 ** 20).toFixed(0)} -> peak ${(peak / 2 ** 20).toFixed(0)} MiB`);

    assert.equal(log.error?.message, 'BPF program is too large. Processed 1000001 insn');
    assert.ok(insight);
    const byLine = new Map(insight.lines.map((l) => [l.line, l.processed]));
    assert.equal(byLine.get(12), iterations);
    assert.equal(byLine.get(13), iterations * 2);
    assert.equal(byLine.get(11), iterations * 3);
    assert.equal(byLine.get(9), 2);
    assert.equal(insight.lines[0]!.line, 11, 'the loop condition is the hottest line');
    assert.equal(insight.insnsSeen, 2 + iterations * 6);
    assert.ok(insight.pathCut, 'the path is longer than the window');
    assert.ok(peak / 2 ** 20 < MAX_RSS_MB, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
  });
});
