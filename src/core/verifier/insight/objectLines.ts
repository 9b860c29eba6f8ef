// Logs with no line info at all (4.x kernels, objects without BTF line info): each instruction's source line from
// the object's own line table (llvm-objdump, objectLineInfo.ts), for analyzeBody's `insnLine`.
import { lookupInsn, readObjectLineInfo, type ObjdumpOptions } from '../objectLineInfo';

/**
 * A lookup of instruction -> file:line in `objectPath`, for the program in `section` (default: the executable
 * section other than .text with the most instructions, the usual one-program object), or null when the object
 * cannot be read.
 */
export async function objectInsnLines(
  objectPath: string,
  section?: string,
  options: ObjdumpOptions = {},
): Promise<((insn: number) => { file: string; line: number } | null) | null> {
  const info = await readObjectLineInfo(objectPath, options);
  if (!info.ok) return null;
  let name = section;
  if (!name || !info.sections.has(name)) {
    const candidates = [...info.sections.entries()].filter(([n]) => n !== '.text').sort((a, b) => b[1].count - a[1].count);
    name = candidates[0]?.[0] ?? '.text';
  }
  const chosen = name;
  return (insn) => lookupInsn(info.sections, insn, chosen);
}
