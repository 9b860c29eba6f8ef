// Every contributed snippet, expanded with its default placeholders, builds with the bundled SDK (warnings are
// errors), passes the kernel verifier, and gives the language server nothing to report. Fragments (a map, a stage)
// are assembled into a minimal complete header; how is decided per snippet in ASSEMBLY below, and a snippet missing
// from that table fails the test. The README lists exactly the snippets there are, and the tail-call pieces,
// expanded one after another in the README's order as a user does, make one program that verifies; a stage the
// user adds to the array without defining it is caught by the lint, and its quick fix makes the program load.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHeader } from '../../src/core/build/build';
import { analyzeText } from '../../src/server/analyzeText';
import { DiagnosticCodes } from '../../src/shared/protocol';
import { applyEdits } from '../unit/server/helpers';
import { REPO, SDK_DIR, tempDir } from './helpers/fixtures';
import { requireBpf } from './helpers/require';
import { ASSEMBLY, expanderFor as expanderOf, expandSnippet, loadSnippets, TAIL_CALL_SET, tailCallProgram, type Expand } from './helpers/snippets';

/** The snippet prefixes the README's Snippets section names, in its order. */
function readmeSnippets(): string[] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = /^### Snippets\n([\s\S]*?)(?=^#)/m.exec(readme);
  assert.ok(section, 'README.md has a "### Snippets" section');
  return [...section[1].matchAll(/`(c[a-z0-9]+)`/g)].map((m) => m[1]).filter((p, i, all) => all.indexOf(p) === i);
}

/** Builds `header` with the bundled SDK (warnings are errors) and loads it through the verifier; pins removed. */
async function buildAndVerify(header: string, what: string): Promise<void> {
  const pin = `/sys/fs/bpf/cilium_custom_test_${path.basename(header, '.h')}_${process.pid}`;
  try {
    const build = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR, extraVariables: { EXTRA_CFLAGS: '-Werror' } });
    assert.ok(build.ok, `${what} does not build:\n${build.output}\n--- header ---\n${fs.readFileSync(header, 'utf8')}`);
    try {
      execFileSync('bpftool', ['prog', 'load', build.objectPath, pin, 'type', 'classifier', 'pinmaps', `${pin}_maps`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      const e = error as { stderr?: string };
      assert.fail(`${what} is rejected by the verifier:\n${e.stderr ?? String(error)}`);
    }
  } finally {
    fs.rmSync(pin, { force: true });
    fs.rmSync(`${pin}_maps`, { recursive: true, force: true });
  }
}

describe('snippets', () => {
  it('expands VS Code snippet syntax', () => {
    const vars = { TM_FILENAME_BASE: 'foo' };
    assert.equal(expandSnippet('a $1 ${1:x} ${2|p,q|} $2 ${3:${TM_FILENAME_BASE}_m} $3 \\$4 \\} $0', vars), 'a x x p p foo_m foo_m $4 } ');
    assert.equal(expandSnippet('${1:outer ${2:inner}} $2 ${UNKNOWN:dflt} $UNKNOWN', vars), 'outer inner inner dflt UNKNOWN');
    assert.equal(expandSnippet('${1:a} $1', vars, { 1: 'b' }), 'b b');
  });

  const snippets = loadSnippets();

  it('has an assembly entry for every snippet, and no stale ones', () => {
    assert.deepEqual([...snippets.keys()].filter((p) => !(p in ASSEMBLY)), [], 'snippets missing from ASSEMBLY in this test');
    assert.deepEqual(Object.keys(ASSEMBLY).filter((p) => !snippets.has(p)), [], 'ASSEMBLY names snippets that do not exist');
  });

  const expanderFor = (header: string): Expand => expanderOf(snippets, header);

  it('the README lists every snippet, and the tail-call pieces in the order they go together', () => {
    const listed = readmeSnippets();
    assert.deepEqual([...listed].sort(), [...snippets.keys()].sort(), 'README.md "### Snippets" vs snippets/*.code-snippets');
    const order = TAIL_CALL_SET.map((p) => listed.indexOf(p));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `README order of ${TAIL_CALL_SET.join(', ')}`);
  });

  for (const prefix of Object.keys(ASSEMBLY)) {
    it(`${prefix}: expands into a header that builds, passes the verifier, and has no lint finding`, async function () {
      requireBpf(this);
      assert.ok(snippets.get(prefix), `no snippet with prefix ${prefix}`);
      const tmp = tempDir('cilium-custom-snippet-');
      try {
        const header = path.join(tmp.dir, `snippet_${prefix}.h`);
        const text = `${ASSEMBLY[prefix](expanderFor(header))}\n`;
        fs.writeFileSync(header, text);
        assert.deepEqual((await analyzeText(text, `snippet_${prefix}`)).map((f) => `${f.range.start.row + 1}: ${f.message}`), [], `${prefix}: language server findings`);
        await buildAndVerify(header, prefix);
      } finally {
        tmp.remove();
      }
    });
  }

  it('the tail-call pieces in README order, then a second stage added to the array: the lint names it, its quick fix defines it, and the program verifies', async function () {
    requireBpf(this);
    const tmp = tempDir('cilium-custom-snippet-');
    try {
      const header = path.join(tmp.dir, 'snippet_set.h');
      // What the cprogarray comment says to do for another stage: a slot constant, a declaration, an entry.
      let text = `${tailCallProgram(expanderFor(header))}\n`
        .replace('\tTAIL_STAGE_MAX,', '\tTAIL_STAGE2 = 1,\n\tTAIL_STAGE_MAX,')
        .replace('int tail_stage1(struct __ctx_buff *ctx);', 'int tail_stage1(struct __ctx_buff *ctx);\nint tail_stage2(struct __ctx_buff *ctx);')
        .replace('[TAIL_STAGE1] = (void *)&tail_stage1,', '[TAIL_STAGE1] = (void *)&tail_stage1,\n\t\t[TAIL_STAGE2] = (void *)&tail_stage2,');
      assert.match(text, /\[TAIL_STAGE2\] = \(void \*\)&tail_stage2/);
      const findings = await analyzeText(text, 'snippet_set');
      assert.deepEqual(findings.map((f) => f.code), [DiagnosticCodes.stageUndefined]);
      assert.match(findings[0].message, /`tail_stage2`.*failed to find BTF for extern 'tail_stage2'/);
      // Without the fix libbpf refuses the object, as the lint says.
      fs.writeFileSync(header, text);
      await assert.rejects(buildAndVerify(header, 'the set with an undefined stage'), /failed to find BTF for extern 'tail_stage2'/);
      text = applyEdits(text, findings[0].fix!.edits);
      assert.match(text, /__section\("snippet_set\/stage2"\)\nint tail_stage2\(struct __ctx_buff \*ctx\)/);
      assert.deepEqual(await analyzeText(text, 'snippet_set'), []);
      fs.writeFileSync(header, text);
      await buildAndVerify(header, 'the set with the quick-fixed second stage');
    } finally {
      tmp.remove();
    }
  });
});
