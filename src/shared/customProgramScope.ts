// Which documents the language server speaks about, and the client starts for: custom-program sources only. A
// document is one when its text defines or calls custom_prog, or its folder holds bpf_custom.c, a Makefile
// mentioning BPF_CUSTOM_PROG_FILE, or another .h/.c file defining custom_prog. Folder answers are cached a few seconds.
import * as fs from 'node:fs';
import * as path from 'node:path';

const CUSTOM_PROG = /\bcustom_prog\s*\(/;
const cache = new Map<string, { at: number; yes: boolean }>();
const TTL_MS = 5000;

export function folderIsCustomProgram(dir: string, now = Date.now()): boolean {
  const hit = cache.get(dir);
  if (hit && now - hit.at < TTL_MS) return hit.yes;
  let yes = false;
  try {
    const names = fs.readdirSync(dir);
    if (names.includes('bpf_custom.c')) yes = true;
    for (const name of names) {
      if (yes) break;
      const file = path.join(dir, name);
      if (name === 'Makefile' || name === 'makefile' || name === 'GNUmakefile') yes = /BPF_CUSTOM_PROG_FILE/.test(readSmall(file));
      else if (/\.[ch]$/.test(name)) yes = CUSTOM_PROG.test(readSmall(file));
    }
  } catch {
    yes = false;
  }
  cache.set(dir, { at: now, yes });
  return yes;
}

function readSmall(file: string): string {
  try {
    const st = fs.statSync(file);
    return st.isFile() && st.size < 1 << 20 ? fs.readFileSync(file, 'utf8') : '';
  } catch {
    return '';
  }
}

export function isCustomProgramDocument(filePath: string | undefined, text: string): boolean {
  if (CUSTOM_PROG.test(text)) return true;
  return filePath !== undefined && folderIsCustomProgram(path.dirname(filePath));
}
