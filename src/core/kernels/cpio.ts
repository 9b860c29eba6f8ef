// A `newc` cpio archive, the format the kernel unpacks as its initramfs, written directly: directories, regular
// files, symlinks and device nodes, with no cpio tool and no root privileges (a device node is only bytes here).
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function record(ino: number, mode: number, data: Buffer, name: string, rdev: [number, number] = [0, 0]): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const header = Buffer.from(
    '070701' +
      [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0].map(hex8).join(''),
    'latin1',
  );
  return [header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)];
}

/** The archive's bytes. Paths are relative to the root ("bin/sh", no leading slash); parents must come first. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const entry of entries) {
    const name = entry.path.replace(/^\/+/, '');
    if (!name || name.split('/').includes('..')) throw new Error(`bad initramfs path ${JSON.stringify(entry.path)}`);
    switch (entry.kind) {
      case 'dir':
        parts.push(...record(ino++, S_IFDIR | (entry.mode ?? 0o755), Buffer.alloc(0), name));
        break;
      case 'file':
        parts.push(...record(ino++, S_IFREG | (entry.mode ?? 0o644), entry.data, name));
        break;
      case 'symlink':
        parts.push(...record(ino++, S_IFLNK | 0o777, Buffer.from(entry.target, 'utf8'), name));
        break;
      case 'chardev':
        parts.push(...record(ino++, S_IFCHR | (entry.mode ?? 0o600), Buffer.alloc(0), name, [entry.major, entry.minor]));
        break;
    }
  }
  parts.push(...record(0, 0, Buffer.alloc(0), 'TRAILER!!!'));
  return Buffer.concat(parts);
}

/** Reads back the names and kinds of an archive (tests). */
export function listCpio(archive: Buffer): Array<{ path: string; mode: number; size: number; data: Buffer }> {
  const out: Array<{ path: string; mode: number; size: number; data: Buffer }> = [];
  let offset = 0;
  while (offset + 110 <= archive.length) {
    const magic = archive.toString('latin1', offset, offset + 6);
    if (magic !== '070701') throw new Error(`bad cpio magic at ${offset}`);
    const field = (i: number) => parseInt(archive.toString('latin1', offset + 6 + i * 8, offset + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameStart = offset + 110;
    const name = archive.toString('utf8', nameStart, nameStart + nameSize - 1);
    let dataStart = nameStart + nameSize;
    dataStart += (4 - (dataStart % 4)) % 4;
    if (name === 'TRAILER!!!') break;
    out.push({ path: name, mode, size, data: archive.subarray(dataStart, dataStart + size) });
    offset = dataStart + size;
    offset += (4 - (offset % 4)) % 4;
  }
  return out;
}
