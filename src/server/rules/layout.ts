// C layout (x86-64/BPF: natural alignment) of the structs the file defines, for the padding rule.
import type { Node } from 'web-tree-sitter';
import { declaredName, evalConstant, type FileModel } from '../syntax';

const SCALARS: Record<string, number> = {};
for (const [size, names] of [
  [1, '__u8 __s8 u8 s8 char _Bool bool int8_t uint8_t'],
  [2, '__u16 __s16 u16 s16 short __be16 __le16 __sum16 int16_t uint16_t'],
  [4, '__u32 __s32 u32 s32 int float __be32 __le32 __wsum int32_t uint32_t'],
  [8, '__u64 __s64 u64 s64 long double __be64 __le64 size_t int64_t uint64_t __aligned_u64'],
] as const) for (const n of names.split(' ')) SCALARS[n] = size;

export interface FieldLayout {
  name: string;
  node: Node;
  offset: number;
  size: number;
}

export interface StructLayout {
  size: number;
  align: number;
  fields: FieldLayout[];
}

function scalarSize(typeText: string): number | undefined {
  const t = typeText.replace(/\b(const|volatile|signed|unsigned)\b/g, ' ').replace(/\s+/g, ' ').trim();
  if (t === '' && /\bunsigned|signed\b/.test(typeText)) return 4;
  if (/^long long$|^long int$|^long long int$/.test(t)) return 8;
  if (/^short int$/.test(t)) return 2;
  return SCALARS[t];
}

/** The layout of `struct name`, or undefined when a field's type is unknown, a bitfield, or the struct is packed. */
export function structLayout(model: FileModel, name: string, seen: Set<string> = new Set()): StructLayout | undefined {
  const spec = model.structs.get(name);
  if (!spec || seen.has(name) || /__attribute__\s*\(\(\s*(packed|aligned)|__packed|__aligned/.test(spec.text)) return undefined;
  seen.add(name);
  const body = spec.childForFieldName('body');
  if (!body) return undefined;
  let offset = 0;
  let align = 1;
  const fields: FieldLayout[] = [];
  for (const field of body.namedChildren) {
    if (!field || field.type === 'comment') continue;
    if (field.type !== 'field_declaration' || field.namedChildren.some((c) => c?.type === 'bitfield_clause')) return undefined;
    const typeNode = field.childForFieldName('type');
    if (!typeNode) return undefined;
    let size: number | undefined;
    let a: number | undefined;
    if (typeNode.type === 'struct_specifier') {
      const inner = typeNode.childForFieldName('name')?.text;
      const l = inner ? structLayout(model, inner, new Set(seen)) : undefined;
      if (!l) return undefined;
      size = l.size;
      a = l.align;
    } else {
      size = scalarSize(typeNode.text);
      a = size;
    }
    for (const declarator of field.childrenForFieldName('declarator')) {
      if (!declarator) continue;
      let count = 1;
      let d: Node | null = declarator;
      let pointer = false;
      while (d && d.type !== 'field_identifier') {
        if (d.type === 'pointer_declarator') pointer = true;
        if (d.type === 'array_declarator') {
          const n = d.childForFieldName('size');
          const v = n ? evalConstant(n.text, model.constants) : 0;
          if (v === undefined) return undefined;
          count *= v;
        }
        d = d.childForFieldName('declarator');
      }
      const elemSize = pointer ? 8 : size;
      const elemAlign = pointer ? 8 : a;
      if (elemSize === undefined || elemAlign === undefined) return undefined;
      offset = Math.ceil(offset / elemAlign) * elemAlign;
      fields.push({ name: declaredName(declarator)?.text ?? '?', node: field, offset, size: elemSize * count });
      offset += elemSize * count;
      align = Math.max(align, elemAlign);
    }
  }
  return { size: Math.ceil(offset / align) * align, align, fields };
}
