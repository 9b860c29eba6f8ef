// Turns the engine's compiler diagnostics into VS Code diagnostics, grouped by file.
import * as vscode from 'vscode';
import type { ClangDiagnostic } from '../core/build/clangDiagnostics';

export function toVscodeDiagnostic(d: ClangDiagnostic): vscode.Diagnostic {
  const line = Math.max(0, d.line - 1);
  const column = Math.max(0, d.column - 1);
  const range = new vscode.Range(line, column, line, column + 1);
  const severity = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
  const diagnostic = new vscode.Diagnostic(range, d.message, severity);
  diagnostic.source = 'clang';
  if (d.flag) diagnostic.code = d.flag;
  diagnostic.relatedInformation = d.notes.map(
    (note) =>
      new vscode.DiagnosticRelatedInformation(
        new vscode.Location(vscode.Uri.file(note.file), new vscode.Position(Math.max(0, note.line - 1), Math.max(0, note.column - 1))),
        note.message,
      ),
  );
  return diagnostic;
}

/** Replaces what a collection says about a build: the header's own entry is always reset, even when clean. */
export function publishBuildDiagnostics(collection: vscode.DiagnosticCollection, headerPath: string, diagnostics: readonly ClangDiagnostic[]): void {
  const byFile = new Map<string, vscode.Diagnostic[]>([[headerPath, []]]);
  for (const d of diagnostics) {
    const list = byFile.get(d.file) ?? [];
    list.push(toVscodeDiagnostic(d));
    byFile.set(d.file, list);
  }
  for (const [file, list] of byFile) collection.set(vscode.Uri.file(file), list);
}
