// Map paging: one page of a 100,000-entry BTF-typed hash map through dumpMap() (bpftool's JSON read as it streams and
// stopped once the page is in), against bpftool dumping the whole map as JSON and as BTF-formatted text, plus the
// listing of the pin through listPinnedMaps(). Needs root, clang, bpftool and a bpffs; removes its pins at the end.
//
//   node out/bench/mapPaging.js [--entries N] [--runs N]     (also part of `npm run bench`, via mapPagingBench)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dumpMap, listPinnedMaps } from '../src/core/maps/maps';
import { runProcess } from '../src/core/process';
import { LocalTarget } from '../src/core/target';
import { formatTable, type Row } from './table';

const MB = 1000 * 1000;

export interface MapPagingResult {
  entries: number;
  runs: number;
  fillMs: number;
  listMs: number;
  bpftoolShowMs: number;
  firstPageMs: number;
  deepPageMs: number;
  deepOffset: number;
  jsonDumpMs: number;
  jsonDumpParseMs: number;
  textDumpMs: number;
  jsonDumpBytes: number;
  textDumpBytes: number;
  /** Growth of this process's RSS while the call ran (MB). */
  firstPageRssMb: number;
  deepPageRssMb: number;
  wholeJsonRssMb: number;
  /** bpftool's own peak RSS (MB, from /usr/bin/time) for the whole dumps; null without /usr/bin/time. */
  bpftoolJsonMaxRssMb: number | null;
  bpftoolTextMaxRssMb: number | null;
}

const SOURCE = `
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
struct flow_key { __u32 saddr; __u32 daddr; };
struct flow_stats { __u64 packets; __u64 bytes; __u32 last_seen; __u32 flags; };
struct {
  __uint(type, 1 /* BPF_MAP_TYPE_HASH */);
  __uint(max_entries, ENTRIES);
  __type(key, struct flow_key);
  __type(value, struct flow_stats);
} paging_bench SEC(".maps");
SEC("tc") int paging_prog(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function must(argv: string[], what: string): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 * MB });
  if (r.status !== 0) throw new Error(`${what} failed (${argv.join(' ')}): ${r.stderr || r.error?.message}`);
}

function hex(n: number, bytes: number): string {
  const out: string[] = [];
  for (let i = 0; i < bytes; i++) out.push(((n >>> (8 * (i % 4))) & 0xff).toString(16).padStart(2, '0'));
  return out.join(' ');
}

/** Runs `fn` while sampling this process's RSS; returns its time and the RSS growth (MB). */
async function measured<T>(fn: () => Promise<T>): Promise<{ ms: number; rssMb: number; value: T }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const started = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { ms, rssMb: (peak - before) / MB, value };
  } finally {
    clearInterval(timer);
  }
}

/** bpftool's peak RSS for `args`, in MB, from /usr/bin/time; null when it is not there. */
function bpftoolMaxRss(args: string[]): number | null {
  if (!fs.existsSync('/usr/bin/time')) return null;
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M', 'bpftool', ...args], { encoding: 'utf8', maxBuffer: 512 * MB });
  const m = /MAXRSS (\d+)/.exec(r.stderr);
  return m ? Number(m[1]) / 1000 : null;
}

export async function mapPagingBench(work: string, bpffs: string, entries = 100_000, runs = 5): Promise<MapPagingResult> {
  const pinDir = path.join(bpffs, `ccp-bench-paging-${process.pid}`);
  const source = path.join(work, 'paging.c');
  const object = path.join(work, 'paging.o');
  fs.writeFileSync(source, SOURCE.replace('ENTRIES', String(entries)));
  must(['clang', '--target=bpf', '-O2', '-g', '-c', source, '-o', object], 'compiling the paging map');
  try {
    fs.mkdirSync(pinDir);
    must(['bpftool', 'prog', 'loadall', object, path.join(pinDir, 'progs'), 'type', 'classifier', 'pinmaps', path.join(pinDir, 'maps')], 'loading the paging map');
    const pin = path.join(pinDir, 'maps', 'paging_bench');

    const fillStarted = Date.now();
    const batch = path.join(work, 'fill.batch');
    const lines: string[] = [];
    for (let i = 0; i < entries; i++) {
      lines.push(`map update pinned ${pin} key hex ${hex(i, 4)} ${hex(~i, 4)} value hex ${hex(i * 3, 8)} ${hex(i * 1500, 8)} ${hex(i, 4)} 00 00 00 00`);
    }
    fs.writeFileSync(batch, `${lines.join('\n')}\n`);
    must(['bpftool', 'batch', 'file', batch], 'filling the paging map');
    const fillMs = Date.now() - fillStarted;

    const target = new LocalTarget();
    const deepOffset = entries - 100;
    const first = await dumpMap(target, pin, { offset: 0, limit: 100 });
    if (first.entries.length !== 100 || !first.btf || !first.hasMore) throw new Error(`first page: ${first.entries.length} entries, btf ${first.btf}`);
    const deep = await dumpMap(target, pin, { offset: deepOffset, limit: 100 });
    if (deep.entries.length !== 100 || deep.total !== entries) throw new Error(`deep page: ${deep.entries.length} entries, total ${deep.total}`);

    // All series interleaved, one run of each per round, so that load from elsewhere hits them alike.
    const fns = {
      list: () => listPinnedMaps(target, { dirs: [pinDir] }),
      show: () => runProcess(['bpftool', '-j', 'map', 'show', 'pinned', pin]),
      firstPage: () => dumpMap(target, pin, { offset: 0, limit: 100 }),
      deepPage: () => dumpMap(target, pin, { offset: deepOffset, limit: 100 }),
      jsonDump: async () => (jsonDumpBytes = (await runProcess(['bpftool', '-j', 'map', 'dump', 'pinned', pin], { maxBuffer: 1024 * MB })).stdout.length),
      jsonParse: async () => {
        const out = await runProcess(['bpftool', '-j', 'map', 'dump', 'pinned', pin], { maxBuffer: 1024 * MB });
        return (JSON.parse(out.stdout) as unknown[]).length;
      },
      textDump: async () => (textDumpBytes = (await runProcess(['bpftool', 'map', 'dump', 'pinned', pin], { maxBuffer: 1024 * MB })).stdout.length),
    };
    type Key = keyof typeof fns;
    let jsonDumpBytes = 0;
    let textDumpBytes = 0;
    const times = Object.fromEntries(Object.keys(fns).map((k) => [k, [] as number[]])) as Record<Key, number[]>;
    const rss = Object.fromEntries(Object.keys(fns).map((k) => [k, [] as number[]])) as Record<Key, number[]>;
    for (let i = 0; i < runs; i++) {
      for (const key of Object.keys(fns) as Key[]) {
        const m = await measured(fns[key] as () => Promise<unknown>);
        times[key].push(m.ms);
        rss[key].push(m.rssMb);
      }
    }
    const at = (key: Key) => ({ ms: median(times[key]), rssMb: Math.max(...rss[key]) });
    const list = at('list');
    const show = at('show');
    const firstPage = at('firstPage');
    const deepPage = at('deepPage');
    const jsonDump = at('jsonDump');
    const jsonParse = at('jsonParse');
    const textDump = at('textDump');

    return {
      entries,
      runs,
      fillMs,
      listMs: list.ms,
      bpftoolShowMs: show.ms,
      firstPageMs: firstPage.ms,
      deepPageMs: deepPage.ms,
      deepOffset,
      jsonDumpMs: jsonDump.ms,
      jsonDumpParseMs: jsonParse.ms,
      textDumpMs: textDump.ms,
      jsonDumpBytes,
      textDumpBytes,
      firstPageRssMb: firstPage.rssMb,
      deepPageRssMb: deepPage.rssMb,
      wholeJsonRssMb: jsonParse.rssMb,
      bpftoolJsonMaxRssMb: bpftoolMaxRss(['-j', 'map', 'dump', 'pinned', pin]),
      bpftoolTextMaxRssMb: bpftoolMaxRss(['map', 'dump', 'pinned', pin]),
    };
  } finally {
    fs.rmSync(pinDir, { recursive: true, force: true });
  }
}

export function mapPagingRows(r: MapPagingResult): Row[] {
  const k = `${Math.round(r.entries / 1000)}k`;
  const mb = (v: number | null) => (v === null ? '?' : v.toFixed(0));
  return [
    { name: `map ${k}: list the pin (ms)`, ours: r.listMs, baseline: r.bpftoolShowMs, baselineName: 'bpftool -j map show', ratio: r.listMs / r.bpftoolShowMs },
    { name: `map ${k}: first page of 100 (ms)`, ours: r.firstPageMs, baseline: r.jsonDumpMs, baselineName: 'bpftool -j map dump, whole', ratio: r.firstPageMs / r.jsonDumpMs },
    { name: `map ${k}: first page of 100 (ms)`, ours: r.firstPageMs, baseline: r.textDumpMs, baselineName: 'bpftool map dump (BTF text), whole', ratio: r.firstPageMs / r.textDumpMs },
    { name: `map ${k}: deep page @${r.deepOffset} (ms)`, ours: r.deepPageMs, baseline: r.jsonDumpMs, baselineName: 'bpftool -j map dump, whole', ratio: r.deepPageMs / r.jsonDumpMs },
    { name: `map ${k}: deep page @${r.deepOffset} (ms)`, ours: r.deepPageMs, baseline: r.jsonDumpParseMs, baselineName: 'bpftool -j dump + JSON.parse', ratio: r.deepPageMs / r.jsonDumpParseMs },
    {
      name: `map ${k}: RSS growth first / deep page (MB)`,
      ours: `${r.firstPageRssMb.toFixed(0)} / ${r.deepPageRssMb.toFixed(0)}`,
      baseline: r.wholeJsonRssMb,
      baselineName: 'whole -j dump + JSON.parse',
    },
    {
      name: `map ${k}: bpftool peak RSS, -j / text (MB)`,
      ours: '-',
      baseline: `${mb(r.bpftoolJsonMaxRssMb)} / ${mb(r.bpftoolTextMaxRssMb)}`,
      baselineName: `${(r.jsonDumpBytes / MB).toFixed(0)} / ${(r.textDumpBytes / MB).toFixed(0)} MB output`,
    },
  ];
}

if (require.main === module) {
  const option = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-bench-paging-'));
  mapPagingBench(work, '/sys/fs/bpf', option('--entries') ?? 100_000, option('--runs') ?? 5)
    .then((result) => {
      console.log(formatTable(mapPagingRows(result)));
      console.log(`\n(filled ${result.entries} entries with bpftool batch in ${result.fillMs} ms; medians of ${result.runs})`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => fs.rmSync(work, { recursive: true, force: true }));
}
