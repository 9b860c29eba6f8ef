// Each diagnostics rule on small snippets: what it reports, what it accepts, and the quick fixes.
import * as assert from 'node:assert/strict';
import { DiagnosticCodes, type DiagnosticCode } from '../../../src/shared/protocol';
import { analyzeText } from '../../../src/server/analyzeText';
import { applyEdits } from './helpers';

async function codes(text: string, code: DiagnosticCode): Promise<number[]> {
  return (await analyzeText(text)).filter((f) => f.code === code).map((f) => f.range.start.row + 1);
}

const MAPS = `
struct val { __u64 a; __u64 b; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, struct val); __uint(max_entries, 4); } m __section_maps_btf;
`;

describe('server rules', () => {
  describe('(a) map lookup NULL check', () => {
    const fn = (body: string) => `${MAPS}static __always_inline void custom_prog(const struct __ctx_buff *ctx, __u32 identity)\n{\n\tstruct val *p = map_lookup_elem(&m, &identity);\n${body}\n}\n`;
    it('reports *p, p->f, p[i] and __sync_fetch_and_add(p) without a check', async () => {
      for (const use of ['\tp->a = 1;', '\t*p = (struct val){};', '\tp[0].a = 1;', '\t__sync_fetch_and_add(&p->a, 1);', '\t__sync_fetch_and_add(p, 1);']) {
        assert.deepEqual(await codes(fn(use), DiagnosticCodes.unchecked), [7], use);
      }
    });
    it('accepts uses dominated by a check of the same pointer', async () => {
      for (const body of ['\tif (!p)\n\t\treturn;\n\tp->a = 1;', '\tif (p)\n\t\tp->a = 1;', '\tif (p != NULL) {\n\t\tp->a = 1;\n\t}', '\tif (p == NULL)\n\t\treturn;\n\tp->a++;',
        '\tif (!p) {\n\t\treturn;\n\t} else {\n\t\tp->a = 1;\n\t}', '\t__u64 x = p ? p->a : 0;\n\t(void)x;', '\tif (identity && p)\n\t\tp->b = 2;', '\tif (!p || identity)\n\t\treturn;\n\tp->a = 1;']) {
        assert.deepEqual(await codes(fn(body), DiagnosticCodes.unchecked), [], body);
      }
    });
    it('names the other variable a check tests', async () => {
      const f = (await analyzeText(fn('\t__u64 *q = map_lookup_elem(&m, &identity);\n\tif (!q)\n\t\treturn;\n\tp->a = *q;'))).find((x) => x.code === DiagnosticCodes.unchecked)!;
      assert.match(f.message, /tests `q`, not `p`/);
    });
    it('fixes with the right return for the function type', async () => {
      const text = `${MAPS}int helper(__u32 k)\n{\n\tstruct val *p;\n\tp = bpf_map_lookup_elem(&m, &k);\n\treturn p->a;\n}\n`;
      const f = (await analyzeText(text)).find((x) => x.code === DiagnosticCodes.unchecked)!;
      assert.match(applyEdits(text, f.fix!.edits), /p = bpf_map_lookup_elem\(&m, &k\);\n\tif \(!p\)\n\t\treturn 0;\n\treturn p->a;/);
      const v = fn('\tp->a = 1;');
      const fv = (await analyzeText(v)).find((x) => x.code === DiagnosticCodes.unchecked)!;
      assert.match(applyEdits(v, fv.fix!.edits), /\n\tif \(!p\)\n\t\treturn;\n\tp->a = 1;/);
    });
    it('rewrites a check of the wrong pointer instead of adding a second one', async () => {
      const fix = async (text: string) => {
        const f = (await analyzeText(text)).find((x) => x.code === DiagnosticCodes.unchecked)!;
        const after = applyEdits(text, f.fix!.edits);
        assert.deepEqual(await codes(after, DiagnosticCodes.unchecked), [], after);
        assert.equal(after.split('\n').length, text.split('\n').length, 'no line added');
        return { title: f.fix!.title, after };
      };
      // The other pointer is still used after the check: the check tests both.
      const both = await fix(fn('\t__u64 *q = map_lookup_elem(&m, &identity);\n\tif (!q)\n\t\treturn;\n\tp->a = *q;'));
      assert.match(both.after, /\n\tif \(!p \|\| !q\)\n\t\treturn;\n\tp->a = \*q;/);
      assert.match(both.title, /Check 'p' too in the NULL check on line 8/);
      // The check names a pointer nothing uses afterwards: the right one takes its place (== NULL, || kept).
      const swap = await fix(fn('\t__u64 *q = map_lookup_elem(&m, &identity);\n\tif (q == NULL || identity == 7)\n\t\treturn;\n\tp->a = 1;'));
      assert.match(swap.after, /\n\tif \(p == NULL \|\| identity == 7\)\n\t\treturn;\n\tp->a = 1;/);
      assert.match(swap.title, /Check 'p' instead of 'q' on line 8/);
      const chain = await fix(fn('\t__u64 *q = map_lookup_elem(&m, &identity);\n\tif (identity == 7 || !q) {\n\t\treturn;\n\t}\n\tp->a = *q;'));
      assert.match(chain.after, /\n\tif \(!p \|\| identity == 7 \|\| !q\) \{\n/);
    });
  });

  describe('(b) prog array bounds', () => {
    const prog = (max: string, extra = '') => `#define NSLOTS 2\nenum { A, B, C };\nint s(void *ctx);\nstruct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(key_size, 4); __uint(value_size, 4);\n\t__uint(max_entries, ${max});\n\t__array(values, int (void *));\n} progs __section_maps_btf = { .values = { [A] = (void *)&s, [B] = (void *)&s } };\n${extra}`;
    it('reports initializer slots and constant tail-call slots beyond max_entries (defines and enums resolved)', async () => {
      assert.deepEqual(await codes(prog('1'), DiagnosticCodes.progArrayBounds), [7]);
      assert.deepEqual(await codes(prog('NSLOTS'), DiagnosticCodes.progArrayBounds), []);
      const call = 'void custom_prog(const struct __ctx_buff *ctx, __u32 id)\n{\n\ttail_call(ctx, &progs, C);\n\tbpf_tail_call(ctx, &progs, NSLOTS + 3);\n\ttail_call(ctx, &progs, id);\n}\n';
      assert.deepEqual(await codes(prog('NSLOTS', call), DiagnosticCodes.progArrayBounds), [10, 11]);
      const f = (await analyzeText(prog('NSLOTS', call))).find((x) => x.code === DiagnosticCodes.progArrayBounds)!;
      assert.match(applyEdits(prog('NSLOTS', call), f.fix!.edits), /__uint\(max_entries, 6\);/);
    });
  });

  describe('(c) tail call fall-through', () => {
    const stage = (after: string) => `__section("s")\nint stage(struct __ctx_buff *ctx)\n{\n\tbpf_tail_call(ctx, &progs, 0);\n${after}}\n`;
    it('reports a non-void function ending after the tail call, or __builtin_unreachable()', async () => {
      assert.deepEqual(await codes(stage(''), DiagnosticCodes.tailCallFallthrough), [4]);
      assert.deepEqual(await codes(stage('\t__builtin_unreachable();\n'), DiagnosticCodes.tailCallFallthrough), [4]);
      assert.deepEqual(await codes(stage('\treturn CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS));\n'), DiagnosticCodes.tailCallFallthrough), []);
      assert.deepEqual(await codes('void custom_prog(const struct __ctx_buff *ctx, __u32 id)\n{\n\ttail_call(ctx, &progs, 0);\n}\n', DiagnosticCodes.tailCallFallthrough), []);
      const nested = `__section("s")\nint stage(struct __ctx_buff *ctx)\n{\n\tif (ctx->len) {\n\t\tbpf_tail_call(ctx, &progs, 0);\n\t}\n\treturn ctx_load_meta(ctx, CB_CUSTOM_CALLS) >> 24;\n}\n`;
      assert.deepEqual(await codes(nested, DiagnosticCodes.tailCallFallthrough), []);
    });
    it('quick fix: returns the verdict after the tail call (the file\'s verdict helper when it has one)', async () => {
      const text = stage('');
      const f = (await analyzeText(text)).find((x) => x.code === DiagnosticCodes.tailCallFallthrough)!;
      const after = applyEdits(text, f.fix!.edits);
      assert.match(after, /bpf_tail_call\(ctx, &progs, 0\);\n\treturn ctx_load_meta\(ctx, CB_CUSTOM_CALLS\) >> 24;\n}/);
      assert.deepEqual(await codes(after, DiagnosticCodes.tailCallFallthrough), []);
      const helper = `static __always_inline __u32 verdict(const struct __ctx_buff *c)\n{\n\treturn CUSTOM_META_RET(ctx_load_meta(c, CB_CUSTOM_CALLS));\n}\n${stage('\t__builtin_unreachable();\n')}`;
      const g = (await analyzeText(helper)).find((x) => x.code === DiagnosticCodes.tailCallFallthrough)!;
      assert.match(applyEdits(helper, g.fix!.edits), /bpf_tail_call\(ctx, &progs, 0\);\n\treturn verdict\(ctx\);\n}/);
    });
  });

  describe('(d) per-CPU context reset', () => {
    const file = (entry: string) => `struct c { __u64 a; __u32 b; __u32 d; };\nstruct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, struct c); __uint(max_entries, 1); } pc __section_maps_btf;\nvoid custom_prog(const struct __ctx_buff *ctx, __u32 id)\n{\n\t__u32 z = 0;\n\tstruct c *p = map_lookup_elem(&pc, &z);\n\tif (!p)\n\t\treturn;\n${entry}}\n__section("s1")\nint s1(struct __ctx_buff *ctx)\n{\n\t__u32 z = 0;\n\tstruct c *p = map_lookup_elem(&pc, &z);\n\tif (!p)\n\t\treturn CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS));\n\treturn p->b ? CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS)) : CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS));\n}\n`;
    it('reports a context read later but only partly set at the entry', async () => {
      assert.deepEqual(await codes(file('\tp->a = 1;\n'), DiagnosticCodes.percpuNotReset), [6]);
    });
    it('quick fix: memset after custom_prog\'s NULL check of the context', async () => {
      const text = file('\tp->a = 1;\n');
      const f = (await analyzeText(text)).find((x) => x.code === DiagnosticCodes.percpuNotReset)!;
      const after = applyEdits(text, f.fix!.edits);
      assert.match(after, /\tif \(!p\)\n\t\treturn;\n\n\t\/\*[^\n]*\*\/\n\tmemset\(p, 0, sizeof\(\*p\)\);\n\tp->a = 1;/);
      assert.deepEqual(await codes(after, DiagnosticCodes.percpuNotReset), []);
    });
    it('accepts memset, a whole-struct assignment, or every field assigned', async () => {
      for (const entry of ['\t__builtin_memset(p, 0, sizeof(*p));\n', '\t*p = (struct c){};\n', '\tp->a = 1;\n\tp->b = 2;\n\tp->d = 3;\n']) {
        assert.deepEqual(await codes(file(entry), DiagnosticCodes.percpuNotReset), [], entry);
      }
    });
  });

  describe('(e) map value padding', () => {
    const withValue = (struct: string) => `${struct}\nstruct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct v); __uint(max_entries, 1); } mv __section_maps_btf;\n`;
    it('computes C layout: holes, trailing padding, sizes not a multiple of 8', async () => {
      assert.deepEqual(await codes(withValue('struct v {\n\t__u8 a;\n\t__u32 b;\n};'), DiagnosticCodes.valuePadding), [3]);
      assert.deepEqual(await codes(withValue('struct v {\n\t__u64 a;\n\t__u16 b[3];\n};'), DiagnosticCodes.valuePadding), [3]);
      assert.deepEqual(await codes(withValue('struct v {\n\t__u32 a;\n};'), DiagnosticCodes.valuePadding), [1]);
      assert.deepEqual(await codes(withValue('struct in { __u32 x; __u16 y; __u16 z; };\nstruct v {\n\tstruct in i;\n\t__u8 tag[8];\n};'), DiagnosticCodes.valuePadding), []);
      assert.deepEqual(await codes(withValue('struct in { __u64 x; };\nstruct v {\n\t__u32 a;\n\tstruct in i;\n};'), DiagnosticCodes.valuePadding), [4]);
      assert.deepEqual(await codes(withValue('struct v {\n\t__u8 a;\n\t__u64 b;\n} __attribute__((packed));'), DiagnosticCodes.valuePadding), []);
    });
    const fixOnce = async (text: string) => {
      const f = (await analyzeText(text)).find((x) => x.code === DiagnosticCodes.valuePadding)!;
      return { title: f.fix!.title, after: applyEdits(text, f.fix!.edits) };
    };
    it('quick fix: naturally aligned pad fields where the hole is, after the last field, or up to a multiple of 8', async () => {
      const hole = await fixOnce(withValue('struct v {\n\t__u8 a;\n\t__u32 b;\n};'));
      assert.match(hole.after, /struct v \{\n\t__u8 a;\n\t__u8 pad1;\n\t__u16 pad2;\n\t__u32 b;\n\};/);
      assert.equal(hole.title, "Make the padding explicit: __u8 pad1; __u16 pad2; before 'b'");
      const trailing = await fixOnce(withValue('struct v {\n\t__u64 a;\n\t__u16 b[3];\t/* three */\n};'));
      assert.match(trailing.after, /\t__u16 b\[3\];\t\/\* three \*\/\n\t__u16 pad1;\n\};/);
      const small = await fixOnce(withValue('struct v {\n\t__u16 a;\n};'));
      assert.match(small.after, /\t__u16 a;\n\t__u16 pad1;\n\t__u32 pad2;\n\};/);
      const oneLine = await fixOnce(withValue('struct v { __u8 a; __u32 b; };'));
      assert.match(oneLine.after, /struct v \{ __u8 a; __u8 pad1; __u16 pad2; __u32 b; \};/);
      for (const r of [hole, trailing, small, oneLine]) assert.deepEqual(await codes(r.after, DiagnosticCodes.valuePadding), [], r.after);
    });
    it('quick fix: pad names stay unique across a struct\'s fixes and its own fields', async () => {
      let text = withValue('struct v {\n\t__u8 pad1;\n\t__u16 x;\n\t__u8 y;\n\t__u64 z;\n\t__u32 w;\n};');
      const fixes = (await analyzeText(text)).filter((x) => x.code === DiagnosticCodes.valuePadding).map((x) => x.fix!.title);
      assert.deepEqual(fixes, [
        "Make the padding explicit: __u8 pad2; before 'x'",
        "Make the padding explicit: __u8 pad3; __u16 pad4; before 'z'",
        "Make the padding explicit: __u32 pad5; after 'w'",
      ]);
      for (let i = 0; i < 5 && (await codes(text, DiagnosticCodes.valuePadding)).length; i++) text = (await fixOnce(text)).after;
      assert.match(text, /struct v \{\n\t__u8 pad1;\n\t__u8 pad2;\n\t__u16 x;\n\t__u8 y;\n\t__u8 pad3;\n\t__u16 pad4;\n\t__u64 z;\n\t__u32 w;\n\t__u32 pad5;\n\};/);
      assert.deepEqual(await codes(text, DiagnosticCodes.valuePadding), []);
    });
  });

  describe('(f) custom_prog signature', () => {
    it('accepts (const struct __ctx_buff *, __u32) and struct __sk_buff, void', async () => {
      for (const sig of ['void custom_prog(const struct __ctx_buff *ctx, __u32 identity)', 'void custom_prog(const struct __sk_buff *skb, u32 id)']) {
        assert.deepEqual(await codes(`static __always_inline ${sig}\n{\n}\n`, DiagnosticCodes.customProgSignature), [], sig);
      }
    });
    it('reports other shapes, prototypes included', async () => {
      for (const sig of ['void custom_prog(const struct __ctx_buff *ctx)', 'void custom_prog(struct xdp_md *ctx, __u32 id)', 'void custom_prog(const struct __ctx_buff *ctx, __u64 id)', 'int custom_prog(const struct __ctx_buff *ctx, __u32 id)', 'void custom_prog(struct __ctx_buff *ctx, __u32 id)']) {
        assert.deepEqual(await codes(`${sig};\n`, DiagnosticCodes.customProgSignature), [1], sig);
      }
    });
  });

  describe('(g) stage return codes', () => {
    it('reports constants, accepts verdict-derived values', async () => {
      const stage = (ret: string, pre = '') => `${pre}__section("s")\nint stage(struct __ctx_buff *ctx)\n{\n\t__u32 meta = ctx_load_meta(ctx, CB_CUSTOM_CALLS);\n\t__u32 v = meta >> 24;\n\treturn ${ret};\n}\n`;
      assert.deepEqual(await codes(stage('TC_ACT_OK'), DiagnosticCodes.stageReturn), [6]);
      assert.deepEqual(await codes(stage('0'), DiagnosticCodes.stageReturn), [6]);
      for (const ret of ['v', 'meta >> 24', 'CUSTOM_META_RET(meta)', 'ctx_load_meta(ctx, CB_CUSTOM_CALLS) >> 24']) assert.deepEqual(await codes(stage(ret), DiagnosticCodes.stageReturn), [], ret);
      const helper = 'static __u32 verdict(const struct __ctx_buff *c)\n{\n\treturn CUSTOM_META_RET(ctx_load_meta(c, CB_CUSTOM_CALLS));\n}\n';
      assert.deepEqual(await codes(stage('verdict(ctx)', helper), DiagnosticCodes.stageReturn), []);
    });
    it('quick fix: returns the verdict instead (the file\'s verdict helper when it has one)', async () => {
      const stage = (pre = '') => `${pre}__section("s")\nint stage(struct __ctx_buff *skb)\n{\n\tif (skb->len > 100)\n\t\treturn TC_ACT_SHOT;\n\treturn 0;\n}\n`;
      const plain = stage();
      const fixes = (await analyzeText(plain)).filter((x) => x.code === DiagnosticCodes.stageReturn).map((x) => x.fix!);
      assert.equal(fixes.length, 2);
      assert.equal(fixes[0]!.title, "Return the datapath's verdict (ctx_load_meta(skb, CB_CUSTOM_CALLS) >> 24)");
      const after = applyEdits(applyEdits(plain, fixes[1]!.edits), fixes[0]!.edits);
      assert.match(after, /\t\treturn ctx_load_meta\(skb, CB_CUSTOM_CALLS\) >> 24;\n\treturn ctx_load_meta\(skb, CB_CUSTOM_CALLS\) >> 24;\n/);
      assert.deepEqual(await codes(after, DiagnosticCodes.stageReturn), []);
      const withHelper = stage('static __u32 verdict(const struct __ctx_buff *c)\n{\n\treturn CUSTOM_META_RET(ctx_load_meta(c, CB_CUSTOM_CALLS));\n}\n');
      const g = (await analyzeText(withHelper)).find((x) => x.code === DiagnosticCodes.stageReturn)!;
      assert.match(applyEdits(withHelper, g.fix!.edits), /\t\treturn verdict\(skb\);\n\treturn 0;/);
    });
  });

  describe('(h) tail-call stages defined', () => {
    const file = (stage2: string, value2 = '(void *)&tail_stage2') =>
      `enum { S1, S2, S_MAX };\nint tail_stage1(struct __ctx_buff *ctx);\nint tail_stage2(struct __ctx_buff *ctx);\n` +
      `struct {\n\t__uint(type, BPF_MAP_TYPE_PROG_ARRAY);\n\t__uint(key_size, sizeof(__u32));\n\t__uint(value_size, sizeof(__u32));\n\t__uint(max_entries, S_MAX);\n\t__array(values, int (void *));\n} progs __section_maps_btf = {\n\t.values = {\n\t\t[S1] = (void *)&tail_stage1,\n\t\t[S2] = ${value2},\n\t},\n};\n` +
      `void custom_prog(const struct __ctx_buff *ctx, __u32 identity)\n{\n\ttail_call_static(ctx, &progs, S1);\n}\n` +
      `__section("prog/stage1")\nint tail_stage1(struct __ctx_buff *ctx)\n{\n\treturn CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS));\n}\n${stage2}`;
    it('reports a stage the prog array names but the file only declares, on the reference', async () => {
      const text = file('');
      const f = (await analyzeText(text)).filter((x) => x.code === DiagnosticCodes.stageUndefined);
      assert.deepEqual(f.map((x) => [x.range.start.row + 1, x.range.start.column, x.severity]), [[13, 18, 'error']]);
      assert.match(f[0]!.message, /stage `tail_stage2` \(slot 1 of prog array `progs`\) is declared on line 3 but never defined in this file: .*failed to find BTF for extern 'tail_stage2'/);
      for (const value of ['&tail_stage2', 'tail_stage2', '((void *)&tail_stage2)']) assert.deepEqual(await codes(file('', value), DiagnosticCodes.stageUndefined), [13], value);
      assert.deepEqual(await codes(file('__section("prog/stage2")\nint tail_stage2(struct __ctx_buff *ctx)\n{\n\treturn CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS));\n}\n'), DiagnosticCodes.stageUndefined), []);
      // A header of the file's own may define it: not reported then.
      assert.deepEqual(await codes(`#include <bpf/api.h>\n#include "stages.h"\n${file('')}`, DiagnosticCodes.stageUndefined), []);
      assert.deepEqual(await codes(`#include <bpf/api.h>\n${file('')}`, DiagnosticCodes.stageUndefined), [14]);
      // No prototype either: still reported (clang's error comes first, but the reason is the same).
      assert.match((await analyzeText(file('').replace('int tail_stage2(struct __ctx_buff *ctx);\n', ''))).find((x) => x.code === DiagnosticCodes.stageUndefined)!.message, /is never defined in this file/);
    });
    it('quick fix: a stub stage at the end of the file, in a section next to the others, returning the verdict', async () => {
      const text = file('');
      const fix = (await analyzeText(text)).find((x) => x.code === DiagnosticCodes.stageUndefined)!.fix!;
      assert.equal(fix.title, "Define stage 'tail_stage2' (a stub returning the datapath's verdict)");
      const after = applyEdits(text, fix.edits);
      assert.ok(after.startsWith(text));
      assert.equal(after.slice(text.length), '\n__section("prog/stage2")\nint tail_stage2(struct __ctx_buff *ctx)\n{\n\t/* A tail-called stage: what it returns goes to the datapath, so hand back its verdict. */\n\treturn ctx_load_meta(ctx, CB_CUSTOM_CALLS) >> 24;\n}\n');
      assert.deepEqual((await analyzeText(after)).map((x) => x.code), [], 'the stub passes every rule');
    });
    it('quick fix: the file\'s verdict helper and the prototype\'s parameter; the file name when no stage has a section yet', async () => {
      const text = 'static __always_inline __u32 verdict(const struct __ctx_buff *c)\n{\n\treturn CUSTOM_META_RET(ctx_load_meta(c, CB_CUSTOM_CALLS));\n}\n' +
        'int second(struct __sk_buff *skb);\nstruct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(key_size, 4); __uint(value_size, 4); __uint(max_entries, 1); __array(values, int (void *)); } p __section_maps_btf = { .values = { (void *)&second } };';
      const fix = (await analyzeText(text, 'mine')).find((x) => x.code === DiagnosticCodes.stageUndefined)!.fix!;
      const after = applyEdits(text, fix.edits);
      assert.equal(after.slice(text.length), '\n\n__section("mine/second")\nint second(struct __sk_buff *skb)\n{\n\t/* A tail-called stage: what it returns goes to the datapath, so hand back its verdict. */\n\treturn verdict(skb);\n}\n');
      assert.deepEqual((await analyzeText(after, 'mine')).map((x) => x.code), []);
    });
    it('reports a stage defined without a section, and puts it into one', async () => {
      const text = file('int tail_stage2(struct __ctx_buff *ctx)\n{\n\treturn CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS));\n}\n');
      const f = (await analyzeText(text)).find((x) => x.code === DiagnosticCodes.stageUndefined)!;
      assert.match(f.message, /defined without a __section/);
      const after = applyEdits(text, f.fix!.edits);
      assert.match(after, /\n}\n__section\("prog\/stage2"\)\nint tail_stage2\(struct __ctx_buff \*ctx\)\n/);
      assert.deepEqual((await analyzeText(after)).map((x) => x.code), []);
    });
  });
});
