// src/shared/customProgramScope.ts: the one module that decides what a custom program is, and the activation events
// that must agree with it (a header opened as C++ in a folder with no Makefile activates the extension).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as headers from '../../../src/core/build/headers';
import * as makeDirectory from '../../../src/core/build/makeDirectory';
import {
  CUSTOM_PROGRAM_DOCUMENT_SELECTOR,
  CUSTOM_PROGRAM_WORKSPACE_MARKERS,
  folderIsCustomProgram,
  forgetFolder,
  isCSourceDocument,
  isCustomProgramDocument,
  isCustomProgramEditorDocument,
  isCustomProgramMakeDir,
  isCustomProgramSource,
} from '../../../src/shared/customProgramScope';
import { repoRoot } from '../verifier/corpus';

const PROGRAM = '#include <bpf/api.h>\n\nstatic __always_inline void custom_prog(const struct __ctx_buff *ctx, __u32 identity)\n{\n}\n';

describe('custom-program scope', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'scope-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const write = (rel: string, text: string) => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  const doc = (fileName: string, languageId: string, text = '', scheme = 'file') => ({ uri: { scheme }, fileName, languageId, getText: () => text });

  it('activates on C, on headers opened as C++, and on the workspace markers it checks itself', () => {
    const events = (JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { activationEvents: string[] }).activationEvents;
    for (const event of ['onLanguage:c', 'onLanguage:cpp']) assert.ok(events.includes(event), `${event} missing from ${JSON.stringify(events)}`);
    const contains = events.filter((e) => e.startsWith('workspaceContains:')).map((e) => e.slice('workspaceContains:'.length));
    assert.deepEqual(contains.sort(), [...CUSTOM_PROGRAM_WORKSPACE_MARKERS].sort());
    assert.ok(!contains.some((glob) => /\*\.h$/.test(glob)), 'no workspaceContains on every header: onLanguage:cpp covers them');
  });

  it('selects C documents and .h documents VS Code opens as C++, on disk only', () => {
    assert.ok(isCSourceDocument(doc('/w/a.h', 'cpp')));
    assert.ok(isCSourceDocument(doc('/w/a.h', 'c')));
    assert.ok(isCSourceDocument(doc('/w/bpf_custom.c', 'c')));
    assert.ok(!isCSourceDocument(doc('/w/a.cpp', 'cpp')));
    assert.ok(!isCSourceDocument(doc('/w/a.hpp', 'cpp')));
    assert.ok(!isCSourceDocument(doc('/w/a.h', 'cpp', '', 'untitled')));
    assert.ok(!isCSourceDocument(doc('/w/a.log', 'bpf-verifier-log')));
    assert.deepEqual(
      CUSTOM_PROGRAM_DOCUMENT_SELECTOR.map((f) => f.language),
      ['c', 'cpp'],
      'the language client selects the same documents',
    );
    assert.equal(CUSTOM_PROGRAM_DOCUMENT_SELECTOR.find((f) => f.language === 'cpp')?.pattern, '**/*.h');
  });

  it('a header opened as C++ in a folder of headers (no Makefile, no bpf_custom.c) is a custom program', () => {
    const header = write('headers/bytecount.h', PROGRAM);
    const helper = write('headers/helper.h', 'static int helper(void) { return 0; }\n');
    const elsewhere = write('other/plain.h', 'int plain;\n');
    assert.ok(isCustomProgramEditorDocument(doc(header, 'cpp', PROGRAM)));
    assert.ok(isCustomProgramEditorDocument(doc(helper, 'cpp', fs.readFileSync(helper, 'utf8'))), 'a helper next to a custom program');
    assert.ok(!isCustomProgramEditorDocument(doc(elsewhere, 'cpp', 'int plain;\n')));
    assert.ok(!isCustomProgramEditorDocument(doc(path.join(root, 'headers', 'x.cpp'), 'cpp', PROGRAM)), 'not a C source');
  });

  it('a folder is a custom-program folder by its landing program, its Makefile, or a custom-program source', () => {
    const now = 1_000_000;
    write('landing/bpf_custom.c', '');
    write('make/Makefile', 'all:\n\t$(CLANG) -DBPF_CUSTOM_PROG_FILE=$(BPF_CUSTOM_PROG_FILE)\n');
    write('source/prog.h', PROGRAM);
    write('plain/a.h', 'int a;\n');
    write('plain/Makefile', 'all:\n\tcc a.c\n');
    assert.ok(folderIsCustomProgram(path.join(root, 'landing'), now));
    assert.ok(folderIsCustomProgram(path.join(root, 'make'), now));
    assert.ok(folderIsCustomProgram(path.join(root, 'source'), now));
    assert.ok(!folderIsCustomProgram(path.join(root, 'plain'), now));
    assert.ok(!folderIsCustomProgram(path.join(root, 'missing'), now));
  });

  it('caches folder answers a few seconds, until forgotten', () => {
    const dir = path.join(root, 'later');
    write('later/a.h', 'int a;\n');
    assert.ok(!isCustomProgramDocument(path.join(dir, 'a.h'), 'int a;'));
    write('later/b.h', PROGRAM);
    assert.ok(!isCustomProgramDocument(path.join(dir, 'a.h'), 'int a;'), 'cached');
    forgetFolder(dir);
    assert.ok(isCustomProgramDocument(path.join(dir, 'a.h'), 'int a;'));
  });

  it('reads the Makefile make would use, in make order', () => {
    write('gnu/GNUmakefile', 'all:\n\tcc x.c\n');
    write('gnu/Makefile', 'BPF_CUSTOM_PROG_FILE ?= x.h\n');
    assert.ok(!isCustomProgramMakeDir(path.join(root, 'gnu')), 'make uses GNUmakefile, which does not honour the variable');
    write('lower/makefile', 'BPF_CUSTOM_PROG_FILE ?= x.h\n');
    assert.ok(isCustomProgramMakeDir(path.join(root, 'lower')));
  });

  it('is the only decision: the build and the task provider use the same functions', () => {
    assert.equal(headers.isCustomProgramSource, isCustomProgramSource);
    assert.equal(makeDirectory.isCustomProgramMakeDir, isCustomProgramMakeDir);
    assert.ok(isCustomProgramSource('void custom_prog (const struct __ctx_buff *ctx, __u32 id);'));
    assert.ok(!isCustomProgramSource('int my_custom_prog_count;'));
  });

  it('bounds the work of a folder scan (a big include folder is read only in part)', () => {
    for (let i = 0; i < 300; i++) write(`big/h${String(i).padStart(3, '0')}.h`, 'int x;\n');
    const started = process.hrtime.bigint();
    assert.ok(!folderIsCustomProgram(path.join(root, 'big'), 2_000_000));
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000);
  });
});
