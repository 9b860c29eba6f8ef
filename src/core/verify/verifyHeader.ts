// The whole "Verify Custom Program" job: build the header unless its object is current, run the verifier on the
// target, and place the verdict on the user's source lines. Shared by the command, the task, attach and the CLI.
// "Current" is exact (build/buildRecord.ts): same header, make directory, make command and variables, and the same
// content of every file the compiler read; anything else is rebuilt, and a header that no longer builds is an
// error, never a verdict on its old object.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHeader, checkObjectCurrent, type BuildResult } from '../build/build';
import { defaultProgName, objectPathFor } from '../build/makeArgs';
import { buildSettingsOf, type BuildSettings } from '../build/settings';
import type { VerifierLog } from '../verifier/model';
import type { Target } from '../target/target';
import { locateVerdict, type LocatedVerdict } from './locate';
import { checkObjectKind } from './objectKind';
import { verifyObject, type VerifierLogLevel, type VerifyObjectOptions } from './verifyObject';
import { VerifyProblem } from './verifyErrors';

/** The build settings are those of the build (timeoutMs also bounds the verifier's run). */
export interface VerifyRequest extends BuildSettings {
  /** A custom-program header (built first unless its object is current) or an object file. */
  input: string;
  target: Target;
  logLevel?: VerifierLogLevel;
  logFile?: string;
  signal?: AbortSignal;
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
  const freshness = isHeader ? checkObjectCurrent({ headerPath: input, ...buildSettingsOf(request) }) : null;
  if (freshness && !freshness.current) {
    request.onOutput?.(`cilium-custom: building ${path.basename(input)}: ${freshness.reason}\n`);
    build = await buildHeader({ headerPath: input, ...buildSettingsOf(request), signal: request.signal, onOutput: request.onOutput });
    if (!build.ok) {
      if (build.cancelled) throw new VerifyProblem('cancelled', 'Verification cancelled.', '');
      throw Object.assign(buildProblem(build), { build });
    }
  }
  // Before anything is loaded: a file that is not a BPF object, or programs that are not tc programs, never reach
  // bpftool (which would load them all as tc programs, being told "type classifier").
  const section = build?.progName ?? freshness?.progName ?? defaultProgName(input);
  await checkObjectKind(objectPath, isHeader ? section : undefined);
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
        otherFiles: landingFiles(build?.makeDir?.dir ?? freshness?.makeDir?.dir ?? request.bundledSdkDir),
        objectPath,
        section,
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

/** A failed build as a problem: the compiler's first error when there is one, else the build's own cause and fix. */
function buildProblem(build: BuildResult): VerifyProblem {
  const first = build.failureKind === 'compile' ? build.diagnostics.find((d) => d.severity === 'error') : undefined;
  const where = first ? ` (${path.basename(first.file)}:${first.line}: ${first.message})` : '';
  const message = `The header does not build: ${build.failure ?? 'build failed'}${where}`;
  return new VerifyProblem('build-failed', /[.!?]$/.test(message) ? message : `${message}.`, build.fix ?? (first ? 'Fix the compiler errors first.' : ''));
}

function landingFiles(makeDir: string): string[] {
  return [path.join(makeDir, 'bpf_custom.c')];
}
