// Builds small ELF64 objects in memory, so that the object checks can be unit-tested without clang: a BPF object
// with an XDP section, an x86-64 object, one calling an undefined custom_prog, and so on.
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
export const SHF_ALLOC_EXEC = 0x2 | 0x4;

export interface FakeSection {
  name: string;
  /** Bytes of code; a code section by default (PROGBITS, alloc + exec). */
  size?: number;
  type?: number;
  flags?: number;
}

export interface FakeSymbol {
  name: string;
  /** The name of the section defining it, or undefined for an undefined (extern) symbol. */
  section?: string;
  /** STT_FUNC (2) by default. */
  type?: number;
}

export function buildElf(options: { machine?: number; sections: FakeSection[]; symbols?: FakeSymbol[] }): Buffer {
  const machine = options.machine ?? 247;
  const strings = (names: string[]) => {
    const offsets = new Map<string, number>();
    let text = '\0';
    for (const name of names) {
      if (!offsets.has(name)) {
        offsets.set(name, text.length);
        text += `${name}\0`;
      }
    }
    return { offsets, data: Buffer.from(text, 'utf8') };
  };
  const user = options.sections;
  const symbols = options.symbols ?? [];
  const shstr = strings([...user.map((s) => s.name), '.symtab', '.strtab', '.shstrtab']);
  const str = strings(symbols.map((s) => s.name));
  const symtab = Buffer.alloc(24 * (symbols.length + 1));
  symbols.forEach((sym, i) => {
    const at = 24 * (i + 1);
    symtab.writeUInt32LE(str.offsets.get(sym.name)!, at);
    symtab[at + 4] = (1 << 4) | (sym.type ?? 2);
    const index = sym.section === undefined ? 0 : user.findIndex((s) => s.name === sym.section) + 1;
    symtab.writeUInt16LE(index, at + 6);
  });

  const bodies: Array<{ name: string; type: number; flags: number; data: Buffer; link?: number; entsize?: number }> = [
    ...user.map((s) => ({ name: s.name, type: s.type ?? SHT_PROGBITS, flags: s.flags ?? SHF_ALLOC_EXEC, data: Buffer.alloc(s.size ?? 16) })),
    { name: '.symtab', type: SHT_SYMTAB, flags: 0, data: symtab, link: user.length + 2, entsize: 24 },
    { name: '.strtab', type: SHT_STRTAB, flags: 0, data: str.data },
    { name: '.shstrtab', type: SHT_STRTAB, flags: 0, data: shstr.data },
  ];
  let offset = 64;
  const placed = bodies.map((b) => {
    const at = offset;
    offset += b.data.length;
    return at;
  });
  const shoff = offset;
  const out = Buffer.alloc(shoff + 64 * (bodies.length + 1));
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(out, 0);
  out.writeUInt16LE(1, 0x10);
  out.writeUInt16LE(machine, 0x12);
  out.writeUInt32LE(1, 0x14);
  out.writeBigUInt64LE(BigInt(shoff), 0x28);
  out.writeUInt16LE(64, 0x34);
  out.writeUInt16LE(64, 0x3a);
  out.writeUInt16LE(bodies.length + 1, 0x3c);
  out.writeUInt16LE(bodies.length, 0x3e);
  bodies.forEach((b, i) => {
    b.data.copy(out, placed[i]);
    const h = shoff + 64 * (i + 1);
    out.writeUInt32LE(shstr.offsets.get(b.name)!, h);
    out.writeUInt32LE(b.type, h + 4);
    out.writeBigUInt64LE(BigInt(b.flags), h + 8);
    out.writeBigUInt64LE(BigInt(placed[i]), h + 0x18);
    out.writeBigUInt64LE(BigInt(b.data.length), h + 0x20);
    out.writeUInt32LE(b.link ?? 0, h + 0x28);
    out.writeBigUInt64LE(BigInt(b.entsize ?? 0), h + 0x38);
  });
  return out;
}
