// Where in the header a loader failure belongs. libbpf names a symbol (an extern it could not find, a map it could
// not create or fill), not a line; the line is the one a reader would fix: the extern's declaration (else its first
// use), the map's definition, or the initialiser of the slot libbpf could not fill.
import type { LoaderSubject } from './verifyErrors';

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export function locateLoaderSubject(text: string, subject: LoaderSubject): SourcePosition | undefined {
  const lines = text.split('\n').map(withoutComment);
  const name = subject.symbol.replace(/[^A-Za-z0-9_]/g, '');
  if (!name) return undefined;
  const word = new RegExp(`\\b${name}\\b`);
  const find = (test: (line: string) => boolean, from = 0): number => {
    for (let i = from; i < lines.length; i++) if (test(lines[i])) return i;
    return -1;
  };
  const at = (index: number, pattern: RegExp): SourcePosition => ({ line: index + 1, column: Math.max(0, lines[index].search(pattern)) + 1 });

  // A map: the line that closes its definition (`} name __section...`), then the slot's initialiser after it.
  const definition = find((l) => new RegExp(`}\\s*${name}\\b`).test(l));
  if (definition >= 0) {
    if (subject.slot !== undefined) {
      const slot = new RegExp(`\\[\\s*${subject.slot}\\s*\\]\\s*=`);
      const initialiser = find((l) => slot.test(l), definition);
      if (initialiser >= 0) return at(initialiser, slot);
    }
    return at(definition, word);
  }
  const declaration = find((l) => /\bextern\b/.test(l) && word.test(l));
  if (declaration >= 0) return at(declaration, word);
  const use = find((l) => word.test(l));
  return use >= 0 ? at(use, word) : undefined;
}

/** The line without a `//` comment or a one-line block comment (enough not to point into prose). */
function withoutComment(line: string): string {
  return line.replace(/\/\*.*?\*\//g, (c) => ' '.repeat(c.length)).replace(/\/\/.*$/, '');
}
