// Time-bounded fuzzing of every parser that reads another program's output: the verifier-log parser (streaming,
// random chunking, invalid UTF-8) and the bpftool / cilium JSON parsers. No throw, no call over its time budget, and
// no retained heap growth beyond a small multiple of the input. CCP_FUZZ_MS sets the time per parser (default 5000),
// CCP_FUZZ_SEED the seed; a failure message always names the seed and iteration to replay.
// (neverThrows.test.ts covers fixed-count random/mutated logs through parseVerifierLog; this adds the JSON parsers,
// the streaming push() path with random chunk boundaries, the time budget and the memory bound.)
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { VerifierLogParser } from '../../../src/core/verifier/parser';
import {
  bpftoolError,
  littleEndian,
  parseDumpEntry,
  parseHexBytes,
  parseMapDump,
  parseMapShow,
  parseProgArrayDump,
  parseProgShow,
} from '../../../src/core/maps/bpftoolJson';
import { JsonArrayStream } from '../../../src/core/maps/jsonArrayStream';
import { parseCiliumEndpoints, parseCiliumVersion } from '../../../src/core/endpoints/cilium';
import { loadCorpus, rng } from '../verifier/corpus';

const FUZZ_MS = Number(process.env.CCP_FUZZ_MS ?? 5000);
const SEED = Number(process.env.CCP_FUZZ_SEED ?? 0x5eed1e55);
const MAP_FIXTURES = path.resolve(__dirname, '../../../../test/unit/maps/fixtures');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)];

const KEYS = ['id', 'type', 'name', 'key', 'value', 'values', 'formatted', 'cpu', 'error', 'pinned', 'bytes_key', 'bytes_value', 'max_entries', 'flags', 'btf_id', 'tag', 'map_ids', 'status', 'identity', 'labels', 'networking', 'addressing', 'ipv4', 'ipv6', 'state', 'external-identifiers', 'pod-name', 'k8s-namespace', 'Version', 'version'];

function randomJson(rand: Rand, depth = 0): unknown {
  const r = rand();
  if (depth > 6 || r < 0.35) {
    return pick(rand, [
      () => Math.floor(rand() * 2 ** 32) - 2 ** 31,
      () => rand() * 1e20,
      () => `0x${Math.floor(rand() * 256).toString(16).padStart(2, '0')}`,
      () => pick(rand, ['', 'hash', 'prog_array', 'percpu_hash', 'sched_cls', '0x', '0xzz', '-1', 'NaN', '\u0000', '\ud800', 'x'.repeat(Math.floor(rand() * 1000))]),
      () => null,
      () => rand() < 0.5,
      () => Number.MAX_SAFE_INTEGER + 2,
    ])();
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 8) }, () => randomJson(rand, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 6); i > 0; i--) o[pick(rand, KEYS)] = randomJson(rand, depth + 1);
  if (rand() < 0.1) o['__proto__'] = { polluted: true };
  return o;
}

/** Replaces random nodes of a real document by random values. */
function mutateJson(rand: Rand, value: unknown, depth = 0): unknown {
  if (rand() < 0.08) return randomJson(rand, depth);
  if (Array.isArray(value)) {
    const out = value.map((v) => mutateJson(rand, v, depth + 1));
    if (rand() < 0.1) out.push(randomJson(rand));
    if (rand() < 0.1) out.splice(Math.floor(rand() * out.length), 1);
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (rand() > 0.05) out[rand() < 0.03 ? pick(rand, KEYS) : k] = mutateJson(rand, v, depth + 1);
    return out;
  }
  return value;
}

/** Byte-level damage to a text: truncation, splices, flipped characters, deep nesting, random bytes. */
function mutateText(rand: Rand, text: string): string {
  switch (Math.floor(rand() * 7)) {
    case 0:
      return text.slice(0, Math.floor(rand() * text.length));
    case 1: {
      const at = Math.floor(rand() * text.length);
      return text.slice(0, at) + pick(rand, ['{', '}', '[', ']', ',', '"', ':', '\\', '\\u12', '\n', '\0', 'null']) + text.slice(at);
    }
    case 2:
      return '['.repeat(Math.floor(rand() * 5000)) + text;
    case 3:
      return Array.from({ length: Math.floor(rand() * 200) }, () => String.fromCharCode(Math.floor(rand() * 0x10000))).join('');
    case 4:
      return `${text}\n${text}`;
    case 5:
      return `Error: ${text.slice(0, 200)}`;
    default: {
      const chars = [...text];
      for (let i = Math.floor(rand() * 10); i > 0; i--) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
      return chars.join('');
    }
  }
}

interface Budget {
  /** Allowed time of one call, from its input size. */
  callMs(bytes: number): number;
}
const BUDGET: Budget = { callMs: (bytes) => 250 + bytes / 10_000 };

/** Runs `step` repeatedly for FUZZ_MS; every call must return within budget; retained heap is checked at the end. */
function fuzzLoop(name: string, step: (rand: Rand, iteration: number) => { bytes: number; run: () => unknown }): void {
  const rand = rng(SEED);
  const baseline = heapAfterGc();
  const deadline = Date.now() + FUZZ_MS;
  let iteration = 0;
  let maxBytes = 0;
  let totalBytes = 0;
  let slowest = 0;
  while (Date.now() < deadline || iteration < 50) {
    const { bytes, run } = step(rand, iteration);
    maxBytes = Math.max(maxBytes, bytes);
    totalBytes += bytes;
    const started = performance.now();
    try {
      run();
    } catch (error) {
      assert.fail(`${name} threw at iteration ${iteration} (CCP_FUZZ_SEED=${SEED}): ${error instanceof Error ? error.stack : String(error)}`);
    }
    const ms = performance.now() - started;
    slowest = Math.max(slowest, ms);
    assert.ok(ms < BUDGET.callMs(bytes), `${name}: iteration ${iteration} took ${ms.toFixed(0)} ms on ${bytes} bytes (CCP_FUZZ_SEED=${SEED})`);
    iteration++;
  }
  const retained = heapAfterGc() - baseline;
  // Nothing is kept between calls: what stays after GC is at most a few of the largest inputs.
  assert.ok(retained < 8 * maxBytes * 2 + 4 * 1024 * 1024, `${name}: heap grew by ${(retained / 1e6).toFixed(1)} MB over ${iteration} calls (largest input ${maxBytes} bytes, CCP_FUZZ_SEED=${SEED})`);
  if (process.env.CCP_FUZZ_VERBOSE) console.log(`      ${name}: ${iteration} calls, ${(totalBytes / 1e6).toFixed(1)} MB, slowest ${slowest.toFixed(1)} ms`);
}

function fixtures(prefix: string): string[] {
  return fs.readdirSync(MAP_FIXTURES).filter((f) => f.startsWith(prefix)).map((f) => fs.readFileSync(path.join(MAP_FIXTURES, f), 'utf8'));
}

/** A JSON text from fixtures (mutated structurally or textually) or from scratch. */
function jsonInput(rand: Rand, seeds: string[]): string {
  const r = rand();
  if (seeds.length > 0 && r < 0.45) {
    const seed = pick(rand, seeds);
    try {
      return JSON.stringify(mutateJson(rand, JSON.parse(seed))) ?? 'null';
    } catch {
      return mutateText(rand, seed);
    }
  }
  if (seeds.length > 0 && r < 0.8) return mutateText(rand, pick(rand, seeds));
  return JSON.stringify(randomJson(rand)) ?? '';
}

const CILIUM_ENDPOINTS = JSON.stringify([
  { id: 42, status: { identity: { id: 12345, labels: ['k8s:app=web'] }, networking: { addressing: [{ ipv4: '10.0.0.1', ipv6: 'fd00::1' }] }, 'external-identifiers': { 'pod-name': 'web-1', 'k8s-namespace': 'default' }, state: 'ready' } },
  { id: 7, status: {} },
]);
const CILIUM_VERSION = 'Client: 1.16.3 abcdef 2024-10-01T00:00:00Z go version go1.22.8 linux/amd64\nDaemon: 1.16.3 abcdef 2024-10-01T00:00:00Z go version go1.22.8 linux/amd64\n';

describe('security: time-bounded fuzzing of the output parsers', function () {
  this.timeout(FUZZ_MS * 4 + 60_000);

  it('VerifierLogParser.push/end: random chunking of mutated corpus logs, random bytes', () => {
    const corpus = loadCorpus();
    fuzzLoop('VerifierLogParser', (rand) => {
      const c = pick(rand, corpus);
      let text = rand() < 0.7 ? mutateText(rand, c.text) : c.text;
      if (rand() < 0.1) text = text.repeat(1 + Math.floor(rand() * 4));
      const bytes = Buffer.from(text);
      if (rand() < 0.3) for (let i = Math.floor(rand() * 20); i > 0; i--) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      return {
        bytes: bytes.length,
        run: () => {
          const p = new VerifierLogParser();
          let at = 0;
          while (at < bytes.length) {
            const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 16 : 65536));
            const chunk = bytes.subarray(at, at + n);
            p.push(rand() < 0.5 ? chunk : chunk.toString('latin1'));
            at += n;
          }
          const log = p.end();
          assert.ok(['accepted', 'rejected', 'unknown'].includes(log.verdict));
          assert.equal(log.verdict === 'rejected', log.error !== null);
          assert.ok(JSON.stringify(log).length < 16 * bytes.length + 1_000_000, 'the model is not larger than a multiple of its input');
        },
      };
    });
  });

  it('VerifierLogParser: invalid UTF-8 before the error line does not stop the parse', () => {
    const c = loadCorpus().find((x) => x.sidecar.final_error_line && !x.sidecar.truncated && x.sidecar.load_succeeded === false)!;
    assert.ok(c, 'a rejected corpus log');
    const garbage = [
      Buffer.from([0xff, 0xfe, 0xfd, 0x0a]),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0x0a]),
      Buffer.from([0xe2, 0x82, 0x0a]),
      Buffer.from([0xf0, 0x90, 0x80]), // a 4-byte sequence cut short, then the log starts on a new line
      Buffer.from('\n'),
      Buffer.from([0xed, 0xa0, 0x80, 0x0a]), // an encoded surrogate
      Buffer.from([0xc0, 0xaf, 0x0a]), // overlong '/'
    ];
    const whole = Buffer.concat([...garbage, Buffer.from(c.text)]);
    for (const chunkSize of [1, 3, 7, 4096, whole.length]) {
      const p = new VerifierLogParser();
      for (let at = 0; at < whole.length; at += chunkSize) p.push(whole.subarray(at, at + chunkSize));
      const log = p.end();
      assert.equal(log.verdict, 'rejected', `chunk ${chunkSize}`);
      assert.ok(log.error?.message.includes(c.sidecar.final_error_line!), `chunk ${chunkSize}: ${log.error?.message}`);
    }
    // Garbage bytes between lines of the log, too.
    const lines = c.text.split('\n');
    const p = new VerifierLogParser();
    for (const line of lines.slice(0, -1)) {
      p.push(Buffer.from([0xff, 0xc3]));
      p.push(Buffer.from(`${line}\n`));
    }
    p.push(lines[lines.length - 1]);
    const log = p.end();
    assert.equal(log.verdict, 'rejected');
  });

  const mapShow = fixtures('map-show');
  const mapDump = fixtures('map-dump');
  const progShow = fixtures('prog-show');
  const textParsers: Array<[string, (t: string) => unknown, string[]]> = [
    ['bpftoolError', bpftoolError, [...mapShow, ...mapDump]],
    ['parseMapShow', parseMapShow, mapShow],
    ['parseProgShow', parseProgShow, progShow],
    ['parseMapDump', parseMapDump, mapDump],
    ['parseProgArrayDump', parseProgArrayDump, mapDump],
    ['parseCiliumEndpoints', parseCiliumEndpoints, [CILIUM_ENDPOINTS]],
    ['parseCiliumVersion', parseCiliumVersion, [CILIUM_VERSION, JSON.stringify({ Version: '1.16.3' })]],
  ];
  for (const [name, parse, seeds] of textParsers) {
    it(`${name}: mutated fixtures and random JSON`, () => {
      assert.ok(seeds.length > 0, `${name} has seed inputs`);
      fuzzLoop(name, (rand) => {
        const text = jsonInput(rand, seeds);
        return {
          bytes: text.length,
          run: () => {
            const result = parse(text) as { ok?: boolean; error?: string } | string | undefined;
            if (result && typeof result === 'object' && 'ok' in result && result.ok === false) assert.equal(typeof result.error, 'string');
            JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Map ? [...v] : v));
          },
        };
      });
    });
  }

  it('parseDumpEntry, parseHexBytes, littleEndian: random values', () => {
    const entries = mapDump.flatMap((t) => {
      const v = JSON.parse(t) as unknown;
      return Array.isArray(v) ? v : [];
    });
    fuzzLoop('parseDumpEntry', (rand) => {
      const value = entries.length > 0 && rand() < 0.6 ? mutateJson(rand, pick(rand, entries)) : randomJson(rand);
      return {
        bytes: JSON.stringify(value)?.length ?? 0,
        run: () => {
          const entry = parseDumpEntry(value);
          if (entry.ok) {
            for (const bytes of [entry.value.key, entry.value.value ?? []]) {
              assert.ok(bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255));
              littleEndian(bytes);
            }
          }
          const hex = parseHexBytes(value);
          if (hex) assert.ok(hex.every((b) => Number.isInteger(b) && b >= 0 && b <= 255));
        },
      };
    });
  });

  it('JsonArrayStream: random chunking of mutated dumps', () => {
    fuzzLoop('JsonArrayStream', (rand) => {
      const text = jsonInput(rand, mapDump);
      return {
        bytes: text.length,
        run: () => {
          let elements = 0;
          const stream = new JsonArrayStream(() => elements++);
          for (let at = 0; at < text.length; ) {
            const n = 1 + Math.floor(rand() * 64);
            stream.push(text.slice(at, at + n));
            at += n;
          }
          assert.ok(stream.error === null || typeof stream.error === 'string');
        },
      };
    });
  });
});
