// (c) Code after a tail call that assumes the call did not return. bpf_tail_call() returns when it fails (empty or
// out-of-range slot, tail-call limit), so what follows it is the fall-through path. Reported, in a non-void
// function, when after the tail-call statement
//   - comes `__builtin_unreachable()` (the compiler may then drop the fall-through path entirely), or
//   - no statement on the way to the end of the function always returns (a `return`, a block ending in one, or an
//     if/else returning on both sides): the function falls off its end and returns garbage.
// A return of a constant instead of the datapath's verdict after the tail call is rule (g)'s business. Void
// functions (custom_prog) fall through correctly by returning to the landing program.
import type { Node } from 'web-tree-sitter';
import { DiagnosticCodes } from '../../shared/protocol';
import { calleeName, enclosingStatement, nodesIn, type FileModel, rangeOf, TAIL_CALL_FUNCTIONS } from '../syntax';
import { verdictExpression, verdictInfo } from './returns';
import type { Finding } from './types';

function alwaysReturns(stmt: Node | null): boolean {
  if (!stmt) return false;
  if (stmt.type === 'return_statement') return true;
  if (stmt.type === 'compound_statement') return stmt.namedChildren.some((c) => alwaysReturns(c));
  if (stmt.type === 'if_statement') {
    const alt = stmt.childForFieldName('alternative');
    return alwaysReturns(stmt.childForFieldName('consequence')) && !!alt && alt.namedChildren.some((c) => alwaysReturns(c));
  }
  return false;
}

const nextStatements = (stmt: Node): Node[] => {
  const out: Node[] = [];
  for (let s = stmt.nextNamedSibling; s; s = s.nextNamedSibling) if (s.type !== 'comment') out.push(s);
  return out;
};

export function checkTailCallFallthrough(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  let info: ReturnType<typeof verdictInfo> | undefined;
  for (const fn of model.functions) {
    if (fn.returnsVoid) continue;
    for (const call of nodesIn(model, fn.body, 'call_expression')) {
      const name = calleeName(call);
      if (!name || !TAIL_CALL_FUNCTIONS.has(name)) continue;
      const stmt = enclosingStatement(call);
      if (!stmt || stmt.type !== 'expression_statement') continue;
      const following = nextStatements(stmt);
      const unreachable = following[0]?.type === 'expression_statement' && /^__builtin_unreachable\s*\(\s*\)\s*;$/.test(following[0].text);
      let returns = false;
      for (let s: Node | null = stmt; s && !returns; s = s.parent?.type === 'compound_statement' && s.parent.id !== fn.body.id ? enclosingStatement(s.parent) ?? null : null) {
        returns = nextStatements(s).some(alwaysReturns);
      }
      if (!unreachable && returns) continue;
      info ??= verdictInfo(model);
      const ret = `return ${verdictExpression(fn, info, model)};`;
      findings.push({
        code: DiagnosticCodes.tailCallFallthrough,
        severity: 'error',
        message: unreachable
          ? `${name}() returns when the tail call fails; __builtin_unreachable() after it lets the compiler drop that path — return the datapath's verdict instead`
          : `${name}() returns when the tail call fails (empty or out-of-range slot, tail-call limit), and \`${fn.name}\` then ends without returning a value: return the datapath's verdict after it`,
        range: rangeOf(call),
        fix: unreachable
          ? { title: `Return the datapath's verdict after ${name}()`, edits: [{ range: rangeOf(following[0]!), newText: ret }] }
          : { title: `Return the datapath's verdict after ${name}()`, edits: [{ range: { start: stmt.endPosition, end: stmt.endPosition }, newText: `\n${indent(model.text, stmt)}${ret}` }] },
      });
    }
  }
  return findings;
}

const indent = (text: string, stmt: Node): string => /^[ \t]*/.exec(text.split('\n')[stmt.startPosition.row] ?? '')![0];
