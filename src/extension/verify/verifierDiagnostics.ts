// The verifier's verdict as a diagnostic on the user's line: its own error line, what it means, how to fix it,
// and the path that led there as related information.
import * as vscode from 'vscode';
import type { LocatedVerdict, Location } from '../../core/verify/locate';
import { hintFor } from '../../core/verifier/hints';
import type { VerifierLog } from '../../core/verifier/model';

export const VERIFIER_SOURCE = 'bpf-verifier';

export function verifierDiagnostic(log: VerifierLog, located: LocatedVerdict): { uri: vscode.Uri; diagnostic: vscode.Diagnostic } | undefined {
  const error = log.error;
  if (!error || !located.error) return undefined;
  const hint = hintFor(error.message, error.context);
  const lines = [
    error.message,
    ...error.context.slice(0, 3).map((line) => `  ${line}`),
    `${hint.summary}`,
    `Fix: ${hint.fix}`,
  ];
  if (error.insn !== null) lines.push(`(instruction ${error.insn}${located.stoppedAt ? `, in ${located.stoppedAt.file.split('/').pop()}:${located.stoppedAt.line}` : ''})`);
  const diagnostic = new vscode.Diagnostic(lineRange(located.error), lines.join('\n'), vscode.DiagnosticSeverity.Error);
  diagnostic.source = VERIFIER_SOURCE;
  diagnostic.code = hint.id;
  const related = located.path.slice(-12).map(
    (step, i, all) => new vscode.DiagnosticRelatedInformation(locationOf(step), i === all.length - 1 ? `error here: ${step.text ?? ''}` : `path: ${step.text ?? ''}`),
  );
  if (located.stoppedAt) related.push(new vscode.DiagnosticRelatedInformation(locationOf(located.stoppedAt), 'the verifier stopped here'));
  diagnostic.relatedInformation = related;
  return { uri: vscode.Uri.file(located.error.file), diagnostic };
}

function lineRange(location: Location): vscode.Range {
  const line = Math.max(0, location.line - 1);
  // The whole line: the log knows the statement, not the column.
  return new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER);
}

function locationOf(location: Location): vscode.Location {
  return new vscode.Location(vscode.Uri.file(location.file), lineRange(location));
}
