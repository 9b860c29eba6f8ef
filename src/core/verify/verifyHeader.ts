// The whole "Verify Custom Program" job: build the header if its object is stale, run the verifier on the target,
// and place the verdict on the user's source lines. Shared by the command, the task and the CLI.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHeader, type BuildResult } from '../build/build';
import { defaultProgName, objectPathFor } from '../build/makeArgs';
import type { VerifierLog } from '../verifier/model';
import type { Target } from '../target/target';
import { locateVerdict, type LocatedVerdict } from './locate';
import { verifyObject, type VerifierLogLevel, type VerifyObjectOptions } from './verifyObject';
import { VerifyProblem } from './verifyErrors';

export interface VerifyRequest {
  /** A custom-program header (built first when its object is stale) or an object file. */
  input: string;
  target: Target;
  bundledSdkDir: string;
  makeDirSetting?: string;
  make?: string;
  extraVariables?: Record<string, string>;
  logLevel?: VerifierLogLevel;
  logFile?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  onOutput?: (chunk: string) => void;
  /** Attach: load for good under these pins (see VerifyObjectOptions.keepPins). */
  keepPins?: VerifyObjectOptions['keepPins'];
}

export interface VerifyResult {
  headerPath: string | null;
  objectPath: string;
  /** Set when this run built the header. */
  build: BuildResult | null;
  log: VerifierLog;
  located: LocatedVerdict | null;
  durationMs: number;
  leftovers: string[];
}

export async function verifyHeaderOrObject(request: VerifyRequest): Promise<VerifyResult> {
  const started = Date.now();
  const input = path.resolve(request.input);
  const isHeader = input.endsWith('.h');
  if (!fs.existsSync(input)) {
    throw new VerifyProblem('object-missing', `${isHeader ? 'Header' : 'Object file'} not found: ${input}.`, '');
  }
  const objectPath = isHeader ? objectPathFor(input) : input;
  let build: BuildResult | null = null;
  if (isHeader && isStale(objectPath, input, request.bundledSdkDir)) {
    build = await buildHeader({
      headerPath: input,
      bundledSdkDir: request.bundledSdkDir,
      makeDirSetting: request.makeDirSetting,
      make: request.make,
      extraVariables: request.extraVariables,
      signal: request.signal,
      onOutput: request.onOutput,
    });
    if (!build.ok) {
      if (build.cancelled) throw new VerifyProblem('cancelled', 'Verification cancelled.', '');
      const first = build.diagnostics.find((d) => d.severity === 'error');
      throw Object.assign(
        new VerifyProblem('build-failed', `The header does not build: ${build.failure ?? 'build failed'}${first ? ` (${path.basename(first.file)}:${first.line}: ${first.message})` : ''}.`, 'Fix the compiler errors first.'),
        { build },
      );
    }
  }
  const verified = await verifyObject(request.target, objectPath, {
    logLevel: request.logLevel,
    logFile: request.logFile,
    signal: request.signal,
    timeoutMs: request.timeoutMs,
    onLog: request.onOutput,
    keepPins: request.keepPins,
  });
  const located = isHeader
    ? await locateVerdict(verified.log, {
        headerPath: input,
        otherFiles: landingFiles(build, request.bundledSdkDir),
        objectPath,
        section: build?.progName ?? defaultProgName(input),
      })
    : null;
  return {
    headerPath: isHeader ? input : null,
    objectPath,
    build,
    log: verified.log,
    located,
    durationMs: Date.now() - started,
    leftovers: verified.leftovers,
  };
}

/** An object is stale when missing or older than its header or the landing program that includes it. */
function isStale(objectPath: string, headerPath: string, sdkDir: string): boolean {
  const mtime = (file: string) => {
    try {
      return fs.statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
  };
  const object = mtime(objectPath);
  if (object === undefined) return true;
  const sources = [headerPath, path.join(path.dirname(headerPath), 'bpf_custom.c'), path.join(sdkDir, 'bpf_custom.c')];
  return sources.some((file) => (mtime(file) ?? 0) > object);
}

function landingFiles(build: BuildResult | null, sdkDir: string): string[] {
  const dir = build?.makeDir?.dir ?? sdkDir;
  return [path.join(dir, 'bpf_custom.c')];
}
