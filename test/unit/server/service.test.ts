// The service: incremental parsing matches a fresh parse, UAPI docs are read from the header (not hand-written),
// hover and completion content, scope, and the .wasm lookup.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ParsedDocument } from '../../../src/server/document';
import { hoverMarkdown } from '../../../src/server/docs';
import { maskAttributes } from '../../../src/server/mask';
import { C_GRAMMAR_WASM, createCParser, locateWasm, TREE_SITTER_WASM } from '../../../src/server/parser';
import { isCustomProgramDocument } from '../../../src/shared/customProgramScope';
import { LanguageService } from '../../../src/server/service';
import { DEFAULT_UAPI_HEADER, parseUapiHeader } from '../../../src/server/uapi';
import { readFixture } from './helpers';

const SAMPLE_UAPI = `/* header */
enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC,
	BPF_MAP_TYPE_HASH,
	BPF_MAP_TYPE_PROG_ARRAY = 3, /* a comment, with a comma */
	BPF_MAP_TYPE_PERCPU_ARRAY,
};
/*
 * Start of BPF helper function descriptions:
 *
 * void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)
 * 	Description
 * 		Perform a lookup in *map* for an entry associated to *key*.
 *
 * 		Second paragraph.
 * 	Return
 * 		Map value associated to *key*, or **NULL** if no entry was
 * 		found.
 *
 * long bpf_tail_call(void *ctx, struct bpf_map *prog_array_map, u32 index)
 * 	Description
 * 		Jump into another eBPF program.
 * 	Return
 * 		0 on success, or a negative error in case of failure.
 */
`;

describe('server service', () => {
  it('locates both .wasm files (beside the bundle first, else node_modules)', () => {
    for (const name of [TREE_SITTER_WASM, C_GRAMMAR_WASM]) assert.ok(fs.existsSync(locateWasm(name, '/nonexistent')), name);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-wasm-'));
    try {
      fs.writeFileSync(path.join(dir, C_GRAMMAR_WASM), '');
      assert.equal(locateWasm(C_GRAMMAR_WASM, dir), path.join(dir, C_GRAMMAR_WASM));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('masks attribute macros without moving anything', () => {
    const text = 'static __always_inline int f(void);\n__section("a/b") int g(void) { return 0; }\n';
    const masked = maskAttributes(text);
    assert.equal(masked.length, text.length);
    assert.equal(masked, 'static                 int f(void);\n                 int g(void) { return 0; }\n');
  });

  it('keeps the incremental tree equal to a fresh parse over a series of edits', async () => {
    const parser = await createCParser();
    let text = readFixture('faulty_tail_call.h');
    const doc = new ParsedDocument(parser, text);
    const edits: [string, string][] = [['if (!bytes)', 'if (!fc || !bytes)'], ['__u64 len;', '__u64 len; __u8 x;'], ['static __always_inline\nvoid', 'static __always_inline __u32\nvoid'], ['__always_', '__alwa_'], ['__alwa_', '__always_']];
    for (const [from, to] of edits) {
      text = text.replace(from, to);
      doc.update(text);
      const fresh = parser.parse(maskAttributes(text))!;
      assert.equal(doc.tree.rootNode.toString(), fresh.rootNode.toString(), `after ${from} -> ${to}`);
      fresh.delete();
    }
    doc.dispose();
    parser.delete();
  });

  it('reads helper and map-type docs from the UAPI header text', () => {
    const docs = parseUapiHeader(SAMPLE_UAPI, 'sample.h');
    assert.deepEqual([...docs.helpers.keys()], ['bpf_map_lookup_elem', 'bpf_tail_call']);
    assert.equal(docs.helpers.get('bpf_map_lookup_elem')!.signature, 'void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)');
    assert.equal(docs.helpers.get('bpf_map_lookup_elem')!.description, 'Perform a lookup in *map* for an entry associated to *key*.\n\nSecond paragraph.');
    assert.equal(docs.helpers.get('bpf_tail_call')!.returns, '0 on success, or a negative error in case of failure.');
    assert.deepEqual([...docs.mapTypes.values()].map((m) => `${m.name}=${m.value}`), ['BPF_MAP_TYPE_UNSPEC=0', 'BPF_MAP_TYPE_HASH=1', 'BPF_MAP_TYPE_PROG_ARRAY=3', 'BPF_MAP_TYPE_PERCPU_ARRAY=4']);
    const hover = hoverMarkdown(docs, 'map_lookup_elem')!;
    assert.match(hover, /void \*bpf_map_lookup_elem/);
    assert.match(hover, /`map_lookup_elem` is Cilium's wrapper .* for `bpf_map_lookup_elem`/);
    assert.match(hoverMarkdown(docs, 'tail_call')!, /Jump into another eBPF program/);
    assert.match(hoverMarkdown(docs, 'BPF_MAP_TYPE_PROG_ARRAY')!, /= 3/);
    assert.equal(hoverMarkdown(docs, 'custom_prog'), undefined);
  });

  it('reads this machine\'s linux/bpf.h when it has one', function () {
    if (!fs.existsSync(DEFAULT_UAPI_HEADER)) this.skip();
    const docs = parseUapiHeader(fs.readFileSync(DEFAULT_UAPI_HEADER, 'utf8'));
    assert.ok(docs.helpers.size > 100, `${docs.helpers.size} helpers`);
    for (const name of ['bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem', 'bpf_tail_call']) assert.ok(docs.helpers.get(name)?.description, name);
    assert.ok(docs.mapTypes.has('BPF_MAP_TYPE_PERCPU_ARRAY'));
  });

  it('hovers in custom programs only, and degrades without a header', async () => {
    const service = await LanguageService.create(path.join(os.tmpdir(), 'no-such-bpf.h'));
    assert.equal(service.uapi, undefined);
    assert.match(service.uapiError!, /no-such-bpf\.h/);
    service.open('file:///x/a.h', '/x/a.h', 'void custom_prog(const struct __ctx_buff *ctx, __u32 id) { bpf_tail_call(0, 0, 0); }');
    assert.equal(service.hover('file:///x/a.h', 0, 62), undefined);
    service.dispose();
    if (!fs.existsSync(DEFAULT_UAPI_HEADER)) return;
    const real = await LanguageService.create();
    real.open('file:///x/a.h', '/x/a.h', 'void custom_prog(const struct __ctx_buff *ctx, __u32 id) { bpf_tail_call(0, 0, 0); }');
    assert.match(real.hover('file:///x/a.h', 0, 62)!, /tail call/);
    real.open('file:///nowhere/b.c', '/nonexistent-dir/b.c', 'int main(void) { int *p = bpf_map_lookup_elem(0, 0); return *p; }');
    assert.equal(real.hover('file:///nowhere/b.c', 0, 30), undefined);
    assert.deepEqual(real.findings('file:///nowhere/b.c'), []);
    real.dispose();
  });

  it('scopes to custom-program folders', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-scope-'));
    try {
      assert.equal(isCustomProgramDocument(path.join(dir, 'x.h'), 'int x;'), false);
      fs.writeFileSync(path.join(dir, 'Makefile'), 'all:\n\t$(MAKE) BPF_CUSTOM_PROG_FILE=$(F)\n');
      assert.equal(isCustomProgramDocument(path.join(dir, 'x.h'), 'int x;', ), false, 'cached for a few seconds');
      const other = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-scope2-'));
      fs.writeFileSync(path.join(other, 'Makefile'), 'X = BPF_CUSTOM_PROG_FILE\n');
      assert.equal(isCustomProgramDocument(path.join(other, 'x.h'), 'int x;'), true);
      fs.rmSync(other, { recursive: true, force: true });
      assert.equal(isCustomProgramDocument(undefined, 'void custom_prog(const struct __ctx_buff *c, __u32 i);'), true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
