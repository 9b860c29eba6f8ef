// Every contributed snippet as a complete header, expanded with its default placeholders the way
// test/system/snippets.test.ts does (same expander, same assembly of fragments), for the Cilium compatibility tier.
// A snippet missing from ASSEMBLY is reported by `snippetHeaders()`, so a new snippet cannot skip this tier.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from '../system/helpers/fixtures';

const SNIPPET_DIR = path.join(REPO, 'snippets');

interface Snippet {
  prefix: string | string[];
  body: string | string[];
}

// VS Code's snippet syntax: tabstops ($1, ${1}), placeholders (${1:default}, nested), choices (${1|a,b|} -> first),
// variables ($NAME, ${NAME}, ${NAME:default}), escapes (\$, \}, \\). A tabstop's default is taken from whichever
// occurrence has one (VS Code mirrors it into the others). Transforms are not supported.
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

function expandSnippet(body: string, variables: Record<string, string>): string {
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
          return node.children ? render(node.children, active) : node.name;
        }
        const value = defaults.get(node.index);
        if (value === undefined || active.has(node.index)) return '';
        if (typeof value === 'string') return value;
        return render(value, new Set([...active, node.index]));
      })
      .join('');
  return render(nodes, new Set());
}

function variablesFor(headerName: string): Record<string, string> {
  return {
    TM_FILENAME: headerName,
    TM_FILENAME_BASE: headerName.replace(/\.[^.]*$/, ''),
    TM_DIRECTORY: '.',
    TM_FILEPATH: headerName,
    RELATIVE_FILEPATH: headerName,
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

type Expand = (prefix: string) => string;

const MINIMAL_PROG = `
static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
\t(void)ctx;
\t(void)identity;
}
`;

/** The tail-call pieces in the README's order, each expanded once with its defaults (as snippets.test.ts does). */
const TAIL_CALL_SET = ['ctailctx', 'cprogarray', 'cstage0', 'cstage1'];
const tailCallProgram = (expand: Expand) => TAIL_CALL_SET.map((prefix) => expand(prefix)).join('\n');

/** Same assembly as test/system/snippets.test.ts: fragments get a minimal custom_prog or the other tail-call pieces. */
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

export interface SnippetHeader {
  prefix: string;
  /** The header's file name, `snippet_<prefix>.h` (its base name is the snippets' $TM_FILENAME_BASE). */
  name: string;
  text: string;
}

export function loadSnippets(): Map<string, Snippet> {
  const byPrefix = new Map<string, Snippet>();
  for (const file of fs.readdirSync(SNIPPET_DIR).filter((f) => f.endsWith('.code-snippets') || f.endsWith('.json'))) {
    const parsed = JSON.parse(fs.readFileSync(path.join(SNIPPET_DIR, file), 'utf8')) as Record<string, Snippet>;
    for (const snippet of Object.values(parsed)) {
      for (const prefix of Array.isArray(snippet.prefix) ? snippet.prefix : [snippet.prefix]) byPrefix.set(prefix, snippet);
    }
  }
  return byPrefix;
}

/** Prefixes of snippets this tier does not know how to assemble (must be empty). */
export function unassembledSnippets(): string[] {
  return [...loadSnippets().keys()].filter((p) => !(p in ASSEMBLY));
}

/** One complete header per snippet that ASSEMBLY knows and that exists. */
export function snippetHeaders(): SnippetHeader[] {
  const snippets = loadSnippets();
  return Object.keys(ASSEMBLY)
    .filter((prefix) => snippets.has(prefix))
    .map((prefix) => {
      const name = `snippet_${prefix}.h`;
      const expand: Expand = (p) => {
        const s = snippets.get(p);
        if (!s) throw new Error(`no snippet with prefix ${p}`);
        return expandSnippet(Array.isArray(s.body) ? s.body.join('\n') : s.body, variablesFor(name));
      };
      return { prefix, name, text: `${ASSEMBLY[prefix](expand)}\n` };
    });
}
