// Helpers for the VS Code host suites (test/vscode/suites). Every wait is driven by a VS Code event and bounded by a
// timeout whose error says what was awaited; the only polling helper (waitForCondition) exists for states VS Code
// has no event for, such as an extension becoming active.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runConfig } from './index';

export const EXTENSION_ID = 'cilium-custom-dev.cilium-custom-programs';
export const COMMAND_PREFIX = 'ciliumCustom.';
export const DIAGNOSTIC_SOURCE = 'clang';
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The parts of the extension's package.json that suites look at. */
export interface ExtensionManifest {
  name: string;
  publisher: string;
  activationEvents?: string[];
  contributes?: {
    commands?: { command: string; title: string; category?: string }[];
    taskDefinitions?: { type: string }[];
  };
}

export function getExtension(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not loaded in this VS Code host`);
  return extension;
}

export function manifest(): ExtensionManifest {
  return getExtension().packageJSON as ExtensionManifest;
}

/** The command ids declared in contributes.commands. */
export function declaredCommands(): string[] {
  return (manifest().contributes?.commands ?? []).map((c) => c.command);
}

/** Waits until the extension is active (without activating it: activation must come from its own events). */
export async function waitForActivation(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<vscode.Extension<unknown>> {
  const extension = getExtension();
  await waitForCondition(() => extension.isActive, { timeoutMs, description: `activation of ${EXTENSION_ID}` });
  return extension;
}

/**
 * The first workspace folder's path: the launcher's throwaway copy of the session's fixture (test/fixtures/vscode-workspace,
 * or test/fixtures/vscode-headers-only in the headers-only session).
 */
export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open (the launcher opens the fixture workspace)');
  assert.equal(folder.uri.scheme, 'file', `workspace folder ${folder.uri.toString()} is not on the file system`);
  return folder.uri.fsPath;
}

/** Absolute path of a workspace-relative path, e.g. workspacePath('bpf/custom/counter.h'). */
export function workspacePath(...segments: string[]): string {
  return path.join(workspaceRoot(), ...segments);
}

export function workspaceUri(...segments: string[]): vscode.Uri {
  return vscode.Uri.file(workspacePath(...segments));
}

/** Opens a workspace-relative (or absolute) file in an editor and returns the editor. */
export async function openFile(file: string, options: vscode.TextDocumentShowOptions = {}): Promise<vscode.TextEditor> {
  const uri = vscode.Uri.file(path.isAbsolute(file) ? file : workspacePath(file));
  const document = await vscode.workspace.openTextDocument(uri);
  return vscode.window.showTextDocument(document, { preview: false, ...options });
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** Shows the Problems panel (for people looking at the harness's screenshot, and for suites about it). */
export async function showProblems(): Promise<void> {
  await vscode.commands.executeCommand('workbench.actions.view.problems');
}

/** Zero-based number of the first line of `document` containing `marker` (fixtures mark lines, e.g. EXPECTED-ERROR). */
export function lineOf(document: vscode.TextDocument, marker: string): number {
  for (let line = 0; line < document.lineCount; line++) {
    if (document.lineAt(line).text.includes(marker)) return line;
  }
  assert.fail(`${marker} not found in ${document.uri.fsPath}`);
}

/**
 * Resolves with the first event for which `predicate` holds. `check`, if given, is tried right after subscribing,
 * so a state reached before the call is not missed: it returns a value to resolve with, or undefined to keep waiting.
 */
export function waitForEvent<T, R = T>(
  event: vscode.Event<T>,
  options: {
    predicate?: (value: T) => boolean;
    map?: (value: T) => R;
    check?: () => R | undefined;
    timeoutMs?: number;
    /** What is awaited, for the timeout's message; a function is called at timeout, to describe the state then. */
    description: string | (() => string);
  },
): Promise<R> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription.dispose();
      action();
    };
    const timer = setTimeout(
      () => {
        const what = typeof options.description === 'function' ? options.description() : options.description;
        finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)));
      },
      timeoutMs,
    );
    const subscription = event((value) => {
      try {
        if (options.predicate && !options.predicate(value)) return;
        finish(() => resolve(options.map ? options.map(value) : (value as unknown as R)));
      } catch (error) {
        finish(() => reject(error));
      }
    });
    if (options.check) {
      try {
        const now = options.check();
        if (now !== undefined) finish(() => resolve(now));
      } catch (error) {
        finish(() => reject(error));
      }
    }
  });
}

/**
 * Waits until the diagnostics of `uri` satisfy `predicate` (default: there is at least one), looking at the
 * current diagnostics first and then at each vscode.languages.onDidChangeDiagnostics for that URI.
 * `source` (default 'clang', the extension's build diagnostics) keeps only diagnostics with that source;
 * pass null to see every diagnostic of the URI.
 */
export function waitForDiagnostics(
  uri: vscode.Uri,
  options: {
    predicate?: (diagnostics: vscode.Diagnostic[]) => boolean;
    source?: string | null;
    timeoutMs?: number;
  } = {},
): Promise<vscode.Diagnostic[]> {
  const source = options.source === undefined ? DIAGNOSTIC_SOURCE : options.source;
  const predicate = options.predicate ?? ((diagnostics) => diagnostics.length > 0);
  const current = () => vscode.languages.getDiagnostics(uri).filter((d) => source === null || d.source === source);
  const key = uri.toString();
  return waitForEvent(vscode.languages.onDidChangeDiagnostics, {
    predicate: (event) => event.uris.some((u) => u.toString() === key) && predicate(current()),
    map: () => current(),
    check: () => {
      const now = current();
      return predicate(now) ? now : undefined;
    },
    timeoutMs: options.timeoutMs,
    description: () =>
      `diagnostics${source === null ? '' : ` from '${source}'`} on ${uri.fsPath} (now: ${JSON.stringify(
        current().map((d) => `${d.range.start.line + 1}: ${d.message}`),
      )})`,
  });
}

/** Waits for a task process to end, e.g. a `cilium-custom` build task; resolves with the end event (exitCode). */
export function waitForTaskEnd(
  predicate: (event: vscode.TaskProcessEndEvent) => boolean,
  options: { timeoutMs?: number; description?: string } = {},
): Promise<vscode.TaskProcessEndEvent> {
  return waitForEvent(vscode.tasks.onDidEndTaskProcess, {
    predicate,
    timeoutMs: options.timeoutMs,
    description: options.description ?? 'a task process to end',
  });
}

/**
 * Polls `condition` every intervalMs until it is true. Only for states without a VS Code event (extension
 * activation); prefer waitForEvent / waitForDiagnostics / waitForTaskEnd.
 */
export async function waitForCondition(
  condition: () => boolean,
  options: { timeoutMs?: number; intervalMs?: number; description: string },
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.description}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** Runs a command that opens a quick pick, and answers that pick with `answer` (a command) until the command settles. */
export async function answeringQuickPick<T>(command: Thenable<T>, answer: string, timeoutMs = 60_000): Promise<T> {
  let settled = false;
  const result = Promise.resolve(command).finally(() => (settled = true));
  for (const deadline = Date.now() + timeoutMs; !settled && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (!settled) await vscode.commands.executeCommand(answer);
  }
  return result;
}

/**
 * Asks the launcher for a picture of the workbench as it is now (test-results/vscode-NAME.png) and waits until it
 * is taken. Returns false when the launcher takes no pictures (e.g. under @vscode/test-electron).
 */
export async function requestScreenshot(name: string, timeoutMs = 30_000): Promise<boolean> {
  const dir = runConfig().screenshot?.requestDir;
  if (!dir) return false;
  const done = path.join(dir, `${name}.done`);
  fs.writeFileSync(path.join(dir, `${name}.request`), '');
  await waitForCondition(() => fs.existsSync(done), { timeoutMs, intervalMs: 100, description: `the launcher's screenshot ${name}` });
  return true;
}

/**
 * A suite's precondition (root, a bpffs): skips the suite when it does not hold on a developer's machine, and fails
 * it under CI=true, where the real thing must run.
 */
export function requireOrSkip(ctx: Mocha.Context, ok: boolean, reason: string): void {
  if (ok) return;
  if (process.env.CI === 'true') throw new Error(`${reason} under CI=true`);
  ctx.skip();
}
