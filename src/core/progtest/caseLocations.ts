// Where each case of a test file is written: the line of its `"name": "..."`, for the editor's gutter run buttons
// and for putting a failure on the case. Pure text search (the file already parsed as JSON).

export interface TextPosition {
  line: number;
  character: number;
}

/** The position of each case's name (by case name); cases whose name is not found are left out. */
export function caseLocations(text: string, names: readonly string[]): Map<string, TextPosition> {
  const found = new Map<string, TextPosition>();
  let from = 0;
  for (const name of names) {
    const pattern = new RegExp(`"name"\\s*:\\s*${escapeRegExp(JSON.stringify(name))}`, 'g');
    // Cases are in file order: search on from the previous one, then from the start (a name written with escapes).
    pattern.lastIndex = from;
    const match = pattern.exec(text) ?? ((pattern.lastIndex = 0), pattern.exec(text));
    if (!match) continue;
    from = match.index + match[0].length;
    found.set(name, positionAt(text, match.index));
  }
  return found;
}

function positionAt(text: string, offset: number): TextPosition {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The line of the custom_prog() definition in a header (not a mention in a comment), or undefined. */
export function customProgLine(text: string): number | undefined {
  const lines = text.split('\n');
  const definition = lines.findIndex((l) => /^\s*(?:(?:static|inline|__always_inline|const)\s+)*(?:void|int|__u32)\s+custom_prog\s*\(/.test(l));
  if (definition >= 0) return definition;
  const any = lines.findIndex((l) => /\bcustom_prog\s*\(/.test(l) && !/^\s*(?:\/\/|\/?\*)/.test(l));
  return any >= 0 ? any : undefined;
}
