// clang's dependency files (-MD -MF), read back into the list of files the compiler read.
import * as assert from 'node:assert/strict';
import { parseDepFile } from '../../../src/core/build/depFile';

describe('dependency file parsing', () => {
  it('reads the prerequisites across continuation lines, resolving relative names against the make directory', () => {
    const text = 'x.o: bpf_custom.c include/sdk/prelude.h \\\n  /usr/include/linux/types.h \\\n  /h/prog.h\n';
    assert.deepEqual(parseDepFile(text, '/sdk'), ['/sdk/bpf_custom.c', '/sdk/include/sdk/prelude.h', '/usr/include/linux/types.h', '/h/prog.h']);
  });

  it("undoes clang's escapes: a space, '#' and '$' (what clang 14 writes for `we ird#$x/h a.h`)", () => {
    assert.deepEqual(parseDepFile('/t/m.o: m.c we\\ ird\\#$$x/h\\ a.h\n', '/t'), ['/t/m.c', '/t/we ird#$x/h a.h']);
  });

  it('keeps a backslash that escapes nothing, and doubles before a space', () => {
    assert.deepEqual(parseDepFile('o: a\\b.h c\\\\\\ d.h\n', '/'), ['/a\\b.h', '/c\\ d.h']);
  });

  it('skips a target holding a colon, and lists each file once', () => {
    assert.deepEqual(parseDepFile('/a:b/x.o: /i/a.h /i/b.h /i/a.h\n', '/'), ['/i/a.h', '/i/b.h']);
  });

  it('reads only the first rule, and nothing from an empty or foreign file', () => {
    assert.deepEqual(parseDepFile('x.o: a.h\n\na.h:\n', '/d'), ['/d/a.h']);
    assert.deepEqual(parseDepFile('', '/d'), []);
    assert.deepEqual(parseDepFile('no rule here\n', '/d'), []);
  });
});
