// (g) A tail-called stage program (a function other than custom_prog placed in a `__section(...)`/`SEC(...)`) that
// returns something other than the datapath's verdict. Every `return` of a stage must return an expression
// derived from the cb meta word: one containing CB_CUSTOM_CALLS or CUSTOM_META_RET (e.g.
// `ctx_load_meta(ctx, CB_CUSTOM_CALLS) >> 24`), a local variable assigned from such an expression, a call to a
// function of the file all of whose returns are such expressions, or a struct field assigned one somewhere in the
// file (`tc->ret = verdict` at the landing stage). Anything else (TC_ACT_OK, 0, ...) is reported. Quick fix: the
// returned expression becomes the verdict (the file's verdict helper when it has one, else the SDK macros).
import { DiagnosticCodes } from '../../shared/protocol';
import { type FileModel, nodesIn, rangeOf } from '../syntax';
import { isVerdict, verdictExpression, verdictInfo } from './returns';
import type { Finding } from './types';

export function checkStageReturns(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  const stages = model.functions.filter((f) => f.section && f.name !== 'custom_prog' && !f.returnsVoid);
  if (stages.length === 0) return findings;
  const info = verdictInfo(model);
  for (const fn of stages) {
    for (const ret of nodesIn(model, fn.body, 'return_statement')) {
      const value = ret.namedChildren.find((c) => c && c.type !== 'comment');
      if (!value || isVerdict(model, value, fn, info)) continue;
      const constant = /^(\(?\s*-?\s*(0[xX][0-9a-fA-F]+|\d+)\s*\)?|[A-Z][A-Z0-9_]*)$/.test(value.text);
      const verdict = verdictExpression(fn, info, model);
      findings.push({
        code: DiagnosticCodes.stageReturn,
        severity: 'warning',
        message: `stage \`${fn.name}\` returns ${constant ? 'the constant ' : ''}\`${value.text}\`: what a tail-called stage returns is the datapath's verdict, so return the one from the cb meta word (${verdict})`,
        range: rangeOf(value),
        fix: { title: `Return the datapath's verdict (${verdict})`, edits: [{ range: rangeOf(value), newText: verdict }] },
      });
    }
  }
  return findings;
}
