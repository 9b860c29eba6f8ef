// Tasks of type `cilium-custom`: a build and a verify task per custom-program header, each a ProcessExecution (an
// argv, never a shell string) with a problem matcher from package.json. Both run the bundled CLI.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { planBuild } from '../../core/build/build';
import { buildSettingsToFlags } from '../../core/build/settings';
import { isCustomProgramSource } from '../../core/build/headers';
import { cliFlagsForTarget } from '../../core/target/targetSettings';
import type { CiliumCustomContext } from '../context';

export const TASK_TYPE = 'cilium-custom';
const BUILD_MATCHER = '$cilium-custom-clang';
const VERIFIER_MATCHER = '$cilium-custom-verifier';

interface CustomTaskDefinition extends vscode.TaskDefinition {
  action: 'build' | 'verify';
  header: string;
}

export function registerTaskProvider(ctx: CiliumCustomContext): void {
  ctx.own(
    vscode.tasks.registerTaskProvider(TASK_TYPE, {
      provideTasks: async (token) => {
        const headers = await findCustomHeaders(token);
        return headers.flatMap((uri) =>
          (['build', 'verify'] as const).map((action) => makeTask(ctx, { type: TASK_TYPE, action, header: uri.fsPath }, vscode.workspace.getWorkspaceFolder(uri))),
        );
      },
      resolveTask: (task) => {
        const definition = task.definition as CustomTaskDefinition;
        if (!['build', 'verify'].includes(definition.action) || typeof definition.header !== 'string') return undefined;
        const folder = typeof task.scope === 'object' ? task.scope : undefined;
        return makeTask(ctx, definition, folder);
      },
    }),
  );
}

export async function findCustomHeaders(token?: vscode.CancellationToken): Promise<vscode.Uri[]> {
  const candidates = await vscode.workspace.findFiles('**/*.h', '{**/node_modules/**,**/.git/**}', 2000, token);
  const headers: vscode.Uri[] = [];
  for (const uri of candidates) {
    const bytes = await vscode.workspace.fs.readFile(uri);
    if (isCustomProgramSource(Buffer.from(bytes).toString('utf8'))) headers.push(uri);
  }
  return headers.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

function makeTask(ctx: CiliumCustomContext, definition: CustomTaskDefinition, folder: vscode.WorkspaceFolder | undefined): vscode.Task {
  return definition.action === 'verify' ? verifyTask(ctx, definition, folder) : buildTask(ctx, definition, folder);
}

function verifyTask(ctx: CiliumCustomContext, definition: CustomTaskDefinition, folder: vscode.WorkspaceFolder | undefined): vscode.Task {
  const headerPath = path.resolve(folder?.uri.fsPath ?? '', definition.header);
  const cli = path.join(ctx.extension.extensionPath, 'dist', 'cli.js');
  const args = [cli, 'verify', headerPath, ...cliFlagsForTarget(ctx.targets.setting())];
  // The same build settings as the editor's own build, so the task's verify finds the editor's object current.
  args.push(...buildSettingsToFlags(ctx.config.buildSettings(ctx.bundledSdkDir)));
  if (ctx.config.verifierLogLevel === 'errors-only') args.push('--errors-only');
  // In desktop VS Code process.execPath is Electron; this makes it behave as plain Node.
  const execution = new vscode.ProcessExecution(process.execPath, args, { env: { ELECTRON_RUN_AS_NODE: '1' } });
  const name = `verify ${folder ? path.relative(folder.uri.fsPath, headerPath) : headerPath}`;
  const task = new vscode.Task(definition, folder ?? vscode.TaskScope.Workspace, name, TASK_TYPE, execution, [BUILD_MATCHER, VERIFIER_MATCHER]);
  task.group = vscode.TaskGroup.Test;
  task.detail = `kernel verifier on ${ctx.targets.activeName}`;
  return task;
}

function buildTask(ctx: CiliumCustomContext, definition: CustomTaskDefinition, folder: vscode.WorkspaceFolder | undefined): vscode.Task {
  const headerPath = path.resolve(folder?.uri.fsPath ?? '', definition.header);
  const settings = ctx.config.buildSettings(ctx.bundledSdkDir);
  const plan = planBuild({ headerPath, ...settings });
  const name = `build ${folder ? path.relative(folder.uri.fsPath, headerPath) : headerPath}`;
  // The bundled CLI, not make itself: the task then builds exactly as the command does (one build per header at a
  // time, the object written atomically, the build record that keeps verify from using a stale object, llc's errors
  // as file:line:col lines, the Cilium 1.19 refusal) and prints one line per diagnostic for the problem matcher.
  const cli = path.join(ctx.extension.extensionPath, 'dist', 'cli.js');
  const args = [cli, 'build', headerPath, ...buildSettingsToFlags(settings)];
  const execution = new vscode.ProcessExecution(process.execPath, args, { env: { ELECTRON_RUN_AS_NODE: '1' } });
  const task = new vscode.Task(definition, folder ?? vscode.TaskScope.Workspace, name, TASK_TYPE, execution, BUILD_MATCHER);
  task.group = vscode.TaskGroup.Build;
  task.detail = 'error' in plan ? plan.error : `make in ${plan.invocation.cwd}`;
  return task;
}
