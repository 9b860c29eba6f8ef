// Why a build failed, in one line, with the real cause: the system's own error ("Read-only file system", "Is a
// directory", "No such file or directory") rather than make's "*** Error 1", and "does not define custom_prog()"
// rather than clang's complaint about an implicit declaration in the landing program.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFailure, type RunResult } from '../process';
import type { ClangDiagnostic } from './clangDiagnostics';

export type BuildFailureKind =
  /** The request itself: no header, not a header, a name the Makefile cannot take. */
  | 'input'
  | 'tool-missing'
  | 'cancelled'
  /** make ran longer than the settings' timeoutMs and was killed. */
  | 'timeout'
  /** clang reported errors in the sources. */
  | 'compile'
  | 'no-custom-prog'
  /** A file-system error: read-only folder, a directory where a file should be, a header removed mid-build. */
  | 'io'
  /** make succeeded without writing the object, or wrote something that is not a BPF object. */
  | 'no-object'
  /** make failed for another reason (its own error, a recipe that failed without saying why). */
  | 'make';

export interface BuildFailure {
  kind: BuildFailureKind;
  failure: string;
  fix: string;
}

export const CUSTOM_PROG_SIGNATURE = 'static __always_inline void custom_prog(const struct __ctx_buff *ctx, __u32 identity)';

export function noCustomProg(headerPath: string): BuildFailure {
  return {
    kind: 'no-custom-prog',
    failure: `${path.basename(headerPath)} does not define custom_prog(), which the landing program calls`,
    fix: `Define ${CUSTOM_PROG_SIGNATURE} { ... } in the header.`,
  };
}

/** clang's words for a call to a custom_prog nobody declared (clang 14: implicit declaration; 16+: undeclared). */
const CUSTOM_PROG_UNDECLARED = /'custom_prog'.*(?:implicit|undeclared)|(?:implicit|undeclared).*'custom_prog'/;

/**
 * Replaces clang's complaints in the landing program about an undeclared custom_prog by one error on the header's
 * first line, which is where the missing definition belongs. `missing` tells whether there were any.
 */
export function moveCustomProgDiagnostics(diagnostics: ClangDiagnostic[], headerPath: string): { diagnostics: ClangDiagnostic[]; missing: boolean } {
  const about = (d: ClangDiagnostic) => d.file !== headerPath && CUSTOM_PROG_UNDECLARED.test(d.message);
  if (!diagnostics.some(about)) return { diagnostics, missing: false };
  return { diagnostics: [noCustomProgDiagnostic(headerPath), ...diagnostics.filter((d) => !about(d))], missing: true };
}

/** The error shown on the header: on the line naming custom_prog (a prototype, a typo'd call), else the first. */
export function noCustomProgDiagnostic(headerPath: string): ClangDiagnostic {
  let line = 1;
  try {
    const index = fs.readFileSync(headerPath, 'utf8').split('\n').findIndex((text) => /\bcustom_prog\b/.test(text));
    if (index >= 0) line = index + 1;
  } catch {
    // Unreadable now: the first line will do.
  }
  return {
    file: headerPath,
    line,
    column: 1,
    severity: 'error',
    message: `this header does not define custom_prog(), which the landing program calls: define ${CUSTOM_PROG_SIGNATURE}`,
    notes: [],
  };
}

/** The system's error texts, as make's children print them; the most telling line wins over make's "*** Error". */
const ERRNO_TEXT =
  /Read-only file system|Is a directory|Not a directory|No such file or directory|Permission denied|No space left on device|Disk quota exceeded|Operation not permitted|File name too long|Too many levels of symbolic links/;
const MAKE_SUMMARY = /^make(?:\[\d+\])?: \*\*\*/;

/** The failure of a make run that did not succeed (not cancelled, make was found). */
export function explainMakeFailure(run: RunResult, diagnostics: ClangDiagnostic[], toolErrors: string[], headerPath: string): BuildFailure {
  const gone = headerProblem(headerPath);
  if (gone) return { kind: 'io', failure: gone, fix: '' };
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    return { kind: 'compile', failure: `build failed with ${errors.length} error${errors.length === 1 ? '' : 's'}`, fix: 'Fix the compiler errors first.' };
  }
  const systemError = toolErrors.find((e) => ERRNO_TEXT.test(e));
  if (systemError) return { kind: 'io', failure: `build failed: ${systemError}`, fix: fixForSystemError(systemError) };
  const specific = toolErrors.find((e) => !MAKE_SUMMARY.test(e)) ?? toolErrors[0];
  return { kind: 'make', failure: `build failed: ${specific ?? describeFailure(run)}`, fix: 'See the build output (Cilium Custom: Show Output, or cilium-custom build -v).' };
}

/** The header vanished or turned into a directory while make ran (make then says only "no such file"). */
export function headerProblem(headerPath: string): string | undefined {
  try {
    if (fs.statSync(headerPath).isDirectory()) return `${headerPath}: Is a directory, not a header file`;
    return undefined;
  } catch (error) {
    return `${headerPath} is gone (removed or renamed during the build): ${describeFsError(error)}`;
  }
}

/** "Read-only file system" for EROFS, and so on: the words the user knows from the shell. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return FS_ERRORS[code] ?? (error as Error).message;
}

const FS_ERRORS: Record<string, string> = {
  EROFS: 'Read-only file system',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  EEXIST: 'File exists',
};

export function fixForSystemError(text: string): string {
  if (/Read-only file system|Permission denied|Operation not permitted/.test(text)) return "The object is written next to the header: build a copy of the header in a folder you can write to.";
  if (/No space left|quota/.test(text)) return 'Free some space where the header is.';
  return '';
}
