// Cilium/libbpf attribute macros that tree-sitter cannot see through (they expand to __attribute__((...)) under the
// preprocessor, which tree-sitter does not run). They are blanked out, character for character, before parsing, so
// positions in the tree are positions in the document.

const ATTRIBUTE_WORDS = [
  '__always_inline', '__noinline', '__maybe_unused', '__unused', '__section_maps_btf', '__section_maps',
  '__section_tail', '__inline', '__weak', '__hidden', '__ksym', '__kconfig', '__force_inline',
];
const PATTERN = new RegExp(
  `\\b(?:${ATTRIBUTE_WORDS.join('|')})\\b|\\b(?:__section|SEC|__section_tail)\\s*\\((?:[^()"\\n]|"[^"\\n]*")*\\)`,
  'g',
);

const blank = (s: string): string => s.replace(/[^\n]/g, ' ');

/** The text tree-sitter parses: same length and line structure as `text`. */
export function maskAttributes(text: string): string {
  return text.replace(PATTERN, blank);
}

/** The ELF section named by a `__section("x")`/`SEC("x")` in `text`, if any. */
export function sectionIn(text: string): string | undefined {
  const m = /\b(?:__section|SEC)\s*\(\s*(?:"([^"]*)"|([A-Za-z_]\w*))\s*\)/.exec(text);
  return m ? (m[1] ?? m[2]) : undefined;
}
