// Reads clang's `file:line:col: severity: message` lines (and the notes that follow them) out of build output.
// The regexp is the same one package.json gives the task's problem matcher, so both paths agree.
import * as path from 'node:path';

export type ClangSeverity = 'error' | 'warning' | 'note';

export interface ClangNote {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ClangDiagnostic {
  /** Absolute path: relative paths are resolved against the directory make ran clang in. */
  file: string;
  line: number;
  column: number;
  severity: Exclude<ClangSeverity, 'note'>;
  message: string;
  /** clang's own flag or category, e.g. `-Wunused-variable`, when it printed one. */
  flag?: string;
  notes: ClangNote[];
}

/** Keep in sync with contributes.problemMatchers[cilium-custom-clang] in package.json (a unit test checks). */
export const CLANG_DIAGNOSTIC_PATTERN = '^(.+?):(\\d+):(\\d+):\\s+(warning|error|fatal error|note):\\s+(.*)$';
const LINE = new RegExp(CLANG_DIAGNOSTIC_PATTERN);
const FLAG = /\s+\[(-W[^\]]+|-Werror[^\]]*)\]$/;
/** Errors with no location, e.g. `clang: error: no such file or directory: 'x.h'`. */
const TOOL_ERROR = /^(?:clang(?:-\d+)?|make(?:\[\d+\])?): \*{0,3}\s*(?:error:\s*)?(.*)$/;

export function parseClangDiagnostics(output: string, baseDir: string): ClangDiagnostic[] {
  const diagnostics: ClangDiagnostic[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const match = LINE.exec(raw);
    if (!match) continue;
    const [, file, line, column, severity, rest] = match;
    const entry = {
      file: path.resolve(baseDir, file),
      line: Number(line),
      column: Number(column),
      message: rest.trim(),
    };
    if (severity === 'note') {
      diagnostics.at(-1)?.notes.push(entry);
      continue;
    }
    const flag = FLAG.exec(entry.message);
    diagnostics.push({
      ...entry,
      message: flag ? entry.message.slice(0, flag.index) : entry.message,
      ...(flag ? { flag: flag[1] } : {}),
      severity: severity === 'warning' ? 'warning' : 'error',
      notes: [],
    });
  }
  return diagnostics;
}

/** Error lines from clang or make that carry no source location (missing file, missing tool, make's `***`). */
export function parseToolErrors(output: string): string[] {
  const errors: string[] = [];
  for (const raw of output.split(/\r?\n/)) {
    if (LINE.test(raw)) continue;
    const match = TOOL_ERROR.exec(raw.trim());
    if (match && /error|\*\*\*|No rule|not found|No such/i.test(raw)) errors.push(raw.trim());
  }
  return errors;
}

export function formatDiagnostic(d: ClangDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}${d.flag ? ` [${d.flag}]` : ''}`;
}
