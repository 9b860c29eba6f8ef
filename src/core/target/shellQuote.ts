// The one function that turns an argv into a command line for a POSIX shell (the remote login shell that
// `ssh host -- <string>` runs: sh, bash, dash or zsh). Nothing else in the project builds shell strings by hand.

/** Characters that no POSIX shell (nor zsh) treats specially anywhere in a word. `=` and `~` are left out on
 * purpose (assignments, zsh `=cmd` expansion, tilde expansion). */
const SAFE_WORD = /^[A-Za-z0-9_./,:@%+-]+$/;

/**
 * Quote every element of `argv` so that a POSIX shell parses the result back into exactly the same words.
 *
 * The rule: a word made only of safe characters stays bare; anything else is wrapped in single quotes, inside which
 * the shell interprets nothing, and each `'` becomes `'\''` (close the quote, an escaped quote, reopen). An empty
 * word becomes `''`. The first word is always quoted, so that it can never be taken for a reserved word (`time`,
 * `if`, `!`), an alias or a variable assignment. Newlines, control characters and non-ASCII text need nothing else:
 * single quotes keep their bytes as they are.
 *
 * Throws when a word contains a NUL byte: no argv can carry one, so it could never arrive intact.
 */
export function shellQuote(argv: readonly string[]): string {
  return argv
    .map((word, index) => {
      if (word.includes('\0')) {
        throw new Error(`shellQuote: argument ${index} contains a NUL byte, which cannot be passed in an argv`);
      }
      if (index > 0 && SAFE_WORD.test(word)) return word;
      return `'${word.replace(/'/g, `'\\''`)}'`;
    })
    .join(' ');
}
