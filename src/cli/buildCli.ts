// cilium-custom build <header.h>, and the build flags build, verify and attach share.
import { buildHeader } from '../core/build/build';
import { formatDiagnostic } from '../core/build/clangDiagnostics';
import { programSections, readElfSections } from '../core/build/elfSections';
import type { BuildSettings } from '../core/build/settings';
import { bundledSdkDir, nonEmptyOption, numberOption, parseCommandArgs, printJson, TIMEOUT_SECONDS_RANGE, UsageError } from './args';

/** The flags of the build settings, the same for build, verify and attach. */
export const BUILD_OPTIONS = {
  'make-dir': { type: 'string' },
  'make-var': { type: 'string', multiple: true },
  make: { type: 'string' },
  timeout: { type: 'string' },
} as const;

export interface BuildFlagValues {
  'make-dir'?: string;
  'make-var'?: string[];
  make?: string;
  timeout?: string;
}

/** The one BuildSettings of a command line (a relative --make-dir is taken from the current directory). */
export function buildSettingsFromFlags(values: BuildFlagValues, sdkDir = bundledSdkDir()): BuildSettings {
  const makeDir = nonEmptyOption('make-dir', values['make-dir']);
  const make = nonEmptyOption('make', values.make);
  const timeout = numberOption('timeout', values.timeout, TIMEOUT_SECONDS_RANGE);
  const extraVariables: Record<string, string> = {};
  for (const assignment of values['make-var'] ?? []) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(assignment);
    if (!match) throw new UsageError(`--make-var must be NAME=VALUE, not ${JSON.stringify(assignment)}`);
    extraVariables[match[1]] = match[2];
  }
  return {
    bundledSdkDir: sdkDir,
    ...(makeDir !== undefined ? { makeDirSetting: makeDir } : {}),
    ...(make !== undefined ? { make } : {}),
    ...(Object.keys(extraVariables).length ? { extraVariables } : {}),
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
  };
}

export async function runBuildCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...BUILD_OPTIONS,
    name: { type: 'string' },
    sections: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('build takes exactly one header');
  nonEmptyOption('name', values.name);
  const result = await buildHeader({
    headerPath: positionals[0],
    ...buildSettingsFromFlags(values),
    progName: values.name,
    signal,
    onOutput: values.verbose && !values.json ? (chunk) => process.stderr.write(chunk) : undefined,
  });
  const sections = result.ok && (values.sections || values.json) ? programSections(await readElfSections(result.objectPath)) : undefined;

  if (values.json) {
    printJson({
      ok: result.ok,
      header: result.headerPath,
      object: result.ok ? result.objectPath : null,
      section: result.progName ?? null,
      programs: sections ?? [],
      makeDir: result.makeDir?.dir ?? null,
      makeDirSource: result.makeDir?.source ?? null,
      diagnostics: result.diagnostics.map(({ file, line, column, severity, message, flag }) => ({ file, line, column, severity, message, flag: flag ?? null })),
      failure: result.failure ?? null,
      durationMs: result.durationMs,
    });
    return result.ok ? 0 : 1;
  }
  for (const d of result.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!result.ok) {
    if (result.diagnostics.length === 0 && result.output.trim() !== '') process.stderr.write(result.output);
    process.stderr.write(`cilium-custom: ${result.failure ?? 'build failed'}\n`);
    return 1;
  }
  process.stdout.write(`${result.objectPath}\n`);
  if (values.sections && sections) {
    process.stdout.write(`  programs (ELF sections): ${sections.join(', ')}\n`);
    process.stdout.write(`  built in ${result.durationMs} ms through ${result.makeDir?.dir} (${result.makeDir?.source})\n`);
  }
  return 0;
}
