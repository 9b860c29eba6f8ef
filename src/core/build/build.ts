// Builds one custom-program header through its Makefile: the engine behind the command, the task and the CLI.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFailure, runProcess } from '../process';
import { ClangDiagnostic, parseClangDiagnostics, parseToolErrors } from './clangDiagnostics';
import { BuildInputError, buildMakeArgs, MakeInvocation } from './makeArgs';
import { findMakeDirectory, MakeDirectory } from './makeDirectory';
import { isOnPath } from './which';

export interface BuildRequest {
  headerPath: string;
  bundledSdkDir: string;
  /** The ciliumCustom.build.makeDirectory setting or the CLI's --make-dir. */
  makeDirSetting?: string;
  make?: string;
  progName?: string;
  extraVariables?: Record<string, string>;
  signal?: AbortSignal;
  /** Every chunk of make's output, as it comes. */
  onOutput?: (chunk: string) => void;
}

export interface BuildResult {
  ok: boolean;
  headerPath: string;
  objectPath: string;
  progName?: string;
  makeDir?: MakeDirectory;
  argv?: string[];
  diagnostics: ClangDiagnostic[];
  /** Errors that have no source location (a missing tool, make's own errors). */
  toolErrors: string[];
  /** One line saying why the build failed, when it did. */
  failure?: string;
  cancelled: boolean;
  output: string;
  durationMs: number;
}

export type BuildPlan = { invocation: MakeInvocation; makeDir: MakeDirectory } | { error: string; makeDir?: MakeDirectory };

/** Decides how a header is built without running anything; the task provider runs the same plan. */
export function planBuild(request: Omit<BuildRequest, 'signal' | 'onOutput'>): BuildPlan {
  const headerPath = path.resolve(request.headerPath);
  if (!fs.existsSync(headerPath)) return { error: `header not found: ${headerPath}` };
  const makeDir = findMakeDirectory(headerPath, request.makeDirSetting, request.bundledSdkDir);
  if (!fs.existsSync(makeDir.dir)) return { error: `build directory not found: ${makeDir.dir} (from the ${makeDir.source})`, makeDir };
  try {
    const invocation = buildMakeArgs({
      make: request.make ?? 'make',
      makeDir,
      headerPath,
      progName: request.progName,
      goAvailable: makeDir.ciliumTree ? isOnPath('go') : true,
      extraVariables: request.extraVariables,
    });
    return { invocation, makeDir };
  } catch (error) {
    if (error instanceof BuildInputError) return { error: error.message, makeDir };
    throw error;
  }
}

export async function buildHeader(request: BuildRequest): Promise<BuildResult> {
  const headerPath = path.resolve(request.headerPath);
  const started = Date.now();
  const fail = (failure: string, extra: Partial<BuildResult> = {}): BuildResult => ({
    ok: false,
    headerPath,
    objectPath: headerPath.replace(/(\.h)?$/, '.o'),
    diagnostics: [],
    toolErrors: [],
    failure,
    cancelled: false,
    output: '',
    durationMs: Date.now() - started,
    ...extra,
  });

  const plan = planBuild(request);
  if ('error' in plan) return fail(plan.error, plan.makeDir ? { makeDir: plan.makeDir } : {});
  const { invocation, makeDir } = plan;

  // A stale object must not pass for a fresh one if this build fails.
  fs.rmSync(invocation.objectPath, { force: true });
  let output = '';
  const append = (chunk: string) => {
    output += chunk;
    request.onOutput?.(chunk);
  };
  const run = await runProcess(invocation.argv, {
    cwd: invocation.cwd,
    signal: request.signal,
    onStdout: append,
    onStderr: append,
  });
  const diagnostics = parseClangDiagnostics(output, invocation.cwd);
  const toolErrors = parseToolErrors(output);
  const produced = fs.existsSync(invocation.objectPath);
  const ok = run.exitCode === 0 && !run.cancelled && produced;
  let failure: string | undefined;
  if (!ok) {
    if (run.spawnError?.code === 'ENOENT') failure = `${invocation.argv[0]} is not installed (apt-get install make clang llvm)`;
    else if (run.cancelled) failure = 'build cancelled';
    else if (run.exitCode === 0) failure = `make succeeded but did not write ${invocation.objectPath}; is ${makeDir.dir} a bpf/custom-style Makefile?`;
    else {
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      failure = errors > 0 ? `build failed with ${errors} error${errors === 1 ? '' : 's'}` : `build failed: ${toolErrors[0] ?? describeFailure(run)}`;
    }
  }
  return {
    ok,
    headerPath,
    objectPath: invocation.objectPath,
    progName: invocation.progName,
    makeDir,
    argv: invocation.argv,
    diagnostics,
    toolErrors,
    ...(failure ? { failure } : {}),
    cancelled: run.cancelled,
    output,
    durationMs: Date.now() - started,
  };
}
