// The one place that decides what is a custom program. The extension (language client, compile_commands offer, the
// status items), the language server, the task provider and the build's Makefile lookup all ask here, so they
// agree. No vscode import: core/, the CLI and the server use it too.
//
//  - isCustomProgramSource(text): the text defines or calls custom_prog(), the function the landing program calls
//    (a custom-program header, or the landing program itself);
//  - isCustomProgramMakeDir(dir): the Makefile make would pick in dir honours BPF_CUSTOM_PROG_FILE (Cilium's
//    bpf/custom contract, and the bundled SDK's);
//  - folderIsCustomProgram(dir): dir holds bpf_custom.c, such a Makefile, or a .h/.c custom-program source;
//  - isCustomProgramDocument(path, text): what the language server speaks about and the client starts for: a
//    custom-program source, or any C source in a custom-program folder (helpers next to the program);
//  - isCSourceDocument(document): the editor documents that can be one at all: C, and headers VS Code opens as C++
//    (its default for .h). CUSTOM_PROGRAM_DOCUMENT_SELECTOR is the same, for the language client.
//
// Folder answers are cached a few seconds, and a folder scan reads a bounded number of small files, so asking on
// every open or edit of any C or C++ header costs little.
import * as fs from 'node:fs';
import * as path from 'node:path';

const CUSTOM_PROG = /\bcustom_prog\s*\(/;
/** The landing program that includes a custom-program header (Cilium's bpf/custom, the bundled SDK). */
export const LANDING_PROGRAM = 'bpf_custom.c';
/** The Makefile names make looks for, in make's own order: the first one present is the one it uses. */
export const MAKEFILE_NAMES = ['GNUmakefile', 'makefile', 'Makefile'] as const;
/** The variable a bpf/custom-style Makefile takes the header from. */
export const CUSTOM_PROG_MAKE_VARIABLE = 'BPF_CUSTOM_PROG_FILE';

/** Files larger than this are not custom-program sources or Makefiles (and are not read). */
const MAX_FILE_BYTES = 1 << 20;
/** A folder scan looks at most at this many .h/.c files: custom-program folders are small, include trees are not. */
const MAX_SOURCES_SCANNED = 200;
const TTL_MS = 5000;
const cache = new Map<string, { at: number; yes: boolean }>();

/** The text defines or calls custom_prog(). */
export function isCustomProgramSource(text: string): boolean {
  return CUSTOM_PROG.test(text);
}

/** The Makefile make would use in `dir` honours BPF_CUSTOM_PROG_FILE. */
export function isCustomProgramMakeDir(dir: string): boolean {
  for (const name of MAKEFILE_NAMES) {
    const text = readSmall(path.join(dir, name));
    if (text !== undefined) return text.includes(CUSTOM_PROG_MAKE_VARIABLE);
  }
  return false;
}

/** `dir` holds the landing program, a bpf/custom-style Makefile, or a custom-program source. Cached for TTL_MS. */
export function folderIsCustomProgram(dir: string, now = Date.now()): boolean {
  const hit = cache.get(dir);
  if (hit && now - hit.at < TTL_MS) return hit.yes;
  let yes = false;
  try {
    const names = fs.readdirSync(dir);
    yes = names.includes(LANDING_PROGRAM) || isCustomProgramMakeDir(dir);
    let scanned = 0;
    for (const name of names) {
      if (yes || scanned >= MAX_SOURCES_SCANNED) break;
      if (!/\.[ch]$/.test(name)) continue;
      scanned++;
      yes = isCustomProgramSource(readSmall(path.join(dir, name)) ?? '');
    }
  } catch {
    yes = false;
  }
  cache.set(dir, { at: now, yes });
  return yes;
}

/** Drops the cached answer for `dir` (a file in it was saved). */
export function forgetFolder(dir: string): void {
  cache.delete(dir);
}

/** A source the language server speaks about: a custom-program source, or a C source in a custom-program folder. */
export function isCustomProgramDocument(filePath: string | undefined, text: string): boolean {
  if (isCustomProgramSource(text)) return true;
  return filePath !== undefined && folderIsCustomProgram(path.dirname(filePath));
}

/**
 * Files whose presence makes a workspace one of custom programs (package.json's workspaceContains activation events
 * list the same globs; a unit test keeps them equal). A folder of headers has none: opening one activates.
 */
export const CUSTOM_PROGRAM_WORKSPACE_MARKERS = ['**/bpf/custom/Makefile', `**/${LANDING_PROGRAM}`] as const;

/** The documents that can be custom-program sources, as a language client document selector. */
export const CUSTOM_PROGRAM_DOCUMENT_SELECTOR: readonly { scheme: 'file'; language: 'c' | 'cpp'; pattern?: string }[] = [
  { scheme: 'file', language: 'c' },
  // VS Code opens .h as C++ by default.
  { scheme: 'file', language: 'cpp', pattern: '**/*.h' },
];

/** The plain facts of an editor document that isCSourceDocument looks at (a vscode.TextDocument has them). */
export interface EditorDocumentFacts {
  readonly uri: { readonly scheme: string };
  readonly languageId: string;
  readonly fileName: string;
}

/** A document CUSTOM_PROGRAM_DOCUMENT_SELECTOR selects: a C file, or a .h file opened as C++. */
export function isCSourceDocument(document: EditorDocumentFacts): boolean {
  if (document.uri.scheme !== 'file') return false;
  return document.languageId === 'c' || (document.languageId === 'cpp' && document.fileName.endsWith('.h'));
}

/** An open editor document that is a custom-program source or sits among them (isCSourceDocument, then the scope test). */
export function isCustomProgramEditorDocument(document: EditorDocumentFacts & { getText(): string }): boolean {
  return isCSourceDocument(document) && isCustomProgramDocument(document.fileName, document.getText());
}

function readSmall(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return st.isFile() && st.size <= MAX_FILE_BYTES ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}
