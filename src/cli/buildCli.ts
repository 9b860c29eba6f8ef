// cilium-custom build <header.h>
import { buildHeader } from '../core/build/build';
import { formatDiagnostic } from '../core/build/clangDiagnostics';
import { programSections, readElfSections } from '../core/build/elfSections';
import { bundledSdkDir, parseCommandArgs, printJson, UsageError } from './args';

export async function runBuildCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    'make-dir': { type: 'string' },
    name: { type: 'string' },
    sections: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('build takes exactly one header');
  const result = await buildHeader({
    headerPath: positionals[0],
    bundledSdkDir: bundledSdkDir(),
    makeDirSetting: values['make-dir'],
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
