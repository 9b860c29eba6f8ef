// Whether a header's object is current (buildRecord.ts), and the record a build leaves for the next check.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkBuildRecord, identityOf, makefilesOf, removeBuildRecord, writeBuildRecord, type Freshness } from './buildRecord';
import { parseDepFile } from './depFile';
import type { MakeInvocation } from './makeArgs';
import type { MakeDirectory } from './makeDirectory';
import { planBuild, type PlanRequest } from './plan';
import type { Staging } from './staging';

/**
 * Writes the build record of the object just put in place (buildRecord.ts): the files clang listed (minus our
 * temporary header), the header, the Makefiles. Without a list (a Makefile that does not compile with $(CLANG)),
 * no record: verify then rebuilds every time, which is slow but never stale.
 */
export function recordBuild(plan: { invocation: MakeInvocation; makeDir: MakeDirectory }, headerPath: string, staging: Staging, started: number, append: (chunk: string) => void): void {
  const { invocation, makeDir } = plan;
  let listed: string[] | undefined;
  try {
    if (staging.depFile) listed = parseDepFile(fs.readFileSync(staging.depFile, 'utf8'), invocation.cwd);
  } catch {
    listed = undefined;
  }
  const scratch = new Set(staging.scratch.map((f) => path.resolve(f)));
  const inputs = listed?.filter((f) => !scratch.has(path.resolve(f)));
  const why = inputs?.length
    ? writeBuildRecord(invocation.objectPath, identityOf(invocation, makeDir, headerPath), [headerPath, ...inputs, ...makefilesOf(makeDir)], started)
    : `the compiler wrote no list of the files it read (does the Makefile in ${makeDir.dir} compile with $(CLANG)?)`;
  if (why) {
    removeBuildRecord(invocation.objectPath);
    append(`cilium-custom: no build record for ${invocation.objectPath}: ${why}; verify will build it again\n`);
  }
}

/**
 * Whether the header's object is current (buildRecord.ts) for these settings: what verify asks before every run.
 * A request that cannot be built at all (a missing make directory, a Cilium tree without custom calls) is never
 * current: building it is what reports the error.
 */
export function checkObjectCurrent(request: PlanRequest): Freshness & { progName?: string; makeDir?: MakeDirectory } {
  const plan = planBuild(request);
  if ('error' in plan) return { current: false, reason: plan.error };
  const { invocation, makeDir } = plan;
  const freshness = checkBuildRecord(invocation.objectPath, identityOf(invocation, makeDir, path.resolve(request.headerPath)));
  return { ...freshness, progName: invocation.progName, makeDir };
}
