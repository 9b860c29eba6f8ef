// cilium-custom verify <header-or-object> and cilium-custom explain <logfile>
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuildResult } from '../core/build/build';
import { formatDiagnostic } from '../core/build/clangDiagnostics';
import { locateVerdict, type LocatedVerdict } from '../core/verify/locate';
import { verifyHeaderOrObject } from '../core/verify/verifyHeader';
import { VerifyProblem } from '../core/verify/verifyErrors';
import { hintFor } from '../core/verifier/hints';
import type { VerifierLog } from '../core/verifier/model';
import { toExplainJson } from '../core/verifier/explainJson';
import { DetailedLogReader } from '../core/verifier/insight/reader';
import { InsightCollector } from '../core/verifier/insight/collector';
import { analyzeBody } from '../core/verifier/insight/analyze';
import { formatDetailText } from '../core/verifier/insight/json';
import { objectInsnLines } from '../core/verifier/insight/objectLines';
import type { InsightReport } from '../core/verifier/insight/model';
import { nonEmptyOption, numberOption, parseCommandArgs, printJson, UsageError } from './args';
import { BUILD_OPTIONS, buildSettingsFromFlags } from './buildCli';
import { checkLogFile } from './logFileGuard';
import { DEFAULT_MAX_BYTES, readLogInput } from './logInput';
import { checkLocalPrivilege } from './privilege';
import { TARGET_OPTIONS, targetFromFlags } from './targetArgs';
import { runVerifyMatrix, wantsMatrix } from './kernelsCli';

export async function runVerifyCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    ...BUILD_OPTIONS,
    json: { type: 'boolean', default: false },
    log: { type: 'string' },
    'errors-only': { type: 'boolean', default: false },
    kernel: { type: 'string', multiple: true },
    kernels: { type: 'string' },
    detail: { type: 'boolean', default: false },
  });
  const matrix = wantsMatrix(values);
  if (values.detail && values['errors-only']) throw new UsageError('--detail needs the full log: it does not combine with --errors-only');
  if (values.detail && matrix) throw new UsageError('--detail does not combine with --kernel or --kernels');
  if (!matrix && positionals.length !== 1) throw new UsageError('verify takes exactly one header or object file');
  if (matrix && positionals.length === 0) throw new UsageError('verify takes one or more header or object files');
  const settings = buildSettingsFromFlags(values);
  const logFile = nonEmptyOption('log', values.log);
  if (logFile !== undefined) checkLogFile(logFile, positionals[0], settings.makeDirSetting, settings.bundledSdkDir);
  if (matrix) {
    if (logFile !== undefined) throw new UsageError('--log does not combine with --kernel (one log per kernel)');
    const hostTarget = () => {
      const host = targetFromFlags(values);
      checkLocalPrivilege('verify', host);
      return host;
    };
    return runVerifyMatrix({ inputs: positionals, flags: values, hostTarget, json: values.json, ...settings, logLevel: values['errors-only'] ? 'errors-only' : 'verbose', signal });
  }
  const target = targetFromFlags(values);
  checkLocalPrivilege('verify', target);
  // --detail: what the verifier saw, collected from the log as it streams (bounded memory).
  const collector = values.detail ? new InsightCollector() : null;
  const lines = collector ? lineSplitter((line) => collector.line(line)) : null;
  try {
    const result = await verifyHeaderOrObject({
      input: positionals[0],
      target,
      ...settings,
      logLevel: values['errors-only'] ? 'errors-only' : 'verbose',
      logFile,
      signal,
      ...(lines ? { onOutput: lines.push } : {}),
    });
    let detail: InsightReport | null | undefined;
    if (collector && lines) {
      lines.end();
      const body = collector.result(result.log.error?.insn ?? null);
      const sources = [result.headerPath, ...(result.located?.path.map((p) => p.file) ?? []), result.located?.error?.file].filter((f): f is string => typeof f === 'string');
      // No line info in the log at all (old kernels, no BTF): the object's own line table places the instructions.
      const insnLine = body && body.locs.length === 0 ? ((await objectInsnLines(result.objectPath)) ?? undefined) : undefined;
      detail = body ? analyzeBody(body, { resolveFile: fileResolver(sources), sources: readSources(sources), error: result.log.error, insnLine }) : null;
    }
    report(result.log, result.located, values.json, detail);
    if (result.leftovers.length) process.stderr.write(`cilium-custom: could not remove temporary pins: ${result.leftovers.join(', ')}\n`);
    return result.log.verdict === 'accepted' ? 0 : 1;
  } catch (error) {
    if (!(error instanceof VerifyProblem)) throw error;
    const build = (error as { build?: BuildResult }).build;
    if (build && !values.json) for (const d of build.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    if (values.json) printJson({ verdict: 'unknown', error: { message: error.message, insn: null, file: null, line: null, hint: error.fix }, stats: null, truncated: false, problem: error.kind });
    else process.stderr.write(`cilium-custom: ${error.full}\n`);
    return 1;
  } finally {
    await target.dispose();
  }
}

export async function runExplainCli(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    source: { type: 'string' },
    'max-bytes': { type: 'string' },
    json: { type: 'boolean', default: false },
    detail: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('explain takes exactly one log file (or - for standard input)');
  const maxBytes = numberOption('max-bytes', values['max-bytes'], { min: 1, max: Number.MAX_SAFE_INTEGER, bytes: true }) ?? DEFAULT_MAX_BYTES;
  const source = nonEmptyOption('source', values.source);
  if (source !== undefined && !isDirectory(source)) throw new UsageError(`--source ${JSON.stringify(source)} is not a directory`);
  // The reader runs the pasted-log pre-pass (prefixes, one-line loader errors) before the parser, and with
  // --detail also collects what the verifier saw.
  const reader = new DetailedLogReader({ detail: values.detail });
  await readLogInput(positionals[0], maxBytes, (chunk) => reader.push(chunk));
  const sourceFiles = source !== undefined ? fs.readdirSync(source).filter((f) => /\.(h|c)$/.test(f)).map((f) => path.resolve(source, f)) : [];
  const { log, insight } = reader.end({ resolveFile: fileResolver(sourceFiles), sources: readSources(sourceFiles) });
  const located = source !== undefined ? await locateInSourceDir(log, source) : null;
  report(log, located, values.json, values.detail ? insight : undefined);
  return log.verdict === 'unknown' ? 1 : 0;
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** With --source DIR, the log's base names are looked up among the sources in DIR. */
async function locateInSourceDir(log: VerifierLog, dir: string): Promise<LocatedVerdict> {
  const files = fs.readdirSync(dir).filter((f) => /\.(h|c)$/.test(f)).map((f) => path.resolve(dir, f));
  const named = log.error?.file ? files.find((f) => path.basename(f) === path.basename(log.error!.file!)) : undefined;
  const header = named ?? files[0] ?? path.resolve(dir, 'unknown.h');
  // The header's object beside it (the build puts it there) lends its line table to logs without @ file:line.
  const object = header.replace(/\.h$/, '.o');
  const withObject = object !== header && fs.existsSync(object) ? { objectPath: object, section: path.basename(header, '.h') } : {};
  return locateVerdict(log, { headerPath: header, otherFiles: files.filter((f) => f !== header), ...withObject });
}

/** Splits streamed output into lines for `onLine` (bounded: a line longer than 64 KiB is cut). */
function lineSplitter(onLine: (line: string) => void): { push: (chunk: string) => void; end: () => void } {
  let partial = '';
  return {
    push: (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = (parts.pop() ?? '').slice(0, 64 * 1024);
      for (const line of parts) onLine(line);
    },
    end: () => {
      if (partial) onLine(partial);
      partial = '';
    },
  };
}

/** A log's file name (a base name, usually) to one of `files` by base name, else the name as the log gives it. */
function fileResolver(files: string[]): (name: string) => string {
  const byBase = new Map(files.map((f) => [path.basename(f), f]));
  return (name) => byBase.get(path.basename(name)) ?? name;
}

function readSources(files: string[]): { name: string; content: string }[] {
  const out: { name: string; content: string }[] = [];
  for (const file of new Set(files)) {
    try {
      out.push({ name: file, content: fs.readFileSync(file, 'utf8') });
    } catch {
      // Unreadable: its lines are not found by text.
    }
  }
  return out;
}

function report(log: VerifierLog, located: LocatedVerdict | null, json: boolean, detail?: InsightReport | null): void {
  if (json) {
    // Where the verdict was placed (verify: the header; explain: a file of --source), as an absolute path.
    const explained = detail === undefined ? toExplainJson(log) : toExplainJson(log, detail);
    if (explained.error && located?.error) Object.assign(explained.error, { file: located.error.file, line: located.error.line });
    printJson(explained);
    return;
  }
  const stats = log.stats;
  if (log.verdict === 'accepted') {
    process.stdout.write('accepted by the verifier\n');
  } else if (log.error) {
    const where = located?.error ? `${located.error.file}:${located.error.line}` : [log.error.file, log.error.line].filter((x) => x !== null).join(':');
    const hint = hintFor(log.error.message, log.error.context);
    process.stdout.write(`${where ? `${where}: ` : ''}error: ${log.error.message}\n`);
    for (const line of log.error.context) process.stdout.write(`    ${line}\n`);
    if (log.error.insn !== null) process.stdout.write(`  at instruction ${log.error.insn}${log.error.sourceText ? `: ${log.error.sourceText}` : ''}\n`);
    process.stdout.write(`  why: ${hint.summary}\n  fix: ${hint.fix}\n`);
    const pathLines = located?.path ?? [];
    if (pathLines.length > 1) {
      process.stdout.write('  path:\n');
      for (const p of pathLines.slice(-10)) process.stdout.write(`    ${path.basename(p.file)}:${p.line}  ${p.text ?? ''}\n`);
    }
  } else {
    process.stdout.write(`verdict: ${log.verdict} (no verifier error line found)\n`);
  }
  if (stats?.insnsProcessed != null) {
    const limit = stats.insnLimit ?? 1_000_000;
    process.stdout.write(
      `  ${stats.insnsProcessed} of ${limit} instructions processed (${((100 * stats.insnsProcessed) / limit).toFixed(2)}%)` +
        `${stats.stackDepth ? `, stack depth ${stats.stackDepth} of 512` : ''}` +
        `${stats.peakStates != null ? `, peak states ${stats.peakStates}` : ''}\n`,
    );
  }
  if (log.truncated) process.stdout.write('  (the log was truncated)\n');
  if (detail !== undefined) for (const line of formatDetailText(detail, stats?.insnLimit ?? 1_000_000)) process.stdout.write(`${line}\n`);
}
