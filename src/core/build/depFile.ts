// Reads the dependency list clang writes with -MD -MF (make syntax): `target: dep dep \<newline> dep ...`. It names
// every file the compiler read, system headers included, which is what the build record hashes (buildRecord.ts).
//
// clang escapes a space as `\ ` (doubling the backslashes before it), `#` as `\#` and `$` as `$$`; nothing else is
// escaped, so a backslash before any other character is part of the name. A newline cannot be in a name (makeArgs
// refuses such headers). Relative names are relative to the directory clang ran in (the make directory).
import * as path from 'node:path';

/** The prerequisites of the first rule, as absolute paths (relative ones prefixed with `cwd`), each once, in order. */
export function parseDepFile(text: string, cwd: string): string[] {
  const body = text.replace(/\\\r?\n/g, ' ');
  const colon = targetEnd(body);
  if (colon < 0) return [];
  const line = body.slice(colon + 1).split(/\r?\n/)[0];
  const seen = new Set<string>();
  // Not normalised: `include/linux/../bpf/x.h` is read as the kernel resolves it (through a symlinked folder too).
  for (const word of words(line)) seen.add(path.isAbsolute(word) ? word : `${cwd.replace(/\/+$/, '')}/${word}`);
  return [...seen];
}

/** The colon that ends the target: the first one followed by whitespace or the end (a path may hold `a:b`). */
function targetEnd(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ':' && (i + 1 === text.length || /\s/.test(text[i + 1]))) return i;
    else if (text[i] === '\n') return -1;
  }
  return -1;
}

function words(line: string): string[] {
  const out: string[] = [];
  let word = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') {
      // A run of backslashes before a space: 2n+1 of them stand for n backslashes and an escaped space.
      let run = 0;
      while (line[i + run] === '\\') run++;
      const next = line[i + run];
      if (next === ' ' && run % 2 === 1) {
        word += '\\'.repeat((run - 1) / 2) + ' ';
        i += run;
      } else if (next === '#' && run === 1) {
        word += '#';
        i += 1;
      } else {
        word += '\\'.repeat(run);
        i += run - 1;
      }
    } else if (c === '$' && line[i + 1] === '$') {
      word += '$';
      i++;
    } else if (c === ' ' || c === '\t') {
      if (word) out.push(word);
      word = '';
    } else {
      word += c;
    }
  }
  if (word) out.push(word);
  return out;
}
