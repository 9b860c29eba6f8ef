// Reads the compiler's diagnostics out of build output: clang's `file:line:col: severity: message` lines (and the
// notes that follow them), and, for Cilium's llc-era trees (v1.12: clang -emit-llvm, then llc), the errors llc
// reports from the debug info. The clang regexp is the same one package.json gives the task's problem matcher, so
// both paths agree.
//
// What Debian's llc 14 prints (checked with Cilium v1.12.0's bpf/custom, -g):
//   error: ./foo.h:6:3: in function custom_hook i32 (%struct.__sk_buff*): A call to built-in function 'abort' is not supported.
//   error: bpf_custom.c:0:0: in function custom_hook i32 (%struct.__sk_buff*): Looks like the BPF stack limit ...
//   error: <unknown>:0:0: in function f i32 (i32): ...                  (no debug info)
//   <inline asm>:1:7: error: invalid operand for instruction            (then the asm line, a caret, `note: !srcloc = N`)
//   llc: error: llc: foo.ll:2:1: error: expected type                   (the intermediate .ll, not a source)
// The file llc names is the debug info's file name without its directory: relative to the longest common prefix of
// the compilation directory (where make ran clang) and the file, so `include/linux/../bpf/builtins.h` is relative
// to the tree's bpf/ when clang ran in bpf/custom. Line 0 means the location is unknown.
import * as fs from 'node:fs';
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

export interface ParseOptions {
  /**
   * The header being built. llc reports an error in inline assembly at `<inline asm>:line:col` only, followed by the
   * assembly line itself; when that line is found in the header, the error is put there.
   */
  headerPath?: string;
}

/** Keep in sync with contributes.problemMatchers[cilium-custom-clang] in package.json (a unit test checks). */
export const CLANG_DIAGNOSTIC_PATTERN = '^(.+?):(\\d+):(\\d+):\\s+(warning|error|fatal error|note):\\s+(.*)$';
const LINE = new RegExp(CLANG_DIAGNOSTIC_PATTERN);
const FLAG = /\s+\[(-W[^\]]+|-Werror[^\]]*)\]$/;
/** Errors with no location, e.g. `clang: error: no such file or directory: 'x.h'`. */
const TOOL_ERROR = /^(?:clang(?:-\d+)?|llc(?:-\d+)?|make(?:\[\d+\])?): \*{0,3}\s*(?:error:\s*)?(.*)$/;
/** llc's backend errors and warnings, located by the debug info: `error: file:line:col: [in function F TYPE: ]message`. */
const LLC_LINE = /^(error|warning): (.+?):(\d+):(\d+): (?:in function \S+ [^:]*: )?(.*)$/;
/** A tool's name in front of a located diagnostic: `llc: error: llc: foo.ll:2:1: error: ...`, `llc: foo.h:3:4: error: ...`. */
const TOOL_PREFIX = /^(?:(?:llc|clang|opt)(?:-\d+)?: (?:error: )?)+/;
/** Files that are the compiler's own intermediates, not sources: a location there means nothing to the user. */
const INTERMEDIATE = /\.(?:ll|bc)$/;
const INLINE_ASM = '<inline asm>';

type Located = { file: string; line: number; column: number; severity: ClangSeverity; message: string; fromLlc: boolean };

/** One output line as a located diagnostic, or undefined (not a diagnostic, or one with no usable location). */
function locate(raw: string): Located | undefined {
  const stripped = raw.replace(TOOL_PREFIX, '');
  const llc = LLC_LINE.exec(stripped);
  if (llc) {
    const [, severity, file, line, column, message] = llc;
    return { file, line: Number(line), column: Number(column), severity: severity as ClangSeverity, message: message.trim(), fromLlc: true };
  }
  const clang = LINE.exec(stripped);
  if (!clang) return undefined;
  const [, file, line, column, severity, message] = clang;
  return { file, line: Number(line), column: Number(column), severity: severity === 'note' ? 'note' : severity === 'warning' ? 'warning' : 'error', message: message.trim(), fromLlc: false };
}

/** Whether a located line names no real place: llc's `<unknown>:0:0`, line 0, the .ll, or inline asm. */
function placeless(d: Located): boolean {
  return d.file === '<unknown>' || d.line === 0 || INTERMEDIATE.test(d.file) || d.file === INLINE_ASM;
}

export function parseClangDiagnostics(output: string, baseDir: string, options: ParseOptions = {}): ClangDiagnostic[] {
  const diagnostics: ClangDiagnostic[] = [];
  const lines = output.split(/\r?\n/);
  /** The diagnostic the next notes belong to (none after one left out for want of a location). */
  let current: ClangDiagnostic | undefined;
  for (let i = 0; i < lines.length; i++) {
    const found = locate(lines[i]);
    if (!found) continue;
    if (found.severity === 'note') {
      // Notes stay with their diagnostic wherever they point (`<inline asm>`, a macro's definition).
      current?.notes.push({ file: resolveFile(found.file, baseDir, found.fromLlc), line: found.line, column: found.column, message: found.message });
      continue;
    }
    let where: { file: string; line: number; column: number } | undefined;
    if (found.file === INLINE_ASM) where = findInlineAsm(lines[i + 1], lines[i + 2], options.headerPath);
    else if (!placeless(found)) where = { file: resolveFile(found.file, baseDir, found.fromLlc), line: found.line, column: found.column };
    current = undefined;
    if (!where) continue;
    const flag = FLAG.exec(found.message);
    current = {
      ...where,
      message: flag ? found.message.slice(0, flag.index) : found.message,
      ...(flag ? { flag: flag[1] } : {}),
      severity: found.severity === 'warning' ? 'warning' : 'error',
      notes: [],
    };
    diagnostics.push(current);
  }
  return diagnostics;
}

/**
 * An absolute path for a file a diagnostic names. clang's names are relative to where it ran; llc's (from the
 * debug info) are relative to the longest common prefix of that directory and the file, which is that directory or
 * one of its ancestors: the nearest one where the file exists.
 */
function resolveFile(file: string, baseDir: string, fromLlc: boolean): string {
  const direct = path.resolve(baseDir, file);
  if (!fromLlc || path.isAbsolute(file) || exists(direct)) return direct;
  // clang keeps the full path when the common prefix would be "/" alone, so "/" itself is never the base.
  for (let dir = path.dirname(path.resolve(baseDir)); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const candidate = path.resolve(dir, file);
    if (exists(candidate)) return candidate;
  }
  return direct;
}

/**
 * llc's `<inline asm>:L:C` error: the next lines are the assembly line (tabs expanded) and a caret under the column.
 * The assembly text is looked up in the header; the column is the caret's within that text.
 */
function findInlineAsm(echo: string | undefined, caret: string | undefined, headerPath: string | undefined): { file: string; line: number; column: number } | undefined {
  const text = echo?.trim();
  if (!echo || !text || !headerPath) return undefined;
  let source: string;
  try {
    source = fs.readFileSync(headerPath, 'utf8');
  } catch {
    return undefined;
  }
  const lines = source.split(/\r?\n/);
  const index = lines.findIndex((l) => l.includes(text));
  if (index < 0) return undefined;
  const at = caret !== undefined && /^\s*\^/.test(caret) ? caret.indexOf('^') - (echo.length - echo.trimStart().length) : 0;
  return { file: headerPath, line: index + 1, column: lines[index].indexOf(text) + Math.min(Math.max(at, 0), text.length) + 1 };
}

function exists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** clang's and llc's own errors with no location, e.g. `error: unable to open output file 'x.o': 'Read-only file system'`. */
const BARE_ERROR = /^(?:fatal )?error: \S/;
/** A command in a recipe failing on a file (`mv: cannot move ...: Read-only file system`, `/bin/sh: 1: cannot create x`). */
const SYSTEM_ERROR = /: (?:Read-only file system|Is a directory|Not a directory|No such file or directory|Permission denied|No space left on device|Disk quota exceeded)\b/;

/**
 * Error lines from clang, llc or make that carry no source location (missing file, missing tool, make's `***`, llc's
 * errors at `<unknown>:0:0` or in the intermediate .ll, inline assembly not found in the header).
 */
export function parseToolErrors(output: string, options: ParseOptions = {}): string[] {
  const errors: string[] = [];
  const lines = output.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const found = locate(raw);
    if (found) {
      if (found.severity === 'note') continue;
      const located = found.file === INLINE_ASM ? findInlineAsm(lines[i + 1], lines[i + 2], options.headerPath) !== undefined : !placeless(found);
      if (located) continue;
      if (found.severity === 'error') errors.push(raw.trim());
      continue;
    }
    const line = raw.trim();
    const match = TOOL_ERROR.exec(line);
    if ((match && /error|\*\*\*|No rule|not found|No such/i.test(raw)) || BARE_ERROR.test(line) || SYSTEM_ERROR.test(line)) errors.push(line);
  }
  return errors;
}

export function formatDiagnostic(d: ClangDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}${d.flag ? ` [${d.flag}]` : ''}`;
}
