// Every contributed snippet, expanded with its default placeholders, builds with the bundled SDK (warnings are
// errors) and passes the kernel verifier. Fragments (a map, a stage) are assembled into a minimal complete header;
// how is decided per snippet in ASSEMBLY below, and a snippet missing from that table fails the test.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHeader } from '../../src/core/build/build';
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

/** A full tail-call program: context map, prog array, entry stage, and two later stages. */
const tailCallProgram = (expand: Expand) =>
  [
    expand('ctailctx'),
    expand('cprogarray'),
    expand('cstage0'),
    expand('cstage1'),
    // The second stage is the same snippet with the names the prog array expects for slot 2.
    expand('cstage1', { 2: 'stage2', 3: 'tail_stage2' }),
  ].join('\n');

const ASSEMBLY: Record<string, (expand: Expand) => string> = {
  cprog: (expand) => expand('cprog'),
  cmap: (expand) => `${expand('cmap')}\n${MINIMAL_PROG}`,
  ctailctx: (expand) => `${expand('ctailctx')}\n${MINIMAL_PROG}`,
  cstage0: tailCallProgram,
  cstage1: tailCallProgram,
  cprogarray: tailCallProgram,
  cbytecount: (expand) => expand('cbytecount'),
  cpktcount: (expand) => expand('cpktcount'),
};

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

  for (const prefix of Object.keys(ASSEMBLY)) {
    it(`${prefix}: expands into a header that builds and passes the verifier`, async function () {
      requireBpf(this);
      const snippet = snippets.get(prefix);
      assert.ok(snippet, `no snippet with prefix ${prefix}`);
      const tmp = tempDir('cilium-custom-snippet-');
      const name = `snippet_${prefix}`;
      const pin = `/sys/fs/bpf/cilium_custom_test_${name}_${process.pid}`;
      try {
        const header = path.join(tmp.dir, `${name}.h`);
        const expand: Expand = (p, overrides) => {
          const s = snippets.get(p);
          assert.ok(s, `no snippet with prefix ${p}`);
          return expandSnippet(Array.isArray(s.body) ? s.body.join('\n') : s.body, variablesFor(header), overrides);
        };
        fs.writeFileSync(header, `${ASSEMBLY[prefix](expand)}\n`);
        const build = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR, extraVariables: { EXTRA_CFLAGS: '-Werror' } });
        assert.ok(build.ok, `${prefix} does not build:\n${build.output}\n--- header ---\n${fs.readFileSync(header, 'utf8')}`);
        try {
          execFileSync('bpftool', ['prog', 'load', build.objectPath, pin, 'type', 'classifier', 'pinmaps', `${pin}_maps`], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          });
        } catch (error) {
          const e = error as { stderr?: string };
          assert.fail(`${prefix} is rejected by the verifier:\n${e.stderr ?? String(error)}`);
        }
      } finally {
        fs.rmSync(pin, { force: true });
        fs.rmSync(`${pin}_maps`, { recursive: true, force: true });
        tmp.remove();
      }
    });
  }
});
