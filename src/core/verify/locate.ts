// Puts a verifier verdict on the user's own files: the log names base names (`bytecount.h:16`), plain source
// text (kernels before 6.8) or nothing at all (no BTF line info); this turns each into an absolute path and line.
// The error goes on the header unless the fault really is in the landing program.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceLocation, VerifierLog } from '../verifier/model';
import { mapInsnToSource } from '../verifier/objectLineInfo';
import { resolveLogLocations, SourceIndex, type SourceFile } from '../verifier/sourceLines';

export interface Location {
  file: string;
  /** 1-based. */
  line: number;
  text?: string;
}

export interface LocatedVerdict {
  /** Where to show the error, on the header whenever the path passed through it. */
  error: Location | null;
  /** Where the verifier itself stopped, when that differs from `error` (an SDK header, the landing program). */
  stoppedAt: Location | null;
  /** The source lines on the path to the error, oldest first, that exist in the user's files. */
  path: Location[];
}

export interface SourceContext {
  headerPath: string;
  /** Other files the log may name (the landing program, SDK headers). */
  otherFiles: string[];
  objectPath?: string;
  /** ELF section of the program the verifier ran, for mapping instructions through the object's line info. */
  section?: string;
}

export async function locateVerdict(log: VerifierLog, context: SourceContext): Promise<LocatedVerdict> {
  const files = [context.headerPath, ...context.otherFiles].filter((file) => fs.existsSync(file));
  const byBaseName = new Map(files.map((file) => [path.basename(file), file]));
  const toAbsolute = (name: string | null): string | null => {
    if (!name) return null;
    if (path.isAbsolute(name) && fs.existsSync(name)) return name;
    return byBaseName.get(path.basename(name)) ?? null;
  };

  // Plain `; source` lines (kernels before 6.8): find them by their text in our files.
  const plainError = log.error !== null && log.error.line === null && log.error.sourceText !== null;
  const needsText = log.path.some((p) => p.line === null) || plainError;
  const sources = needsText ? readSources(files) : [];
  let resolved = needsText ? resolveLogLocations(log, sources) : log;
  if (plainError && resolved.error && log.error?.insn != null && context.objectPath && context.section) {
    // The same text on several lines (`__sync_fetch_and_add(bytes, len);` twice) is resolved from its neighbours on
    // the path; a path cut short (a truncated log) leaves only a guess. The object's line table knows which
    // instruction came from which line: it decides between the candidates, and stands in when the text is nowhere.
    const candidates = new SourceIndex(sources).candidates(log.error.sourceText ?? '');
    if (candidates.length !== 1) {
      const mapped = await mapInsnToSource(context.objectPath, log.error.insn, context.section);
      const file = mapped ? toAbsolute(mapped.file) : null;
      const among = mapped && file ? candidates.some((c) => c.file === file && c.line === mapped.line) : false;
      if (mapped && file && mapped.line !== null && (among || candidates.length === 0)) {
        resolved = { ...resolved, error: { ...resolved.error, file, line: mapped.line } };
      }
    }
  }

  const path_ = resolved.path.map((p) => toLocation(p, toAbsolute)).filter((p): p is Location => p !== null);
  let stopped: Location | null = null;
  const error = resolved.error;
  if (error?.line != null) {
    const file = toAbsolute(error.file);
    if (file) stopped = { file, line: error.line, ...(error.sourceText ? { text: error.sourceText } : {}) };
  } else if (error && error.insn !== null && context.objectPath && context.section) {
    // No line info in the log at all: the object's own line table knows where the instruction came from.
    const mapped = await mapInsnToSource(context.objectPath, error.insn, context.section);
    const file = mapped ? toAbsolute(mapped.file) : null;
    if (mapped && file && mapped.line !== null) stopped = { file, line: mapped.line };
  }

  const inHeader = (loc: Location | null) => loc !== null && loc.file === context.headerPath;
  let shown = stopped;
  if (error && !inHeader(stopped)) {
    // The fault surfaced in an SDK header or the landing program: show it where the user's code led there.
    const lastInHeader = [...path_].reverse().find(inHeader);
    const landingOnly = stopped !== null && !path_.some(inHeader);
    shown = landingOnly ? stopped : lastInHeader ?? stopped;
  }
  if (error && !shown) shown = { file: context.headerPath, line: findCustomProgLine(context.headerPath) };
  return {
    error: error ? shown : null,
    stoppedAt: stopped && shown && (stopped.file !== shown.file || stopped.line !== shown.line) ? stopped : null,
    path: path_,
  };
}

function toLocation(p: SourceLocation, toAbsolute: (name: string | null) => string | null): Location | null {
  const file = toAbsolute(p.file);
  if (!file || p.line === null || p.line <= 0) return null;
  return { file, line: p.line, text: p.text };
}

function readSources(files: string[]): SourceFile[] {
  return files.map((file) => ({ name: file, content: fs.readFileSync(file, 'utf8') }));
}

/** Last resort for an error with no location at all: the line that defines custom_prog. */
function findCustomProgLine(headerPath: string): number {
  try {
    const lines = fs.readFileSync(headerPath, 'utf8').split('\n');
    const index = lines.findIndex((line) => /\bcustom_prog\s*\(/.test(line));
    return index >= 0 ? index + 1 : 1;
  } catch {
    return 1;
  }
}
