// (d) A per-CPU context (a PERCPU_ARRAY map whose value is a struct) read at a later stage but never reset at the
// entry stage. A per-CPU slot keeps the previous packet's values, so custom_prog must reset it before stages read
// it. "Read at a later stage": a function other than custom_prog, and not called from it, reads a field through a
// pointer from a lookup of the map (`p->f` other than as the target of `=`, or `*p`). "Reset at the entry stage":
// custom_prog, through a pointer from a lookup of the same map, calls memset/__builtin_memset on it, assigns `*p`,
// or assigns every field (`p->f = ...`). Reported on custom_prog's lookup of the map when it has one (that is where
// the reset goes), else on the first read. Quick fix: `memset(p, 0, sizeof(*p));` after custom_prog's
// NULL check of the looked-up pointer.
import type { Node } from 'web-tree-sitter';
import { DiagnosticCodes } from '../../shared/protocol';
import { callArgs, calleeName, type FileModel, identifiersNamed, indentOf, type Lookup, nodesIn, type FunctionDef, rangeOf, unwrap } from '../syntax';
import { structLayout } from './layout';
import type { Finding, QuickFix } from './types';

function usesOf(model: FileModel, fn: FunctionDef, v: string): Node[] {
  return identifiersNamed(model, fn.body, v);
}

function isWriteTarget(expr: Node): boolean {
  const p = expr.parent;
  return p?.type === 'assignment_expression' && p.childForFieldName('left')?.id === expr.id && p.childForFieldName('operator')?.text === '=';
}

/**
 * `memset(p, 0, sizeof(*p));` (Cilium's memset: clang's __builtin_memset fails in llc-era trees) where `p` is known non-NULL: after the exit-check that follows the lookup
 * (`if (!p) return;`, in the same block). Without such a check there is no safe place, and no fix.
 */
function resetFix(model: FileModel, lookup: Lookup): QuickFix | undefined {
  const v = lookup.variable;
  if (!v || !lookup.statement) return undefined;
  for (let s = lookup.statement.nextNamedSibling; s; s = s.nextNamedSibling) {
    if (s.type === 'comment') continue;
    if (s.type !== 'if_statement') {
      if (identifiersNamed(model, s, v).length > 0) return undefined;
      continue;
    }
    const cond = unwrap(s.childForFieldName('condition')!);
    const notV = cond.type === 'unary_expression' && cond.childForFieldName('operator')?.text === '!' && unwrap(cond.childForFieldName('argument')!).text === v;
    const isNull = cond.type === 'binary_expression' && cond.childForFieldName('operator')?.text === '==' && [cond.childForFieldName('left')?.text, cond.childForFieldName('right')?.text].includes(v);
    if (!(notV || isNull) || s.childForFieldName('alternative')) return undefined;
    const indent = indentOf(model.text, s.startPosition.row);
    return {
      title: `Reset '${v}' with memset() after its NULL check`,
      edits: [{ range: { start: s.endPosition, end: s.endPosition }, newText: `\n\n${indent}/* The per-CPU slot still holds the previous packet's context. */\n${indent}memset(${v}, 0, sizeof(*${v}));` }],
    };
  }
  return undefined;
}

export function checkPercpuReset(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  const entry = model.functions.find((f) => f.name === 'custom_prog');
  if (!entry) return findings;
  const calledFromEntry = new Set(nodesIn(model, entry.body, 'call_expression').map((c) => calleeName(c) ?? ''));
  for (const map of model.maps.values()) {
    if (map.type !== 'BPF_MAP_TYPE_PERCPU_ARRAY' || !map.valueStruct) continue;
    const lookups = model.lookups.filter((l) => l.map === map.name && l.variable);
    const reads: { node: Node; fn: FunctionDef }[] = [];
    for (const l of lookups) {
      if (l.fn === entry || calledFromEntry.has(l.fn.name)) continue;
      for (const id of usesOf(model, l.fn, l.variable!)) {
        const p = id.parent;
        if (p?.type === 'field_expression' && p.childForFieldName('argument')?.id === id.id && !isWriteTarget(p)) reads.push({ node: p, fn: l.fn });
        if (p?.type === 'pointer_expression' && p.child(0)?.text === '*' && !isWriteTarget(p)) reads.push({ node: p, fn: l.fn });
      }
    }
    if (reads.length === 0) continue;
    const entryLookups = lookups.filter((l) => l.fn === entry);
    const assigned = new Set<string>();
    let reset = false;
    for (const l of entryLookups) {
      for (const id of usesOf(model, entry, l.variable!)) {
        const p = id.parent!;
        if (p.type === 'argument_list' && /^(__builtin_)?memset$/.test(calleeName(p.parent!) ?? '') && unwrap(callArgs(p.parent!)[0]!).id === id.id) reset = true;
        if (p.type === 'pointer_expression' && isWriteTarget(p)) reset = true;
        if (p.type === 'field_expression' && isWriteTarget(p)) assigned.add(p.childForFieldName('field')!.text);
      }
    }
    const layout = structLayout(model, map.valueStruct);
    const fields = layout?.fields.map((f) => f.name) ?? [];
    if (reset || (fields.length > 0 && fields.every((f) => assigned.has(f)))) continue;
    const first = reads[0]!;
    const unset = fields.filter((f) => !assigned.has(f));
    const at = entryLookups[0]?.statement ?? entryLookups[0]?.call;
    const fix = entryLookups[0] ? resetFix(model, entryLookups[0]) : undefined;
    findings.push({
      code: DiagnosticCodes.percpuNotReset,
      severity: 'warning',
      message: `per-CPU context \`${map.name}\` (struct ${map.valueStruct}) is read by \`${first.fn.name}\` (line ${first.node.startPosition.row + 1}) but custom_prog never resets it: the slot still holds the previous packet's values` +
        (unset.length ? ` (never set: ${unset.join(', ')})` : '') + `; memset() it after the lookup in custom_prog`,
      range: at ? rangeOf(at) : rangeOf(first.node),
      ...(fix ? { fix } : {}),
    });
  }
  return findings;
}
