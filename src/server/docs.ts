// Hover and completion content from the UAPI docs.
import type { UapiDocs } from './uapi';
import { WRAPPERS } from './uapi';

export function wordAt(text: string, line: number, character: number): string | undefined {
  const lineText = text.split('\n')[line] ?? '';
  let start = character;
  let end = character;
  while (start > 0 && /\w/.test(lineText[start - 1]!)) start--;
  while (end < lineText.length && /\w/.test(lineText[end]!)) end++;
  return start < end ? lineText.slice(start, end) : undefined;
}

/** Markdown for `word`, or undefined when it is neither a helper, a wrapper nor a map type. */
export function hoverMarkdown(docs: UapiDocs, word: string): string | undefined {
  const helperName = WRAPPERS[word] ?? word;
  const helper = docs.helpers.get(helperName);
  if (helper) {
    const parts = ['```c', helper.signature, '```'];
    if (helperName !== word) parts.push(`\`${word}\` is Cilium's wrapper (sdk/maps.h) for \`${helperName}\`.`, '');
    if (helper.description) parts.push('**Description**', '', helper.description, '');
    if (helper.returns) parts.push('**Return**', '', helper.returns, '');
    parts.push(`_from ${docs.source}_`);
    return parts.join('\n');
  }
  const mapType = docs.mapTypes.get(word);
  if (mapType) return ['```c', `enum bpf_map_type ${mapType.name} = ${mapType.value}`, '```', `_from ${docs.source}_`].join('\n');
  return undefined;
}
