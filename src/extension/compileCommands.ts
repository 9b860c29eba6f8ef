// "Cilium Custom: Generate compile_commands.json for clangd", and the one-time offer to do so for the folder of a
// custom-program header that just built, when it has no compile_commands.json (from the second successful build on).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMPILE_COMMANDS_FILE, CompileCommandsError, generateCompileCommands, GenerateResult } from '../core/compileCommands/generate';
import { isCustomProgramDocument } from '../shared/customProgramScope';
import type { CiliumCustomContext } from './context';

/** workspaceState keys: folders already offered, "Don't ask again" for this workspace, successful builds so far. */
const OFFERED_KEY = 'ciliumCustom.compileCommands.offeredFolders';
const NEVER_KEY = 'ciliumCustom.compileCommands.neverOffer';
const BUILDS_KEY = 'ciliumCustom.compileCommands.successfulBuilds';
/** Never with the first build: its result is what the user is reading (an offer on opening a header came over it). */
const OFFER_AFTER_BUILDS = 2;

/** Command handler. arg: a folder or header (Uri or path, from the explorer or a test); else the active header's folder, else a picker. */
export async function generateCompileCommandsCommand(ctx: CiliumCustomContext, arg?: unknown): Promise<GenerateResult | undefined> {
  const folder = await resolveFolder(arg);
  if (!folder) return undefined;
  return writeDatabase(ctx, folder);
}

async function writeDatabase(ctx: CiliumCustomContext, folder: string): Promise<GenerateResult | undefined> {
  let result: GenerateResult;
  try {
    result = generateCompileCommands({
      folder,
      bundledSdkDir: ctx.bundledSdkDir,
      makeDirSetting: ctx.config.makeDirectory,
      clang: ctx.config.extraMakeVariables.CLANG,
    });
  } catch (error) {
    if (!(error instanceof CompileCommandsError)) throw error;
    ctx.log.error(error.message);
    void vscode.window.showErrorMessage(`Cilium Custom: ${error.message}`);
    return undefined;
  }
  const where = vscode.workspace.asRelativePath(result.file);
  const sdk = result.makeDirs.map((d) => `${d.dir} (${d.source}${d.ciliumTree ? ', Cilium tree' : ''})`).join(', ');
  ctx.log.info(`wrote ${result.file}: ${result.entries.length} header(s), flags from ${sdk}` + (result.keptForeign ? `, kept ${result.keptForeign} existing entries` : ''));
  const merged = result.keptForeign || result.replacedForeign ? ` (merged into the existing file: kept ${result.keptForeign} other entries)` : '';
  void vscode.window.showInformationMessage(
    `Cilium Custom: wrote ${where} with ${result.entries.length} header${result.entries.length === 1 ? '' : 's'}${merged}. clangd picks it up for headers in that folder (restart clangd if it is running).`,
  );
  return result;
}

async function resolveFolder(arg: unknown): Promise<string | undefined> {
  const given = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg !== '' ? vscode.Uri.file(arg) : undefined;
  if (given) {
    if (given.scheme !== 'file') {
      void vscode.window.showErrorMessage('Cilium Custom: compile_commands.json can only be written on the local file system.');
      return undefined;
    }
    return isDirectory(given.fsPath) ? given.fsPath : path.dirname(given.fsPath);
  }
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file' && active.fsPath.endsWith('.h')) return path.dirname(active.fsPath);
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Generate compile_commands.json',
    title: 'Folder of custom-program headers',
  });
  return picked?.[0]?.fsPath;
}

/**
 * Offers, once per folder, to generate the database for the folder of a header that just built successfully, from
 * the second successful build in this workspace on. The walkthrough's clangd step runs the command itself.
 */
export function registerCompileCommandsOffer(ctx: CiliumCustomContext): void {
  const offering = new Set<string>();
  ctx.own(
    ctx.results.onDidBuild(({ header, ok }) => {
      if (!ok) return;
      const state = ctx.extension.workspaceState;
      const builds = state.get<number>(BUILDS_KEY, 0) + 1;
      void state.update(BUILDS_KEY, builds);
      if (builds < OFFER_AFTER_BUILDS) return;
      const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === header);
      if (!shouldOffer(ctx, header, open?.getText() ?? readText(header))) return;
      const folder = path.dirname(header);
      if (offering.has(folder)) return;
      offering.add(folder);
      void offer(ctx, folder).finally(() => offering.delete(folder));
    }),
  );
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function shouldOffer(ctx: CiliumCustomContext, file: string, text: string): boolean {
  if (!file.endsWith('.h')) return false;
  if (!vscode.workspace.isTrusted) return false;
  if (!ctx.config.offerCompileCommands) return false;
  const state = ctx.extension.workspaceState;
  if (state.get<boolean>(NEVER_KEY, false)) return false;
  const folder = path.dirname(file);
  if (state.get<string[]>(OFFERED_KEY, []).includes(folder)) return false;
  if (fs.existsSync(path.join(folder, COMPILE_COMMANDS_FILE))) return false;
  return isCustomProgramDocument(file, text);
}

async function offer(ctx: CiliumCustomContext, folder: string): Promise<void> {
  const state = ctx.extension.workspaceState;
  await state.update(OFFERED_KEY, [...state.get<string[]>(OFFERED_KEY, []), folder]);
  const choice = await vscode.window.showInformationMessage(
    `Cilium Custom: generate a compile_commands.json in ${vscode.workspace.asRelativePath(folder)} so that clangd sees custom-program headers as the build does (BPF target, SDK includes)?`,
    'Generate',
    "Don't ask again",
  );
  if (choice === 'Generate') await writeDatabase(ctx, folder);
  else if (choice === "Don't ask again") await state.update(NEVER_KEY, true);
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}
