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

const SNIPPET_DIR = path.join(REPO, 'snippets');

interface Snippet {
  prefix: string | string[];
  body: string | string[];
  description?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// A small expander for VS Code's snippet syntax: tabstops ($1, ${1}), placeholders (${1:default}, nested), choices
// (${1|a,b|} -> first), variables ($NAME, ${NAME}, ${NAME:default}), escapes (\$, \}, \\). A tabstop's default is
// taken from whichever occurrence has one (VS Code mirrors it into the others). Transforms are not supported.

type Node =
  | { kind: 'text'; value: string }
  | { kind: 'tabstop'; index: number; children: Node[] | undefined; choice?: string }
  | { kind: 'variable'; name: string; children: Node[] | undefined };

function parseSnippet(source: string): Node[] {
  let pos = 0;
  const parseUntil = (stopAtBrace: boolean): Node[] => {
    const nodes: Node[] = [];
    let text = '';
    const flush = () => {
      if (text) nodes.push({ kind: 'text', value: text });
      text = '';
    };
    while (pos < source.length) {
      const c = source[pos];
      if (c === '\\' && pos + 1 < source.length && '$}\\'.includes(source[pos + 1])) {
        text += source[pos + 1];
        pos += 2;
      } else if (c === '}' && stopAtBrace) {
        break;
      } else if (c === '$') {
        const node = parseDollar();
        if (node) {
          flush();
          nodes.push(node);
        } else {
          text += '$';
          pos += 1;
        }
      } else {
        text += c;
        pos += 1;
      }
    }
    flush();
    return nodes;
  };
  const parseDollar = (): Node | undefined => {
    const rest = source.slice(pos);
    let m = /^\$(\d+)/.exec(rest);
    if (m) {
      pos += m[0].length;
      return { kind: 'tabstop', index: Number(m[1]), children: undefined };
    }
    m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (m) {
      pos += m[0].length;
      return { kind: 'variable', name: m[1], children: undefined };
    }
    m = /^\$\{(\d+)\|((?:[^|\\]|\\.)*)\|\}/.exec(rest);
    if (m) {
      pos += m[0].length;
      const first = m[2].split(/(?<!\\),/)[0].replace(/\\(.)/g, '$1');
      return { kind: 'tabstop', index: Number(m[1]), children: undefined, choice: first };
    }
    m = /^\$\{(\d+|[A-Za-z_][A-Za-z0-9_]*)(:|\}|\/)/.exec(rest);
    if (!m) return undefined;
    if (m[2] === '/') throw new Error(`snippet transforms are not supported by this expander: ${rest.slice(0, 40)}`);
    pos += m[0].length;
    let children: Node[] | undefined;
    if (m[2] === ':') {
      children = parseUntil(true);
      if (source[pos] !== '}') throw new Error(`unterminated \${${m[1]}:...`);
      pos += 1;
    }
    return /^\d+$/.test(m[1]) ? { kind: 'tabstop', index: Number(m[1]), children } : { kind: 'variable', name: m[1], children };
  };
  const nodes = parseUntil(false);
  if (pos !== source.length) throw new Error(`unexpected '}' at ${pos}`);
  return nodes;
}

export function expandSnippet(body: string, variables: Record<string, string>, overrides: Record<number, string> = {}): string {
  const nodes = parseSnippet(body);
  const defaults = new Map<number, Node[] | string>();
  const collect = (list: Node[]) => {
    for (const node of list) {
      if (node.kind === 'text') continue;
      if (node.kind === 'tabstop') {
        if (node.choice !== undefined && !defaults.has(node.index)) defaults.set(node.index, node.choice);
        if (node.children && !defaults.has(node.index)) defaults.set(node.index, node.children);
      }
      if (node.children) collect(node.children);
    }
  };
  collect(nodes);
  const render = (list: Node[], active: Set<number>): string =>
    list
      .map((node) => {
        if (node.kind === 'text') return node.value;
        if (node.kind === 'variable') {
          if (node.name in variables) return variables[node.name];
          // VS Code inserts an unknown variable's default, else its name.
          return node.children ? render(node.children, active) : node.name;
        }
        if (node.index in overrides) return overrides[node.index];
        const value = defaults.get(node.index);
        if (value === undefined || active.has(node.index)) return '';
        if (typeof value === 'string') return value;
        return render(value, new Set([...active, node.index]));
      })
      .join('');
  return render(nodes, new Set());
}

function variablesFor(headerPath: string): Record<string, string> {
  const base = path.basename(headerPath);
  return {
    TM_FILENAME: base,
    TM_FILENAME_BASE: base.replace(/\.[^.]*$/, ''),
    TM_DIRECTORY: path.dirname(headerPath),
    TM_FILEPATH: headerPath,
    RELATIVE_FILEPATH: base,
    TM_SELECTED_TEXT: '',
    TM_CURRENT_LINE: '',
    TM_CURRENT_WORD: '',
    TM_LINE_INDEX: '0',
    TM_LINE_NUMBER: '1',
    CLIPBOARD: '',
    WORKSPACE_NAME: 'workspace',
    CURRENT_YEAR: '2026',
    CURRENT_YEAR_SHORT: '26',
    CURRENT_MONTH: '01',
    CURRENT_DATE: '01',
    BLOCK_COMMENT_START: '/*',
    BLOCK_COMMENT_END: '*/',
    LINE_COMMENT: '//',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// How each snippet becomes a complete header. `expand(prefix, overrides?)` expands another snippet by prefix.

type Expand = (prefix: string, overrides?: Record<number, string>) => string;

const MINIMAL_PROG = `
static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
\t(void)ctx;
\t(void)identity;
}
`;

/** The pieces of a tail-call program, in the order the README gives them; each is expanded once, with its defaults. */
const TAIL_CALL_SET = ['ctailctx', 'cprogarray', 'cstage0', 'cstage1'];

/** A header made of the tail-call pieces, one expansion after another (what a user typing them in gets). */
const tailCallProgram = (expand: Expand) => TAIL_CALL_SET.map((prefix) => expand(prefix)).join('\n');

const ASSEMBLY: Record<string, (expand: Expand) => string> = {
  cprog: (expand) => expand('cprog'),
  cmap: (expand) => `${expand('cmap')}\n${MINIMAL_PROG}`,
  ctailctx: (expand) => `${expand('ctailctx')}\n${MINIMAL_PROG}`,
  cstage0: tailCallProgram,
  cstage1: tailCallProgram,
  cprogarray: tailCallProgram,
  ctailcall: (expand) => expand('ctailcall'),
  cbytecount: (expand) => expand('cbytecount'),
  cpktcount: (expand) => expand('cpktcount'),
};

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

function loadSnippets(): Map<string, Snippet> {
  const byPrefix = new Map<string, Snippet>();
  const files = fs.readdirSync(SNIPPET_DIR).filter((f) => f.endsWith('.code-snippets') || f.endsWith('.json'));
  assert.ok(files.length > 0, `no snippet files in ${SNIPPET_DIR}`);
  for (const file of files) {
    const parsed = JSON.parse(fs.readFileSync(path.join(SNIPPET_DIR, file), 'utf8')) as Record<string, Snippet>;
    for (const [name, snippet] of Object.entries(parsed)) {
      const prefixes = Array.isArray(snippet.prefix) ? snippet.prefix : [snippet.prefix];
      assert.ok(snippet.description, `${file}: snippet "${name}" has no description`);
      for (const prefix of prefixes) {
        assert.ok(!byPrefix.has(prefix), `${file}: prefix ${prefix} is used twice`);
        byPrefix.set(prefix, snippet);
      }
    }
  }
  return byPrefix;
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

  const expanderFor = (header: string): Expand => (p, overrides) => {
    const s = snippets.get(p);
    assert.ok(s, `no snippet with prefix ${p}`);
    return expandSnippet(Array.isArray(s.body) ? s.body.join('\n') : s.body, variablesFor(header), overrides);
  };

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
