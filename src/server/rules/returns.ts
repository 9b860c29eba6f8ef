// What a function returns where the datapath expects a verdict: shared by the tail-call and stage-return rules.
import type { Node } from 'web-tree-sitter';
import { calleeName, type FileModel, type FunctionDef, nodesIn } from '../syntax';

const VERDICT_TOKENS = /\bCB_CUSTOM_CALLS\b|\bCUSTOM_META_RET\b/;

export interface VerdictInfo {
  /** Functions (not programs) whose every return is the verdict from the cb meta word. */
  functions: Set<string>;
  /** Struct fields assigned a verdict anywhere in the file (`tc->ret = verdict`). */
  fields: Set<string>;
  /** Local variables holding the verdict, per function. */
  locals: Map<FunctionDef, Set<string>>;
}

function derived(model: FileModel, expr: Node, locals: Set<string>, info: Omit<VerdictInfo, 'locals'>): boolean {
  const text = expr.text;
  if (VERDICT_TOKENS.test(text)) return true;
  // Cheap textual pre-check before looking at nodes: some name of interest must occur in the text at all.
  const words = new Set(text.match(/[A-Za-z_]\w*/g) ?? []);
  const mentions = (names: Set<string>): boolean => [...names].some((n) => words.has(n));
  if (mentions(locals) && nodesIn(model, expr, 'identifier').some((n) => locals.has(n.text))) return true;
  if (mentions(info.functions) && nodesIn(model, expr, 'call_expression').some((n) => info.functions.has(calleeName(n) ?? ''))) return true;
  if (mentions(info.fields) && nodesIn(model, expr, 'field_expression').some((n) => info.fields.has(n.childForFieldName('field')?.text ?? ''))) return true;
  return false;
}

function localsOf(model: FileModel, fn: FunctionDef, info: Omit<VerdictInfo, 'locals'>): Set<string> {
  const locals = new Set<string>();
  for (let changed = true, rounds = 0; changed && rounds < 4; rounds++) {
    changed = false;
    for (const n of [...nodesIn(model, fn.body, 'init_declarator'), ...nodesIn(model, fn.body, 'assignment_expression')]) {
      let name: string | undefined;
      let value: Node | null = null;
      if (n.type === 'init_declarator') {
        name = n.childForFieldName('declarator')?.text;
        value = n.childForFieldName('value');
      } else if (n.type === 'assignment_expression' && n.childForFieldName('left')?.type === 'identifier') {
        name = n.childForFieldName('left')!.text;
        value = n.childForFieldName('right');
      }
      if (name && value && !locals.has(name) && derived(model, value, locals, info)) {
        locals.add(name);
        changed = true;
      }
    }
  }
  return locals;
}

export function verdictInfo(model: FileModel): VerdictInfo {
  const cached = model.cache.get('verdictInfo') as VerdictInfo | undefined;
  if (cached) return cached;
  const info: VerdictInfo = { functions: new Set(), fields: new Set(), locals: new Map() };
  for (let round = 0, before = -1; round < 3 && before !== info.functions.size + info.fields.size; round++) {
    before = info.functions.size + info.fields.size;
    for (const fn of model.functions) {
      const locals = localsOf(model, fn, info);
      info.locals.set(fn, locals);
      for (const a of nodesIn(model, fn.body, 'assignment_expression')) {
        const left = a.childForFieldName('left');
        const right = a.childForFieldName('right');
        if (left?.type === 'field_expression' && right && derived(model, right, locals, info)) info.fields.add(left.childForFieldName('field')!.text);
      }
      if (fn.section || fn.returnsVoid) continue;
      const returns = nodesIn(model, fn.body, 'return_statement').map((r) => r.namedChildren.find((c) => c && c.type !== 'comment') ?? null);
      if (returns.length > 0 && returns.every((r) => r && derived(model, r, locals, info))) info.functions.add(fn.name);
    }
  }
  model.cache.set('verdictInfo', info);
  return info;
}

export function isVerdict(model: FileModel, expr: Node, fn: FunctionDef, info: VerdictInfo): boolean {
  return derived(model, expr, info.locals.get(fn) ?? new Set(), info);
}

/** The expression a stage should return: a verdict helper of the file if there is one, else the SDK macros. */
export function verdictExpression(fn: FunctionDef, info: VerdictInfo, model: FileModel): string {
  return verdictFor(fn.params[0]?.name ?? 'ctx', info, model);
}

/** The verdict expression for a context parameter named `ctx` (a new stage's body). */
export function verdictFor(ctx: string, info: VerdictInfo, model: FileModel): string {
  for (const name of info.functions) {
    const helper = model.functions.find((f) => f.name === name);
    if (helper && helper.params.length === 1) return `${name}(${ctx})`;
  }
  // What Cilium trees and the SDK both have (CUSTOM_META_RET is the SDK's alone).
  return `ctx_load_meta(${ctx}, CB_CUSTOM_CALLS) >> 24`;
}

/** `return ...;` for an early exit from `fn`. */
export function exitStatement(fn: FunctionDef, info: VerdictInfo, model: FileModel): string {
  if (fn.returnsVoid) return 'return;';
  if (fn.section || fn.params.some((p) => /__ctx_buff|__sk_buff/.test(p.node.text))) return `return ${verdictExpression(fn, info, model)};`;
  return 'return 0;';
}
