// Sections and symbols of an ELF object, read directly so that checking an object (is it BPF, which programs does
// it hold, does it still call an undefined custom_prog) needs no extra tool and works on objects from anywhere.
import * as fs from 'node:fs/promises';

export interface ElfSection {
  /** Index in the section header table (what a symbol's st_shndx refers to). */
  index: number;
  name: string;
  type: number;
  flags: number;
  size: number;
}

export interface ElfSymbol {
  name: string;
  /** st_shndx: 0 (SHN_UNDEF) for a symbol the object uses but does not define. */
  section: number;
  /** STT_*: 1 object, 2 function, 3 section, 4 file. */
  type: number;
  /** STB_*: 0 local, 1 global, 2 weak. */
  bind: number;
}

export interface ElfObject {
  /** e_machine: 247 is BPF. */
  machine: number;
  /** e_type: 1 is a relocatable object (what clang -c writes). */
  type: number;
  littleEndian: boolean;
  sections: ElfSection[];
  symbols: ElfSymbol[];
}

/** The file is not an ELF object we can read; `reason` says why in a few words. */
export class ElfFormatError extends Error {
  constructor(
    readonly file: string,
    readonly reason: 'not-elf' | 'not-64-bit' | 'truncated',
    message: string,
  ) {
    super(message);
  }
}

export const EM_BPF = 247;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHF_EXECINSTR = 0x4;
export const SHN_UNDEF = 0;
export const STT_FUNC = 2;

export async function readElfObject(file: string): Promise<ElfObject> {
  return parseElfObject(await fs.readFile(file), file);
}

export async function readElfSections(file: string): Promise<ElfSection[]> {
  return (await readElfObject(file)).sections;
}

export function parseElfObject(data: Buffer, file: string): ElfObject {
  if (data.length < 16 || data.readUInt32BE(0) !== 0x7f454c46) throw new ElfFormatError(file, 'not-elf', `${file} is not an ELF file`);
  if (data[4] !== 2) throw new ElfFormatError(file, 'not-64-bit', `${file} is not a 64-bit ELF file`);
  if (data.length < 64) throw new ElfFormatError(file, 'truncated', `${file}: truncated ELF header`);
  const little = data[5] === 1;
  const u16 = (off: number) => (little ? data.readUInt16LE(off) : data.readUInt16BE(off));
  const u32 = (off: number) => (little ? data.readUInt32LE(off) : data.readUInt32BE(off));
  const u64 = (off: number) => Number(little ? data.readBigUInt64LE(off) : data.readBigUInt64BE(off));
  const truncated = () => new ElfFormatError(file, 'truncated', `${file}: truncated or corrupt ELF file`);
  const cString = (off: number) => {
    if (off >= data.length) throw truncated();
    const end = data.indexOf(0, off);
    return data.toString('utf8', off, end < 0 ? data.length : end);
  };
  const shoff = u64(0x28);
  const shentsize = u16(0x3a);
  const shnum = u16(0x3c);
  const shstrndx = u16(0x3e);
  if (shentsize < 64 || shstrndx >= shnum || shoff + shnum * shentsize > data.length) throw truncated();
  const header = (i: number) => shoff + i * shentsize;
  const strtab = u64(header(shstrndx) + 0x18);
  const sections: ElfSection[] = [];
  const raw: Array<{ offset: number; size: number; link: number; entsize: number }> = [];
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    sections.push({ index: i, name: cString(strtab + u32(h)), type: u32(h + 4), flags: u64(h + 8), size: u64(h + 0x20) });
    raw[i] = { offset: u64(h + 0x18), size: u64(h + 0x20), link: u32(h + 0x28), entsize: u64(h + 0x38) };
  }

  const symbols: ElfSymbol[] = [];
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab) {
    const { offset, size, link, entsize } = raw[symtab.index];
    const names = raw[link];
    if (!names || entsize < 24 || offset + size > data.length) throw truncated();
    for (let at = offset + entsize; at + 24 <= offset + size; at += entsize) {
      const info = data[at + 4];
      symbols.push({ name: cString(names.offset + u32(at)), section: u16(at + 6), type: info & 0xf, bind: info >> 4 });
    }
  }
  return { machine: u16(0x12), type: u16(0x10), littleEndian: little, sections, symbols };
}

/** Sections holding BPF code, i.e. the programs an object defines. */
export function programSections(sections: readonly ElfSection[]): string[] {
  return codeSections(sections).map((s) => s.name);
}

export function codeSections(sections: readonly ElfSection[]): ElfSection[] {
  return sections.filter((s) => s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0);
}
