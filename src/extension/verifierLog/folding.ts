// Folding for verifier logs: source blocks, branches, the live-registers table, libbpf debug runs and the
// BEGIN/END PROG LOAD LOG framing (see computeFoldingRanges).
import * as vscode from 'vscode';
import { computeFoldingRanges, type FoldKind } from './logStructure';

const KINDS: Record<FoldKind, vscode.FoldingRangeKind | undefined> = {
  source: undefined,
  branch: undefined,
  liveRegs: vscode.FoldingRangeKind.Region,
  libbpf: vscode.FoldingRangeKind.Comment,
  loadLog: vscode.FoldingRangeKind.Region,
};

export class VerifierLogFoldingProvider implements vscode.FoldingRangeProvider {
  provideFoldingRanges(
    document: vscode.TextDocument,
    _context: vscode.FoldingContext,
    token: vscode.CancellationToken,
  ): vscode.FoldingRange[] {
    const lines = Array.from({ length: document.lineCount }, (_, i) => document.lineAt(i).text);
    if (token.isCancellationRequested) return [];
    return computeFoldingRanges(lines).map((range) => new vscode.FoldingRange(range.start, range.end, KINDS[range.kind]));
  }
}
