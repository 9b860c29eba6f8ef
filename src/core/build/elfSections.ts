// Section names of an ELF object, read directly so that printing an object's programs needs no extra tool.
import * as fs from 'node:fs/promises';

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  size: number;
}

const SHT_PROGBITS = 1;
const SHF_EXECINSTR = 0x4;

export async function readElfSections(file: string): Promise<ElfSection[]> {
  const data = await fs.readFile(file);
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  if (data[4] !== 2) throw new Error(`${file} is not a 64-bit ELF file`);
  const little = data[5] === 1;
  const u16 = (off: number) => (little ? data.readUInt16LE(off) : data.readUInt16BE(off));
  const u32 = (off: number) => (little ? data.readUInt32LE(off) : data.readUInt32BE(off));
  const u64 = (off: number) => Number(little ? data.readBigUInt64LE(off) : data.readBigUInt64BE(off));
  const shoff = u64(0x28);
  const shentsize = u16(0x3a);
  const shnum = u16(0x3c);
  const shstrndx = u16(0x3e);
  if (shstrndx >= shnum || shoff + shnum * shentsize > data.length) throw new Error(`${file}: truncated section table`);
  const header = (i: number) => shoff + i * shentsize;
  const strtab = u64(header(shstrndx) + 0x18);
  const sections: ElfSection[] = [];
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    const nameOff = strtab + u32(h);
    const end = data.indexOf(0, nameOff);
    sections.push({
      name: data.toString('utf8', nameOff, end < 0 ? nameOff : end),
      type: u32(h + 4),
      flags: u64(h + 8),
      size: u64(h + 0x20),
    });
  }
  return sections;
}

/** Sections holding BPF code, i.e. the programs an object defines. */
export function programSections(sections: readonly ElfSection[]): string[] {
  return sections.filter((s) => s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0).map((s) => s.name);
}
