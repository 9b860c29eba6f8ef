// Which header a command acts on: the one it was given (explorer, editor title, tests), else the active editor's.
import * as vscode from 'vscode';

export async function resolveHeader(arg: unknown): Promise<string | undefined> {
  const uri = toUri(arg) ?? vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file' || !uri.fsPath.endsWith('.h')) {
    void vscode.window.showErrorMessage('Cilium Custom: open a custom-program header (.h) first, or run the command from one.');
    return undefined;
  }
  // Build what the user sees, not what is on disk.
  const open = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  return uri.fsPath;
}

function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg !== '') return vscode.Uri.file(arg);
  return undefined;
}
