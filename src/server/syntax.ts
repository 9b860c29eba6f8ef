// Small helpers over tree-sitter's C syntax tree, and the file model the rules share: maps, structs, constants,
// functions, map lookups.
import { type Language, type Node, type Point, Query, type Tree } from 'web-tree-sitter';
import { sectionIn } from './mask';

export interface Range {
  start: Point;
  end: Point;
}

export const rangeOf = (node: Node): Range => ({ start: node.startPosition, end: node.endPosition });

/** Named descendants of `node` (itself included), of one type or a set of types; only those become Node objects. */
export function* descendants(node: Node, type?: string | ReadonlySet<string>): Generator<Node> {
  const cursor = node.walk();
  const wanted = (t: string): boolean => type === undefined || (typeof type === 'string' ? t === type : type.has(t));
  try {
    for (;;) {
      if (cursor.nodeIsNamed && wanted(cursor.nodeType)) yield cursor.currentNode;
      if (cursor.gotoFirstChild()) continue;
      for (;;) {
        if (cursor.gotoNextSibling()) break;
        if (!cursor.gotoParent()) return;
      }
    }
  } finally {
    cursor.delete();
  }
}

// One query over the whole tree collects every node type the rules look at (one call into wasm instead of a walk
// per question); nodesIn() then answers "all X inside this scope" by binary search.
const INDEXED_TYPES = [
  'identifier', 'call_expression', 'assignment_expression', 'init_declarator', 'return_statement', 'field_expression',
  'pointer_expression', 'preproc_def', 'enumerator_list', 'struct_specifier',
];
const queries = new WeakMap<Language, Query>();

function indexTree(tree: Tree): Map<string, Node[]> {
  let query = queries.get(tree.language);
  if (!query) {
    query = new Query(tree.language, INDEXED_TYPES.map((t) => `(${t}) @${t}`).join('\n'));
    queries.set(tree.language, query);
  }
  const index = new Map<string, Node[]>(INDEXED_TYPES.map((t) => [t, []]));
  for (const capture of query.captures(tree.rootNode)) index.get(capture.name)!.push(capture.node);
  for (const list of index.values()) list.sort((a, b) => a.startIndex - b.startIndex || b.endIndex - a.endIndex);
  return index;
}

/** Named descendants of `scope` (itself included) of one type, in document order. */
export function nodesIn(model: FileModel, scope: Node, type: string): Node[] {
  const key = `${scope.id}:${type}`;
  let found = model.cache.get(key) as Node[] | undefined;
  if (found) return found;
  const list = model.index.get(type);
  if (!list) {
    found = [...descendants(scope, type)];
  } else {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.startIndex < scope.startIndex) lo = mid + 1;
      else hi = mid;
    }
    found = [];
    for (let i = lo; i < list.length && list[i]!.startIndex < scope.endIndex; i++) if (list[i]!.endIndex <= scope.endIndex) found.push(list[i]!);
  }
  model.cache.set(key, found);
  return found;
}

/** The identifiers named `name` inside `scope`, memoized. */
export function identifiersNamed(model: FileModel, scope: Node, name: string): Node[] {
  const key = `${scope.id}#names`;
  let byName = model.cache.get(key) as Map<string, Node[]> | undefined;
  if (!byName) {
    byName = new Map();
    for (const id of nodesIn(model, scope, 'identifier')) {
      const t = id.text;
      if (!byName.has(t)) byName.set(t, []);
      byName.get(t)!.push(id);
    }
    model.cache.set(key, byName);
  }
  return byName.get(name) ?? [];
}

/** Strips parentheses and casts: `((T *)x)` → `x`. */
export function unwrap(node: Node): Node {
  let n = node;
  for (;;) {
    if (n.type === 'parenthesized_expression' && n.namedChildCount === 1) n = n.namedChild(0)!;
    else if (n.type === 'cast_expression' && n.childForFieldName('value')) n = n.childForFieldName('value')!;
    else return n;
  }
}

export const calleeName = (call: Node): string | undefined => {
  const fn = call.childForFieldName('function');
  return fn?.type === 'identifier' ? fn.text : undefined;
};

export const callArgs = (call: Node): Node[] => call.childForFieldName('arguments')?.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') ?? [];

/** The identifier a declarator declares (through pointers, arrays, functions, init). */
export function declaredName(declarator: Node | null): Node | undefined {
  let d = declarator;
  while (d) {
    if (d.type === 'identifier' || d.type === 'field_identifier') return d;
    d = d.childForFieldName('declarator');
  }
  return undefined;
}

export function isPointerDeclarator(declarator: Node | null): boolean {
  let d = declarator;
  while (d) {
    if (d.type === 'pointer_declarator' || d.type === 'abstract_pointer_declarator') return true;
    if (d.type === 'function_declarator') return false;
    d = d.childForFieldName('declarator');
  }
  return false;
}

/** The statement (child of a block) that contains `node`. */
export function enclosingStatement(node: Node): Node | undefined {
  let n: Node | null = node;
  while (n && n.parent) {
    if (n.parent.type === 'compound_statement') return n;
    n = n.parent;
  }
  return undefined;
}

export const isAncestor = (ancestor: Node, node: Node): boolean =>
  ancestor.startIndex <= node.startIndex && node.endIndex <= ancestor.endIndex;

// ---- constants -----------------------------------------------------------------------------------------------

/** Evaluates a simple integer constant expression (numbers, known names, + - * / << >> | & ~, parentheses). */
export function evalConstant(expr: string, constants: ReadonlyMap<string, number>, depth = 0): number | undefined {
  if (depth > 8) return undefined;
  const tokens = expr.replace(/\/\*.*?\*\/|\/\/.*$/gm, ' ').match(/0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|<<|>>|\S/g) ?? [];
  let i = 0;
  const prec: Record<string, number> = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };
  const primary = (): number | undefined => {
    const t = tokens[i++];
    if (t === undefined) return undefined;
    if (t === '(') {
      const v = binary(0);
      if (tokens[i++] !== ')') return undefined;
      return v;
    }
    if (t === '-') { const v = primary(); return v === undefined ? undefined : -v; }
    if (t === '~') { const v = primary(); return v === undefined ? undefined : ~v; }
    if (t === '+') return primary();
    if (/^0[xX]/.test(t)) { skipSuffix(); return parseInt(t, 16); }
    if (/^\d/.test(t)) { skipSuffix(); return parseInt(t, 10); }
    if (/^[A-Za-z_]/.test(t)) return constants.get(t);
    return undefined;
  };
  const skipSuffix = (): void => {
    if (tokens[i] !== undefined && /^[uUlL]+$/.test(tokens[i]!)) i++;
  };
  const binary = (min: number): number | undefined => {
    let left = primary();
    for (;;) {
      const op = tokens[i];
      const p = op !== undefined ? prec[op] : undefined;
      if (p === undefined || p <= min || left === undefined) return left;
      i++;
      const right = binary(p);
      if (right === undefined) return undefined;
      switch (op) {
        case '|': left = left | right; break;
        case '^': left = left ^ right; break;
        case '&': left = left & right; break;
        case '<<': left = left << right; break;
        case '>>': left = left >> right; break;
        case '+': left = left + right; break;
        case '-': left = left - right; break;
        case '*': left = left * right; break;
        case '/': left = right === 0 ? undefined : Math.trunc(left / right); break;
        case '%': left = right === 0 ? undefined : left % right; break;
      }
    }
  };
  const value = binary(0);
  return i === tokens.length ? value : undefined;
}

// ---- the file model ------------------------------------------------------------------------------------------

export interface MapDef {
  name: string;
  nameNode: Node;
  declaration: Node;
  /** `__uint(k, v)` and `__type(k, v)` attributes, value text by key. */
  attrs: Map<string, { value: string; node: Node; valueStart: number; valueEnd: number }>;
  type?: string;
  maxEntries?: number;
  /** `struct X` of `__type(value, struct X)`. */
  valueStruct?: string;
  /** Slots of a static `.values = { [K] = ... }` initializer. */
  slots: { index: number; node: Node }[];
}

export interface FunctionDef {
  name: string;
  node: Node;
  nameNode: Node;
  body: Node;
  returnsVoid: boolean;
  params: { name?: string; node: Node }[];
  section?: string;
}

export interface Lookup {
  call: Node;
  map?: string;
  /** The variable the result is stored in. */
  variable?: string;
  /** The declaration/expression statement holding the lookup. */
  statement?: Node;
  fn: FunctionDef;
}

export interface FileModel {
  tree: Tree;
  text: string;
  constants: Map<string, number>;
  structs: Map<string, Node>;
  maps: Map<string, MapDef>;
  functions: FunctionDef[];
  lookups: Lookup[];
  /** Memoized per-model results (nodesIn, verdict info). */
  cache: Map<string, unknown>;
  /** Nodes of the types the rules use, by type, in document order. */
  index: Map<string, Node[]>;
  /** The document's file name without extension, when known (names new sections: `<base>/stage2`). */
  fileBase?: string;
}

export const LOOKUP_FUNCTIONS = new Set(['bpf_map_lookup_elem', 'map_lookup_elem']);
export const TAIL_CALL_FUNCTIONS = new Set(['bpf_tail_call', 'tail_call', 'tail_call_static']);

function collectConstants(index: Map<string, Node[]>, constants: Map<string, number>): void {
  for (const def of index.get('preproc_def')!) {
    const name = def.childForFieldName('name')?.text;
    const value = def.childForFieldName('value')?.text;
    if (!name || value === undefined) continue;
    const v = evalConstant(value, constants);
    if (v !== undefined) constants.set(name, v);
  }
  for (const list of index.get('enumerator_list')!) {
    let next = 0;
    for (const e of list.namedChildren) {
      if (!e || e.type !== 'enumerator') continue;
      const name = e.childForFieldName('name')?.text;
      const valueNode = e.childForFieldName('value');
      const v = valueNode ? evalConstant(valueNode.text, constants) : next;
      if (name && v !== undefined) constants.set(name, v);
      next = (v ?? next) + 1;
    }
  }
}

const ATTR = /^__(uint|type|array)\s*\(\s*(\w+)\s*,\s*([\s\S]*?)\s*\)\s*;?$/;

function mapFrom(declaration: Node, text: string, constants: Map<string, number>): MapDef | undefined {
  const spec = declaration.childForFieldName('type');
  if (spec?.type !== 'struct_specifier' || spec.childForFieldName('name')) return undefined;
  const body = spec.childForFieldName('body');
  const declarator = declaration.childForFieldName('declarator');
  const nameNode = declaredName(declarator);
  if (!body || !nameNode) return undefined;
  const attrs: MapDef['attrs'] = new Map();
  for (const field of body.namedChildren) {
    if (!field || field.type !== 'field_declaration') continue;
    const m = ATTR.exec(field.text);
    if (!m) continue;
    const valueOffset = field.text.indexOf(m[3]!, field.text.indexOf(',') + 1);
    attrs.set(m[2]!, { value: m[3]!, node: field, valueStart: field.startIndex + valueOffset, valueEnd: field.startIndex + valueOffset + m[3]!.length });
  }
  if (!attrs.has('type')) return undefined;
  const type = attrs.get('type')!.value;
  const maxText = attrs.get('max_entries')?.value;
  const valueType = attrs.get('value')?.value;
  const slots: MapDef['slots'] = [];
  const init = declarator?.type === 'init_declarator' ? declarator.childForFieldName('value') : null;
  if (init?.type === 'initializer_list') {
    for (const pair of init.namedChildren) {
      if (pair?.type !== 'initializer_pair' || !/^\.\s*values$/.test(pair.childForFieldName('designator')?.text ?? '')) continue;
      const values = pair.childForFieldName('value');
      if (values?.type !== 'initializer_list') continue;
      let position = 0;
      for (const item of values.namedChildren) {
        if (!item || item.type === 'comment') continue;
        if (item.type === 'initializer_pair') {
          const d = item.childForFieldName('designator');
          const k = d?.type === 'subscript_designator' ? evalConstant(d.text.replace(/^\[|\]$/g, ''), constants) : undefined;
          if (k !== undefined) {
            slots.push({ index: k, node: item });
            position = k + 1;
          }
        } else {
          slots.push({ index: position++, node: item });
        }
      }
    }
  }
  void text;
  return {
    name: nameNode.text,
    nameNode,
    declaration,
    attrs,
    type,
    maxEntries: maxText !== undefined ? evalConstant(maxText, constants) : undefined,
    valueStruct: valueType ? /^struct\s+(\w+)$/.exec(valueType)?.[1] : undefined,
    slots,
  };
}

function functionFrom(def: Node, text: string, previousEnd: number): FunctionDef | undefined {
  const declarator = def.childForFieldName('declarator');
  let fnDecl = declarator;
  while (fnDecl && fnDecl.type !== 'function_declarator') fnDecl = fnDecl.childForFieldName('declarator');
  const nameNode = declaredName(fnDecl);
  const body = def.childForFieldName('body');
  if (!fnDecl || !nameNode || !body) return undefined;
  const params = (fnDecl.childForFieldName('parameters')?.namedChildren ?? [])
    .filter((p): p is Node => !!p && p.type === 'parameter_declaration')
    .map((p) => ({ node: p, name: declaredName(p.childForFieldName('declarator'))?.text }));
  const type = def.childForFieldName('type');
  return {
    name: nameNode.text,
    node: def,
    nameNode,
    body,
    returnsVoid: type?.text === 'void' && !isPointerDeclarator(declarator),
    params,
    section: sectionIn(text.slice(previousEnd, def.startIndex)),
  };
}

export function buildModel(tree: Tree, text: string, fileBase?: string): FileModel {
  const root = tree.rootNode;
  const cache = new Map<string, unknown>();
  const index = indexTree(tree);
  const constants = new Map<string, number>();
  collectConstants(index, constants);
  const structs = new Map<string, Node>();
  for (const s of index.get('struct_specifier')!) {
    const name = s.childForFieldName('name')?.text;
    if (name && s.childForFieldName('body') && !structs.has(name)) structs.set(name, s);
  }
  const maps = new Map<string, MapDef>();
  const functions: FunctionDef[] = [];
  let previousEnd = 0;
  for (const top of root.namedChildren) {
    if (!top) continue;
    if (top.type === 'declaration') {
      const map = mapFrom(top, text, constants);
      if (map) maps.set(map.name, map);
    } else if (top.type === 'function_definition') {
      const fn = functionFrom(top, text, previousEnd);
      if (fn) functions.push(fn);
    }
    if (top.type !== 'comment') previousEnd = top.endIndex;
  }
  const lookups: Lookup[] = [];
  const model: FileModel = { tree, text, constants, structs, maps, functions, lookups, cache, index, fileBase };
  for (const fn of functions) {
    for (const call of nodesIn(model, fn.body, 'call_expression')) {
      const name = calleeName(call);
      if (!name || !LOOKUP_FUNCTIONS.has(name)) continue;
      const mapArg = callArgs(call)[0];
      const mapExpr = mapArg ? unwrap(mapArg) : undefined;
      const map = mapExpr?.type === 'pointer_expression' ? unwrap(mapExpr.childForFieldName('argument')!).text : undefined;
      let variable: string | undefined;
      let up: Node | null = call.parent;
      while (up && (up.type === 'cast_expression' || up.type === 'parenthesized_expression')) up = up.parent;
      if (up?.type === 'init_declarator') variable = declaredName(up.childForFieldName('declarator'))?.text;
      else if (up?.type === 'assignment_expression' && up.childForFieldName('operator')?.text === '=') {
        const left = up.childForFieldName('left');
        if (left?.type === 'identifier') variable = left.text;
      }
      const statement = up ? enclosingStatement(up) : undefined;
      lookups.push({ call, map, variable, statement: statement && (statement.type === 'declaration' || statement.type === 'expression_statement') ? statement : undefined, fn });
    }
  }
  return model;
}

/** Text position → offset, for edits computed from offsets. */
export function offsetToPoint(text: string, offset: number): Point {
  let row = 0;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    last = i;
  }
  return { row, column: offset - last - 1 };
}

/** The leading whitespace of the line `row`. */
export function indentOf(text: string, row: number): string {
  const lines = text.split('\n');
  return /^[ \t]*/.exec(lines[row] ?? '')![0];
}
