// The contributed snippets as a user gets them: a small expander for VS Code's snippet syntax, and how each snippet
// becomes a complete header (fragments get a minimal custom_prog, or the other tail-call pieces in the README's
// order). Shared by the snippet system tests and the Cilium compatibility tier, so both judge the same headers.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './fixtures';

export const SNIPPET_DIR = path.join(REPO, 'snippets');

export interface Snippet {
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

export function variablesFor(headerPath: string): Record<string, string> {
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

export type Expand = (prefix: string, overrides?: Record<number, string>) => string;

export const MINIMAL_PROG = `
static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
\t(void)ctx;
\t(void)identity;
}
`;

/** The pieces of a tail-call program, in the order the README gives them; each is expanded once, with its defaults. */
export const TAIL_CALL_SET = ['ctailctx', 'cprogarray', 'cstage0', 'cstage1'];

/** A header made of the tail-call pieces, one expansion after another (what a user typing them in gets). */
export const tailCallProgram = (expand: Expand) => TAIL_CALL_SET.map((prefix) => expand(prefix)).join('\n');

export const ASSEMBLY: Record<string, (expand: Expand) => string> = {
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

export function loadSnippets(): Map<string, Snippet> {
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


/** An expander of snippets by prefix, with the variables VS Code would give a header at `headerPath`. */
export function expanderFor(snippets: Map<string, Snippet>, headerPath: string): Expand {
  return (prefix, overrides) => {
    const s = snippets.get(prefix);
    assert.ok(s, `no snippet with prefix ${prefix}`);
    return expandSnippet(Array.isArray(s.body) ? s.body.join('\n') : s.body, variablesFor(headerPath), overrides);
  };
}
