// "Cilium Custom: Explain Verifier Log": parses the open log (pasted from anywhere: any kernel, any loader) and
// says what failed, where, and how to fix it.
import * as vscode from 'vscode';
import { hintFor } from '../../core/verifier/hints';
import { parsePastedLog } from '../../core/verifier/pasted';
import type { VerifierLog } from '../../core/verifier/model';

export async function explainLogCommand(_ctx: unknown, arg?: unknown): Promise<VerifierLog | undefined> {
  const document = arg instanceof vscode.Uri ? await vscode.workspace.openTextDocument(arg) : vscode.window.activeTextEditor?.document;
  if (!document) {
    void vscode.window.showErrorMessage('Cilium Custom: open a verifier log first.');
    return undefined;
  }
  // Pasted logs keep the prefixes of whatever printed them (test runners, docker compose, kubectl): the pre-pass strips them.
  const log = parsePastedLog(document.getText());
  if (!log.error) {
    const text = log.verdict === 'accepted' ? 'The verifier accepted this program.' : 'No verifier error found in this log.';
    void vscode.window.showInformationMessage(`Cilium Custom: ${text}`);
    return log;
  }
  const hint = hintFor(log.error.message, log.error.context);
  const where = [log.error.file, log.error.line].filter((x) => x !== null).join(':');
  void vscode.window.showInformationMessage(`Verifier: ${log.error.message}${where ? ` at ${where}` : ''}`, {
    modal: false,
    detail: `${hint.summary}\nFix: ${hint.fix}`,
  });
  return log;
}
