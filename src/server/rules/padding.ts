// (e) A struct used as a map value (`__type(value, struct S)`) with implicit padding, or whose sizeof is not a
// multiple of 8. Holes are reported on the field after the hole, trailing padding on the last field, a size that
// is not a multiple of 8 (without padding) on the struct's name. Layout: natural alignment of __u8..__u64 and
// friends, pointers 8, arrays, nested structs; packed/aligned structs, bitfields and unknown types are skipped.
import { DiagnosticCodes } from '../../shared/protocol';
import { type FileModel, rangeOf } from '../syntax';
import { structLayout } from './layout';
import type { Finding } from './types';

export function checkValuePadding(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  const done = new Set<string>();
  for (const map of model.maps.values()) {
    const name = map.valueStruct;
    if (!name || done.has(name)) continue;
    done.add(name);
    const layout = structLayout(model, name);
    const spec = model.structs.get(name);
    if (!layout || !spec) continue;
    const why = `struct ${name} is the value of map \`${map.name}\`: make the padding explicit so every byte is written (the verifier wants initialized stack) and the layout is the same for every reader`;
    let end = 0;
    for (const field of layout.fields) {
      if (field.offset > end) {
        findings.push({ code: DiagnosticCodes.valuePadding, severity: 'warning', range: rangeOf(field.node), message: `${field.offset - end} byte${field.offset - end === 1 ? '' : 's'} of implicit padding before \`${field.name}\` (offset ${end}..${field.offset}); ${why}` });
      }
      end = field.offset + field.size;
    }
    const last = layout.fields[layout.fields.length - 1];
    if (last && layout.size > end) {
      findings.push({ code: DiagnosticCodes.valuePadding, severity: 'warning', range: rangeOf(last.node), message: `${layout.size - end} byte${layout.size - end === 1 ? '' : 's'} of implicit trailing padding after \`${last.name}\` (sizeof is ${layout.size}); ${why}` });
    } else if (layout.size % 8 !== 0) {
      findings.push({ code: DiagnosticCodes.valuePadding, severity: 'warning', range: rangeOf(spec.childForFieldName('name') ?? spec), message: `sizeof(struct ${name}) is ${layout.size}, not a multiple of 8; ${why}` });
    }
  }
  return findings;
}
