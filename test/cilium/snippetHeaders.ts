// Every contributed snippet as a complete header, expanded with its default placeholders, for the Cilium
// compatibility tier: the same expander and assembly as test/system/snippets.test.ts (test/system/helpers/snippets.ts).
// A snippet missing from ASSEMBLY is reported by `unassembledSnippets()`, so a new snippet cannot skip this tier.
import { ASSEMBLY, expanderFor, loadSnippets } from '../system/helpers/snippets';

export interface SnippetHeader {
  prefix: string;
  /** The header's file name, `snippet_<prefix>.h` (its base name is the snippets' $TM_FILENAME_BASE). */
  name: string;
  text: string;
}

/** Prefixes of snippets this tier does not know how to assemble (must be empty). */
export function unassembledSnippets(): string[] {
  return [...loadSnippets().keys()].filter((p) => !(p in ASSEMBLY));
}

/** One complete header per snippet that ASSEMBLY knows and that exists. */
export function snippetHeaders(): SnippetHeader[] {
  const snippets = loadSnippets();
  return Object.keys(ASSEMBLY)
    .filter((prefix) => snippets.has(prefix))
    .map((prefix) => {
      const name = `snippet_${prefix}.h`;
      return { prefix, name, text: `${ASSEMBLY[prefix](expanderFor(snippets, name))}\n` };
    });
}
