// (a) A pointer from a map lookup dereferenced without a dominating NULL check.
//
// Rule: for `p = [bpf_]map_lookup_elem(...)` (declaration or assignment statement), the first later dereference of
// `p` in the function — `*p`, `p->f`, `p[i]`, or `p` as the pointer argument of __sync_*/__atomic_*/memset/memcpy —
// is reported unless it is dominated by a check of `p` itself: an enclosing `if (p)`/`if (p != NULL)`/`p && ...`/
// `p ? ... :` (or the else side of `!p`), or an earlier statement of an enclosing block, after the lookup,
// `if (!p [|| ...]) <exit>;` whose body always leaves (return, goto, break, continue). A NULL check of another
// variable in between is named in the message. Stops at the next assignment of `p`. Quick fix: a NULL check of `p`
// right after the lookup; when an exit-check tests another variable, that check is rewritten instead (see
// rewriteCheck), so the function never ends up with two checks.
import type { Node } from 'web-tree-sitter';
import { DiagnosticCodes } from '../../shared/protocol';
import { callArgs, calleeName, descendants, type FileModel, indentOf, isAncestor, type Lookup, identifiersNamed, nodesIn, rangeOf, unwrap } from '../syntax';
import { exitStatement, verdictInfo } from './returns';
import type { Finding, QuickFix } from './types';

const NULLS = new Set(['NULL', '0', '((void *)0)']);

/** The variable `cond` proves non-NULL when true (`p`, `p != NULL`, `a && p`). */
function provesNonNull(cond: Node, v: string): boolean {
  const c = unwrap(cond);
  if (c.type === 'identifier') return c.text === v;
  if (c.type === 'binary_expression') {
    const op = c.childForFieldName('operator')?.text;
    const l = unwrap(c.childForFieldName('left')!);
    const r = unwrap(c.childForFieldName('right')!);
    if (op === '&&') return provesNonNull(l, v) || provesNonNull(r, v);
    if (op === '!=') return (l.text === v && NULLS.has(r.text)) || (r.text === v && NULLS.has(l.text));
  }
  return false;
}

/** The variable `cond` proves NULL when true... or rather: when false, proves non-NULL (`!p`, `p == NULL`, `!p || x`). */
function provesNullWhenTrue(cond: Node, v: string): boolean {
  const c = unwrap(cond);
  if (c.type === 'unary_expression' && c.childForFieldName('operator')?.text === '!') return provesNonNull(c.childForFieldName('argument')!, v);
  if (c.type === 'binary_expression') {
    const op = c.childForFieldName('operator')?.text;
    const l = unwrap(c.childForFieldName('left')!);
    const r = unwrap(c.childForFieldName('right')!);
    if (op === '||') return provesNullWhenTrue(l, v) || provesNullWhenTrue(r, v);
    if (op === '==') return (l.text === v && NULLS.has(r.text)) || (r.text === v && NULLS.has(l.text));
  }
  return false;
}

/** Names a condition tests for NULL, for the "checked through another variable" message. */
function nullTested(cond: Node): string[] {
  const names: string[] = [];
  for (const id of [unwrap(cond), ...descendants(cond, 'identifier')]) {
    if (id.type === 'identifier' && provesNullWhenTrue(cond, id.text) && !names.includes(id.text)) names.push(id.text);
  }
  return names;
}

function alwaysExits(stmt: Node | null): boolean {
  if (!stmt) return false;
  if (['return_statement', 'goto_statement', 'break_statement', 'continue_statement'].includes(stmt.type)) return true;
  if (stmt.type === 'compound_statement') {
    const last = stmt.namedChildren.filter((c) => c && c.type !== 'comment').pop();
    return alwaysExits(last ?? null);
  }
  if (stmt.type === 'if_statement') {
    const alt = stmt.childForFieldName('alternative');
    return alwaysExits(stmt.childForFieldName('consequence')) && !!alt && alwaysExits(alt.namedChildren.find((c) => c && c.type !== 'comment') ?? null);
  }
  return false;
}

function isDereference(id: Node): boolean {
  const p = id.parent;
  if (!p) return false;
  if (p.type === 'pointer_expression' && p.child(0)?.text === '*') return true;
  if (p.type === 'field_expression' && p.childForFieldName('argument')?.id === id.id && p.childForFieldName('operator')?.text === '->') return true;
  if (p.type === 'subscript_expression' && p.childForFieldName('argument')?.id === id.id) return true;
  if (p.type === 'argument_list' && p.parent?.type === 'call_expression') {
    const name = calleeName(p.parent) ?? '';
    const index = callArgs(p.parent).findIndex((a) => a.id === id.id);
    if (/^__(sync|atomic)_/.test(name) || /^(__builtin_)?memset$/.test(name)) return index === 0;
    if (/^(__builtin_)?memcpy$/.test(name)) return index === 0 || index === 1;
  }
  return false;
}

interface Guard {
  guarded: boolean;
  /** Exit-checks (`if (!q) return ...;`) before the use that test another variable: its name, line and if. */
  others: { name: string; line: number; check: Node }[];
}

function guardOf(use: Node, v: string, after: number, body: Node): Guard {
  const others: Guard['others'] = [];
  let child = use;
  for (let n = use.parent; n && n.id !== body.parent?.id; child = n, n = n.parent) {
    if (n.type === 'if_statement' || n.type === 'conditional_expression') {
      const cond = n.childForFieldName('condition')!;
      const cons = n.childForFieldName('consequence');
      const alt = n.childForFieldName('alternative');
      if (cons && isAncestor(cons, use) && provesNonNull(cond, v)) return { guarded: true, others };
      if (alt && isAncestor(alt, use) && provesNullWhenTrue(cond, v)) return { guarded: true, others };
    }
    if (n.type === 'binary_expression' && isAncestor(n.childForFieldName('right')!, use)) {
      const op = n.childForFieldName('operator')?.text;
      const left = n.childForFieldName('left')!;
      if (op === '&&' && provesNonNull(left, v)) return { guarded: true, others };
      if (op === '||' && provesNullWhenTrue(left, v)) return { guarded: true, others };
    }
    if (n.type === 'compound_statement') {
      for (const s of n.namedChildren) {
        if (!s || s.startIndex >= child.startIndex) break;
        if (s.type !== 'if_statement' || s.startIndex < after) continue;
        const cond = s.childForFieldName('condition')!;
        if (!alwaysExits(s.childForFieldName('consequence'))) continue;
        if (provesNullWhenTrue(cond, v)) return { guarded: true, others };
        for (const name of nullTested(cond)) others.push({ name, line: s.startPosition.row + 1, check: s });
      }
    }
  }
  return { guarded: false, others };
}

function reassignedBetween(model: FileModel, body: Node, v: string, from: number, to: number): boolean {
  for (const a of nodesIn(model, body, 'assignment_expression')) {
    if (a.startIndex > from && a.startIndex < to && a.childForFieldName('left')?.text === v) return true;
  }
  return false;
}

export function checkLookupNull(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  let info: ReturnType<typeof verdictInfo> | undefined;
  for (const lookup of model.lookups) {
    const { variable: v, statement, fn } = lookup;
    if (!v || !statement) continue;
    const use = firstUnguardedUse(model, lookup, v, statement);
    if (!use) continue;
    info ??= verdictInfo(model);
    const { node, guard } = use;
    const callee = model.text.slice(lookup.call.startIndex, lookup.call.childForFieldName('arguments')!.startIndex);
    const line = statement.startPosition.row + 1;
    const other = guard.others.filter((o) => o.name !== v)[0];
    const message = other
      ? `\`${v}\` (from ${callee}() on line ${line}) is dereferenced without a NULL check: the check on line ${other.line} tests \`${other.name}\`, not \`${v}\``
      : `\`${v}\` (from ${callee}() on line ${line}) may be NULL here: check it before dereferencing (the verifier rejects the program otherwise)`;
    const indent = indentOf(model.text, statement.startPosition.row);
    const unit = indent.includes('\t') || indent === '' ? '\t' : '    ';
    findings.push({
      code: DiagnosticCodes.unchecked,
      severity: 'error',
      message,
      range: rangeOf(node),
      fix: other
        ? rewriteCheck(model, fn.body, v, other)
        : {
            title: `Add a NULL check of '${v}' after the lookup`,
            edits: [{ range: { start: statement.endPosition, end: statement.endPosition }, newText: `\n${indent}if (!${v})\n${indent}${unit}${exitStatement(fn, info, model)}` }],
          },
    });
  }
  return findings;
}

/**
 * The fix for a check of the wrong variable: the existing check is rewritten, never a second one added. When the
 * other variable is still used after the check, the check tests both (`if (!p || !q)`); when it is not (the check
 * named the wrong pointer), `p` takes its place in the condition (`if (!p)`).
 */
function rewriteCheck(model: FileModel, body: Node, v: string, other: Guard['others'][number]): QuickFix {
  const cond = other.check.childForFieldName('condition')!;
  const inner = cond.type === 'parenthesized_expression' && cond.namedChildCount === 1 ? cond.namedChild(0)! : cond;
  const line = other.check.startPosition.row + 1;
  const stillUsed = identifiersNamed(model, body, other.name).some((id) => id.startIndex >= cond.endIndex);
  if (!stillUsed) {
    const ids = [...descendants(inner, 'identifier')].filter((id) => id.text === other.name);
    return { title: `Check '${v}' instead of '${other.name}' on line ${line}`, edits: ids.map((id) => ({ range: rangeOf(id), newText: v })) };
  }
  // The condition proves the other variable NULL when true (`!q`, `q == NULL`, an `||` chain of such): `!v ||` in
  // front binds as it should.
  return { title: `Check '${v}' too in the NULL check on line ${line}`, edits: [{ range: { start: inner.startPosition, end: inner.startPosition }, newText: `!${v} || ` }] };
}

function firstUnguardedUse(model: FileModel, lookup: Lookup, v: string, statement: Node): { node: Node; guard: Guard } | undefined {
  const body = lookup.fn.body;
  for (const id of identifiersNamed(model, body, v)) {
    if (id.startIndex < statement.endIndex) continue;
    if (reassignedBetween(model, body, v, statement.endIndex, id.startIndex)) return undefined;
    if (!isDereference(id)) continue;
    const guard = guardOf(id, v, statement.endIndex, body);
    if (guard.guarded) continue;
    return { node: id.parent!.type === 'argument_list' ? id : id.parent!, guard };
  }
  return undefined;
}
