// Loads tree-sitter (web-tree-sitter) and the C grammar. Both .wasm files are looked up next to this file first (the
// bundle, dist/server.js, has them copied beside it by scripts/esbuild.mjs), then in node_modules (unit tests).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';

export const TREE_SITTER_WASM = 'tree-sitter.wasm';
export const C_GRAMMAR_WASM = 'tree-sitter-c.wasm';

/** The first existing candidate for a .wasm file: beside this file, else the installed package. */
export function locateWasm(name: string, baseDir: string = __dirname): string {
  const candidates = [path.join(baseDir, name)];
  try {
    candidates.push(require.resolve(name === TREE_SITTER_WASM ? 'web-tree-sitter/tree-sitter.wasm' : 'tree-sitter-c/tree-sitter-c.wasm'));
  } catch {
    // not installed: only the bundled copy can work
  }
  for (const candidate of candidates) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`${name} not found (looked in ${candidates.join(', ')})`);
}

let language: Promise<Language> | undefined;

/** The C grammar, loaded once per process. */
export function loadCLanguage(): Promise<Language> {
  language ??= (async () => {
    const runtime = locateWasm(TREE_SITTER_WASM);
    await Parser.init({ locateFile: () => runtime });
    return Language.load(locateWasm(C_GRAMMAR_WASM));
  })();
  return language;
}

/** A new parser for C (each document gets its own, so incremental parses don't interfere). */
export async function createCParser(): Promise<Parser> {
  const lang = await loadCLanguage();
  const parser = new Parser();
  parser.setLanguage(lang);
  return parser;
}
