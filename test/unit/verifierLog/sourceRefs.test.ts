// `@ file:line` references of line-info comments (the spans the document links sit on).
import * as assert from 'node:assert/strict';
import { findSourceRef, findSourceRefs } from '../../../src/extension/verifierLog/logStructure';
import { corpusLog } from './paths';

/** The text a span covers. */
function covered(line: string): string | null {
  const ref = findSourceRef(line);
  return ref ? line.slice(ref.start, ref.end) : null;
}

describe('verifierLog: findSourceRef', () => {
  it('finds file and line of a 6.8+ line-info comment, spanning exactly `file:line`', () => {
    const line = '; *val += 1; @ 01-x.c:16';
    assert.deepEqual(findSourceRef(line), { start: 15, end: 24, file: '01-x.c', line: 16 });
    assert.equal(covered(line), '01-x.c:16');
  });

  it('anchors on the last " @ " when the source text contains `@` and `:`', () => {
    const line = '; x = a ? b : c; /* mail @ host:25 */ @ prog.c:42';
    assert.deepEqual(findSourceRef(line), { start: 40, end: 49, file: 'prog.c', line: 42 });
    assert.equal(covered('; bpf_printk("at @ %d:%d", a, b); @ dir/sub.c:7'), 'dir/sub.c:7');
    assert.equal(findSourceRef('; bpf_printk("at @ %d:%d", a, b); @ dir/sub.c:7')?.file, 'dir/sub.c');
  });

  it('gives no link for line 0 (compiler-generated instructions)', () => {
    assert.equal(findSourceRef(';  @ f.c:0'), null);
    assert.equal(findSourceRef(';  @ 01-map-value-or-null-deref-k6.18.44.c:0'), null);
  });

  it("gives no link for cilium/ebpf's synthetic `@ :0` or an empty file name", () => {
    assert.equal(findSourceRef('; instruction poisoned by CO-RE @ :0'), null);
    assert.equal(findSourceRef('; something @ :12'), null);
  });

  it('ignores lines that are not line-info comments', () => {
    // CO-RE spec with " @ offset", instructions with a state comment, old comments without " @ ".
    assert.equal(findSourceRef('failed to resolve CO-RE relocation <byte_off> [7] struct t.f (0:1 @ offset 8)'), null);
    assert.equal(findSourceRef('7: (79) r1 = *(u64 *)(r0 +0)          ; R1=scalar()'), null);
    assert.equal(findSourceRef('; data->submit_p->buf[i] = index;'), null);
    assert.equal(findSourceRef(';'), null);
    assert.equal(findSourceRef('libbpf: x @ y.c:3'), null);
    assert.equal(findSourceRef('; text @ file.c:12abc'), null);
  });

  it('handles headers, absolute paths, indented (cilium/ebpf %+v) lines and trailing blanks', () => {
    assert.equal(findSourceRef('; return bpf_htons(x); @ types.h:81')?.file, 'types.h');
    assert.deepEqual(findSourceRef('; x @ /home/me/src/prog.c:5'), { start: 6, end: 27, file: '/home/me/src/prog.c', line: 5 });
    assert.equal(covered('\t; x @ a.c:3'), 'a.c:3');
    assert.equal(covered('; x @ a.c:3  \r'), 'a.c:3');
  });

  it('finds every reference of a corpus log with its line index', () => {
    const { lines } = corpusLog('01-');
    const refs = findSourceRefs(lines);
    const file = '01-map-value-or-null-deref-k6.18.44.c';
    assert.deepEqual(
      refs.map((r) => [r.lineIndex, r.file, r.line]),
      [
        [37, file, 14],
        [43, file, 15],
        [46, file, 16],
      ],
    );
    for (const ref of refs) assert.equal(lines[ref.lineIndex]?.slice(ref.start, ref.end), `${file}:${ref.line}`);
  });
});
