// (e) A struct used as a map value (`__type(value, struct S)`) with implicit padding, or whose sizeof is not a
// multiple of 8. Holes are reported on the field after the hole, trailing padding on the last field, a size that
// is not a multiple of 8 (without padding) on the struct's name. Layout: natural alignment of __u8..__u64 and
// friends, pointers 8, arrays, nested structs; packed/aligned structs, bitfields and unknown types are skipped.
// Quick fix: explicit padding fields (`__u16 pad1; __u32 pad2;`, each naturally aligned, so the layout does not
// move) where the hole is, after the last field, or to round the size up to a multiple of 8. The names pad1,
// pad2, ... are unique in the struct, across all its fixes, so applying them one after the other never clashes.
import type { Node } from 'web-tree-sitter';
import { DiagnosticCodes } from '../../shared/protocol';
import { type FileModel, type Range, rangeOf } from '../syntax';
import { structLayout } from './layout';
import type { QuickFix } from './types';
import type { Finding } from './types';

const PAD_TYPES: Record<number, string> = { 1: '__u8', 2: '__u16', 4: '__u32', 8: '__u64' };

/** Sizes of naturally aligned fields that fill [offset, offset + size). */
function padSizes(offset: number, size: number): number[] {
  const sizes: number[] = [];
  for (let o = offset, left = size; left > 0; ) {
    const s = [8, 4, 2, 1].find((n) => n <= left && o % n === 0)!;
    sizes.push(s);
    o += s;
    left -= s;
  }
  return sizes;
}

export function checkValuePadding(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  const done = new Set<string>();
  const lines = model.text.split('\n');
  for (const map of model.maps.values()) {
    const name = map.valueStruct;
    if (!name || done.has(name)) continue;
    done.add(name);
    const layout = structLayout(model, name);
    const spec = model.structs.get(name);
    if (!layout || !spec) continue;
    const taken = new Set(layout.fields.map((f) => f.name));
    let counter = 0;
    const pads = (offset: number, size: number): string[] =>
      padSizes(offset, size).map((s) => {
        let pad: string;
        do pad = `pad${++counter}`;
        while (taken.has(pad));
        taken.add(pad);
        return `${PAD_TYPES[s]} ${pad};`;
      });
    const indentOf = (node: Node): string => /^[ \t]*/.exec(lines[node.startPosition.row] ?? '')![0];
    /** Padding fields inserted before `node` (on lines of their own when it starts its line). */
    const before = (node: Node, decls: string[]): QuickFix['edits'] => {
      const at = node.startPosition;
      const ownLine = (lines[at.row] ?? '').slice(0, at.column).trim() === '';
      return [{ range: { start: at, end: at }, newText: decls.map((d) => (ownLine ? `${d}\n${indentOf(node)}` : `${d} `)).join('') }];
    };
    /** Padding fields after `node` (on lines of their own when nothing but a comment follows it on its line). */
    const after = (node: Node, decls: string[]): QuickFix['edits'] => {
      const rest = (lines[node.endPosition.row] ?? '').slice(node.endPosition.column);
      const ownLine = rest.replace(/\/\*.*?\*\/|\/\/.*$/g, '').trim() === '';
      const at: Range['start'] = ownLine ? { row: node.endPosition.row, column: (lines[node.endPosition.row] ?? '').length } : node.endPosition;
      return [{ range: { start: at, end: at }, newText: decls.map((d) => (ownLine ? `\n${indentOf(node)}${d}` : ` ${d}`)).join('') }];
    };
    const fix = (decls: string[], where: string, edits: QuickFix['edits']): QuickFix => ({ title: `Make the padding explicit: ${decls.join(' ')} ${where}`, edits });

    const why = `struct ${name} is the value of map \`${map.name}\`: make the padding explicit so every byte is written (the verifier wants initialized stack) and the layout is the same for every reader`;
    let end = 0;
    for (const field of layout.fields) {
      if (field.offset > end) {
        const decls = pads(end, field.offset - end);
        findings.push({
          code: DiagnosticCodes.valuePadding,
          severity: 'warning',
          range: rangeOf(field.node),
          message: `${field.offset - end} byte${field.offset - end === 1 ? '' : 's'} of implicit padding before \`${field.name}\` (offset ${end}..${field.offset}); ${why}`,
          fix: fix(decls, `before '${field.name}'`, before(field.node, decls)),
        });
      }
      end = field.offset + field.size;
    }
    const last = layout.fields[layout.fields.length - 1];
    if (last && layout.size > end) {
      const decls = pads(end, layout.size - end);
      findings.push({
        code: DiagnosticCodes.valuePadding,
        severity: 'warning',
        range: rangeOf(last.node),
        message: `${layout.size - end} byte${layout.size - end === 1 ? '' : 's'} of implicit trailing padding after \`${last.name}\` (sizeof is ${layout.size}); ${why}`,
        fix: fix(decls, `after '${last.name}'`, after(last.node, decls)),
      });
    } else if (layout.size % 8 !== 0) {
      const decls = pads(layout.size, 8 - (layout.size % 8));
      findings.push({
        code: DiagnosticCodes.valuePadding,
        severity: 'warning',
        range: rangeOf(spec.childForFieldName('name') ?? spec),
        message: `sizeof(struct ${name}) is ${layout.size}, not a multiple of 8; ${why}`,
        fix: last ? fix(decls, `after '${last.name}'`, after(last.node, decls)) : undefined,
      });
    }
  }
  return findings;
}
