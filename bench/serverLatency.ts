// Language-server latency: after a one-character edit in the middle of a 2,000-line custom-program header, how long
// until the diagnostics are ready — the incremental reparse (tree.edit + parse with the old tree) plus every rule,
// i.e. the server's work once the 150 ms debounce has fired, measured in the server's own code (LanguageService).
// Also the parse alone and a from-scratch parse + rules for comparison.
//
//   node out/bench/serverLatency.js [--edits N]      (or call serverLatencyBench() from bench/run.ts)
import { LanguageService } from '../src/server/service';

export interface ServerLatencyResult {
  lines: number;
  edits: number;
  diagnostics: number;
  /** Edit → diagnostics ready (incremental parse + rules), ms. */
  editToDiagnostics: { medianMs: number; p95Ms: number };
  /** Incremental parse alone, ms. */
  incrementalParse: { medianMs: number; p95Ms: number };
  /** Fresh document (full parse) + rules, ms. */
  fullParseAndRules: { medianMs: number; p95Ms: number };
}

/** A plausible 2,000-line custom program: per-CPU context, prog array, many stages with lookups and tail calls. */
export function generateHeader(targetLines = 2000): string {
  const out: string[] = [
    '#include <bpf/ctx/skb.h>',
    '#include <bpf/api.h>',
    '',
    'struct bench_ctx {',
    '\t__u64 len;',
    '\t__u32 identity;',
    '\t__u32 ret;',
    '};',
    '',
    'struct {',
    '\t__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);',
    '\t__type(key, __u32);',
    '\t__type(value, struct bench_ctx);',
    '\t__uint(max_entries, 1);',
    '} bench_ctx_map __section_maps_btf;',
    '',
    'struct {',
    '\t__uint(type, BPF_MAP_TYPE_HASH);',
    '\t__type(key, __u32);',
    '\t__type(value, __u64);',
    '\t__uint(max_entries, 1024);',
    '} bench_bytes __section_maps_btf;',
    '',
    'struct {',
    '\t__uint(type, BPF_MAP_TYPE_PROG_ARRAY);',
    '\t__uint(key_size, sizeof(__u32));',
    '\t__uint(value_size, sizeof(__u32));',
    '\t__uint(max_entries, 64);',
    '} bench_progs __section_maps_btf;',
    '',
    'static __always_inline __u32 bench_verdict(const struct __ctx_buff *ctx)',
    '{',
    '\treturn CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS));',
    '}',
    '',
    'static __always_inline',
    'void custom_prog(const struct __ctx_buff *ctx, __u32 identity)',
    '{',
    '\t__u32 zero = 0;',
    '\tstruct bench_ctx *bc = map_lookup_elem(&bench_ctx_map, &zero);',
    '',
    '\tif (!bc)',
    '\t\treturn;',
    '\t__builtin_memset(bc, 0, sizeof(*bc));',
    '\tbc->identity = identity;',
    '\ttail_call_static(ctx, &bench_progs, 0);',
    '}',
    '',
  ];
  for (let i = 0; out.length < targetLines - 30; i++) {
    out.push(
      `__section("bench/stage${i}")`,
      `int bench_stage${i}(struct __ctx_buff *ctx)`,
      '{',
      '\t__u32 zero = 0;',
      '\tstruct bench_ctx *bc;',
      '\t__u64 *bytes;',
      '',
      '\tbc = map_lookup_elem(&bench_ctx_map, &zero);',
      '\tif (!bc)',
      '\t\treturn bench_verdict(ctx);',
      `\tbc->len += ${i};`,
      '\tbytes = map_lookup_elem(&bench_bytes, &bc->identity);',
      '\tif (bytes)',
      '\t\t__sync_fetch_and_add(bytes, bc->len);',
      '\telse',
      '\t\tmap_update_elem(&bench_bytes, &bc->identity, &bc->len, BPF_NOEXIST);',
      '\tif (ctx->len > 64) {',
      `\t\ttail_call_static(ctx, &bench_progs, ${(i + 1) % 64});`,
      '\t}',
      '\treturn bench_verdict(ctx);',
      '}',
      '',
    );
  }
  return out.join('\n') + '\n';
}

const stats = (samples: number[]): { medianMs: number; p95Ms: number } => {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { medianMs: +at(0.5).toFixed(3), p95Ms: +at(0.95).toFixed(3) };
};

export async function serverLatencyBench(options: { edits?: number; lines?: number } = {}): Promise<ServerLatencyResult> {
  const edits = options.edits ?? 200;
  const text = generateHeader(options.lines ?? 2000);
  const service = await LanguageService.create();
  const uri = 'file:///bench/bench.h';
  try {
    // Warm up (JIT, wasm).
    service.open(uri, undefined, text);
    service.findings(uri);
    // One-character edits in the middle of the file: `bc->len += N;` → `+= N1;` and back.
    const lines = text.split('\n');
    const target = lines.findIndex((l, i) => i > lines.length / 2 && l.startsWith('\tbc->len += '));
    const offset = lines.slice(0, target).join('\n').length + 1 + '\tbc->len += '.length;
    const total: number[] = [];
    const parse: number[] = [];
    let current = text;
    let diagnostics = 0;
    for (let i = 0; i < edits; i++) {
      current = i % 2 === 0 ? current.slice(0, offset) + '1' + current.slice(offset) : current.slice(0, offset) + current.slice(offset + 1);
      const t0 = performance.now();
      service.change(uri, undefined, current);
      const t1 = performance.now();
      diagnostics = service.findings(uri).length;
      const t2 = performance.now();
      parse.push(t1 - t0);
      total.push(t2 - t0);
    }
    const full: number[] = [];
    for (let i = 0; i < Math.min(30, edits); i++) {
      const t0 = performance.now();
      service.open(`${uri}#${i}`, undefined, text);
      service.findings(`${uri}#${i}`);
      full.push(performance.now() - t0);
      service.close(`${uri}#${i}`);
    }
    return {
      lines: text.split('\n').length - 1,
      edits,
      diagnostics,
      editToDiagnostics: stats(total),
      incrementalParse: stats(parse),
      fullParseAndRules: stats(full),
    };
  } finally {
    service.dispose();
  }
}

export function formatServerLatency(r: ServerLatencyResult): string {
  return [
    `language server, ${r.lines}-line header, ${r.edits} one-character edits (${r.diagnostics} diagnostics):`,
    `  edit -> diagnostics (incremental parse + rules)  median ${r.editToDiagnostics.medianMs} ms  p95 ${r.editToDiagnostics.p95Ms} ms`,
    `  incremental parse alone                          median ${r.incrementalParse.medianMs} ms  p95 ${r.incrementalParse.p95Ms} ms`,
    `  full parse + rules (for comparison)              median ${r.fullParseAndRules.medianMs} ms  p95 ${r.fullParseAndRules.p95Ms} ms`,
  ].join('\n');
}

if (require.main === module) {
  const i = process.argv.indexOf('--edits');
  serverLatencyBench({ edits: i > 0 ? Number(process.argv[i + 1]) : undefined }).then(
    (r) => console.log(formatServerLatency(r)),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
