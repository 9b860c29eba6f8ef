// Which header a command acts on: the one it was given (explorer, editor title, status item, tests), else the active
// editor's. With no text editor active at all (the command ran from the walkthrough, the Welcome page or the
// settings), the header editor in view, else the header last used (`recent`), else one picked from the workspace.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { findCustomHeaders } from './build/taskProvider';

export async function resolveHeader(arg: unknown, recent?: string): Promise<string | undefined> {
  const uri = toUri(arg) ?? (vscode.window.activeTextEditor ? vscode.window.activeTextEditor.document.uri : await withoutEditor(recent));
  if (uri === null) return undefined; // the user dismissed the picker
  if (!uri || uri.scheme !== 'file' || !uri.fsPath.endsWith('.h')) {
    void vscode.window.showErrorMessage('Cilium Custom: open a custom-program header (.h) first, or run the command from one.');
    return undefined;
  }
  // Build what the user sees, not what is on disk.
  const open = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  return uri.fsPath;
}

/** The header a command means when no text editor is active; null when the user dismissed the picker. */
async function withoutEditor(recent: string | undefined): Promise<vscode.Uri | null | undefined> {
  const visible = vscode.window.visibleTextEditors.map((e) => e.document.uri).filter((u) => u.scheme === 'file' && u.fsPath.endsWith('.h'));
  if (visible.length === 1) return visible[0];
  if (recent && fs.existsSync(recent)) return vscode.Uri.file(recent);
  const headers = await findCustomHeaders();
  if (headers.length === 0) return undefined;
  const picked = await vscode.window.showQuickPick(
    headers.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'Cilium Custom: which custom-program header?', placeHolder: 'Headers of this workspace that define custom_prog()' },
  );
  if (!picked) return null;
  await vscode.window.showTextDocument(picked.uri, { preview: false });
  return picked.uri;
}

function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg !== '') return /^file:/.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  return undefined;
}
