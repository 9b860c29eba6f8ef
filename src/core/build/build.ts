// Builds one custom-program header through its Makefile: the engine behind the command, the task and the CLI.
// One build per object at a time (buildLock.ts); make writes under a temporary name and the object is renamed into
// place only once it is complete and checked (staging.ts, builtObject.ts), so a verify or attach running meanwhile
// never sees a missing or half-written object. Next to the object it leaves a record of everything it was built
// from (freshness.ts), which is how verify knows whether the object is current.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess } from '../process';
import { BuildLockCancelled, withBuildLock } from './buildLock';
import { makefileIn, removeBuildRecord } from './buildRecord';
import { recordBuild } from './freshness';
import { describeFsError, explainMakeFailure, headerProblem, moveCustomProgDiagnostics, noCustomProg, noCustomProgDiagnostic, type BuildFailure, type BuildFailureKind } from './buildFailure';
import { checkBuiltObject } from './builtObject';
import { ClangDiagnostic, parseClangDiagnostics, parseToolErrors } from './clangDiagnostics';
import { BuildInputError, MakeInvocation, objectPathFor } from './makeArgs';
import { MakeDirectory, takesObjectPath } from './makeDirectory';
import { planBuild, type PlanRequest } from './plan';
import { removeScratch, removeStaleScratch, ScratchDirError, stageBuild, type Staging } from './staging';

export type { BuildFailureKind } from './buildFailure';
export type { BuildSettings } from './settings';
export { checkObjectCurrent } from './freshness';
export { planBuild, type BuildPlan } from './plan';

export interface BuildRequest extends PlanRequest {
  signal?: AbortSignal;
  /** Every chunk of make's output, as it comes. */
  onOutput?: (chunk: string) => void;
  /** For tests: where the cross-process build locks live (default: a per-user folder in the temp folder). */
  lockDir?: string;
}

export interface BuildResult {
  ok: boolean;
  headerPath: string;
  objectPath: string;
  progName?: string;
  makeDir?: MakeDirectory;
  /** make's argv as run (with the temporary object or header name it wrote through). */
  argv?: string[];
  diagnostics: ClangDiagnostic[];
  /** Errors that have no source location (a missing tool, make's own errors). */
  toolErrors: string[];
  /** One line saying why the build failed, when it did. */
  failure?: string;
  /** What kind of failure, for callers that word it (verify) or react to it. */
  failureKind?: BuildFailureKind;
  /** What to do about the failure, when there is something specific to say. */
  fix?: string;
  cancelled: boolean;
  output: string;
  durationMs: number;
}

export async function buildHeader(request: BuildRequest): Promise<BuildResult> {
  const headerPath = path.resolve(request.headerPath);
  const started = Date.now();
  let output = '';
  const append = (chunk: string) => {
    output += chunk;
    request.onOutput?.(chunk);
  };
  let known: Partial<BuildResult> = {};
  const finish = (fields: Partial<BuildResult>, failure?: BuildFailure): BuildResult => ({
    headerPath,
    objectPath: objectPathFor(headerPath),
    diagnostics: [],
    toolErrors: [],
    cancelled: failure?.kind === 'cancelled',
    output,
    ...known,
    ...fields,
    ok: !failure,
    ...(failure ? { failure: failure.failure, failureKind: failure.kind, ...(failure.fix ? { fix: failure.fix } : {}) } : {}),
    durationMs: Date.now() - started,
  });

  const plan = planBuild(request);
  if ('error' in plan) return finish(plan.makeDir ? { makeDir: plan.makeDir } : {}, { kind: 'input', failure: plan.error, fix: '' });
  const { invocation, makeDir } = plan;
  known = { objectPath: invocation.objectPath, progName: invocation.progName, makeDir, argv: invocation.argv };
  try {
    return await withBuildLock(invocation.objectPath, async () => {
      const { fields, restoreNames, failure } = await buildLocked(request, plan, append);
      return finish({ ...fields, output: restoreNames(output) }, failure);
    }, {
      signal: request.signal,
      lockDir: request.lockDir,
      onWait: () => append(`cilium-custom: waiting for another build of ${invocation.objectPath} to finish\n`),
      onUnlocked: (why) => append(`cilium-custom: ${why}; building anyway (the object is still replaced atomically)\n`),
    });
  } catch (error) {
    if (!(error instanceof BuildLockCancelled)) throw error;
    return finish({}, { kind: 'cancelled', failure: 'build cancelled', fix: '' });
  }
}

interface LockedOutcome {
  fields: Partial<BuildResult>;
  /** Puts the real header and object names back into the whole output (make echoes the temporary ones). */
  restoreNames: (text: string) => string;
  failure?: BuildFailure;
}

/** The build proper, under the lock: stage, run make, check the object, rename it into place. */
async function buildLocked(request: BuildRequest, plan: { invocation: MakeInvocation; makeDir: MakeDirectory }, append: (chunk: string) => void): Promise<LockedOutcome> {
  const { invocation, makeDir } = plan;
  const headerPath = path.resolve(request.headerPath);
  const same = (text: string) => text;

  removeStaleScratch(headerPath);
  let staging: Staging;
  try {
    staging = stageBuild(invocation, headerPath, takesObjectPath(makeDir) ? 'object-variable' : 'wrapper', makefileIn(makeDir.dir));
  } catch (error) {
    if (error instanceof BuildInputError) return { fields: {}, restoreNames: same, failure: { kind: 'input', failure: error.message, fix: '' } };
    // The dependency list goes to TMPDIR: a full or read-only TMPDIR is not the header folder's fault.
    if (error instanceof ScratchDirError) {
      const failure = `${error.message} (TMPDIR): ${describeFsError(error.cause)}`;
      return { fields: {}, restoreNames: same, failure: { kind: 'io', failure, fix: 'Free some space in TMPDIR, or point TMPDIR at a folder with room.' } };
    }
    const failure = headerProblem(headerPath) ?? `cannot write the object next to the header, in ${path.dirname(headerPath)}: ${describeFsError(error)}`;
    return { fields: {}, restoreNames: same, failure: { kind: 'io', failure, fix: 'The object is written next to the header: the folder must be writable.' } };
  }

  try {
    let raw = '';
    const started = Date.now();
    const run = await runProcess(staging.argv, {
      cwd: invocation.cwd,
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      // The log channel sees the real names too (a name split across two chunks is fixed in the final output).
      onStdout: (chunk) => ((raw += chunk), append(staging.restoreNames(chunk))),
      onStderr: (chunk) => ((raw += chunk), append(staging.restoreNames(chunk))),
    });
    const text = staging.restoreNames(raw);
    const moved = moveCustomProgDiagnostics(parseClangDiagnostics(text, invocation.cwd, { headerPath }), headerPath);
    let diagnostics = moved.diagnostics;
    const toolErrors = parseToolErrors(text, { headerPath });

    let failure: BuildFailure | undefined;
    if (run.spawnError?.code === 'ENOENT') failure = { kind: 'tool-missing', failure: `${invocation.argv[0]} is not installed (apt-get install make clang llvm)`, fix: '' };
    else if (run.cancelled) failure = { kind: 'cancelled', failure: 'build cancelled', fix: '' };
    else if (run.timedOut) failure = { kind: 'timeout', failure: `build timed out after ${Math.round((request.timeoutMs ?? 0) / 1000)} s`, fix: 'Raise the timeout, or see the build output.' };
    else if (moved.missing) failure = noCustomProg(headerPath);
    else if (run.exitCode !== 0) failure = explainMakeFailure(run, diagnostics, toolErrors, headerPath);
    else failure = await checkBuiltObject(staging.tempObject, headerPath, makeDir.dir);
    // Found in the object rather than in clang's output: the header still gets its error.
    if (failure?.kind === 'no-custom-prog' && !moved.missing) diagnostics = [noCustomProgDiagnostic(headerPath), ...diagnostics];
    if (!failure) failure = putInPlace(staging.tempObject, invocation.objectPath);
    if (!failure) recordBuild(plan, headerPath, staging, started, append);

    // A stale object must not pass for a fresh one once its header no longer builds; a cancelled build keeps it
    // (with its record, which still describes it).
    if (failure && failure.kind !== 'cancelled') removeStaleObject(invocation.objectPath);
    return { fields: { argv: staging.argv, diagnostics, toolErrors, cancelled: run.cancelled }, restoreNames: staging.restoreNames, failure };
  } finally {
    removeScratch(staging);
  }
}

/** The atomic step: the complete, checked object replaces the old one in one rename. */
function putInPlace(tempObject: string, objectPath: string): BuildFailure | undefined {
  try {
    fs.renameSync(tempObject, objectPath);
    return undefined;
  } catch (error) {
    return { kind: 'io', failure: `cannot put the object in place: ${objectPath}: ${describeFsError(error)}`, fix: '' };
  }
}

function removeStaleObject(objectPath: string): void {
  removeBuildRecord(objectPath);
  try {
    if (fs.lstatSync(objectPath).isFile()) fs.rmSync(objectPath, { force: true });
  } catch {
    // Not there, or not removable (a read-only folder): nothing more to do.
  }
}
