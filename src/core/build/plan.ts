// How a header is built, decided without running anything: the make directory (or why there is none that can
// build it) and make's argv. The build, the task provider and the freshness check (freshness.ts) share it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { headerProblem } from './buildFailure';
import { customCallsRemovedMessage, notAMakeDirectoryMessage } from './ciliumRemoval';
import { BuildInputError, buildMakeArgs, type MakeInvocation } from './makeArgs';
import { findMakeDirectory, isCustomProgramMakeDir, type MakeDirectory } from './makeDirectory';
import type { BuildSettings } from './settings';
import { isOnPath } from './which';

export interface PlanRequest extends BuildSettings {
  headerPath: string;
  /** The ELF section name; default: the header's base name. */
  progName?: string;
}

export type BuildPlan = { invocation: MakeInvocation; makeDir: MakeDirectory } | { error: string; makeDir?: MakeDirectory };

/** Decides how a header is built without running anything; the task provider runs the same plan. */
export function planBuild(request: PlanRequest): BuildPlan {
  const headerPath = path.resolve(request.headerPath);
  if (!fs.existsSync(headerPath)) return { error: `header not found: ${headerPath}` };
  const notAFile = headerProblem(headerPath);
  if (notAFile) return { error: notAFile };
  const makeDir = findMakeDirectory(headerPath, request.makeDirSetting, request.bundledSdkDir);
  if (makeDir.ciliumWithoutCustomCalls !== undefined) return { error: customCallsRemovedMessage(makeDir.ciliumWithoutCustomCalls, request.bundledSdkDir), makeDir };
  if (!fs.existsSync(makeDir.dir)) return { error: `build directory not found: ${makeDir.dir} (from the ${makeDir.source})`, makeDir };
  // Refused before make runs: Cilium's datapath bpf/Makefile, say, would run `go generate` and fail with Error 127.
  if (makeDir.source === 'setting' && !isCustomProgramMakeDir(makeDir.dir)) return { error: notAMakeDirectoryMessage(makeDir.dir, request.bundledSdkDir), makeDir };
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
