// What a kernel image is, read from its own boot header: an x86 bzImage carries "HdrS" at 0x202 (the setup header's
// magic) and, from boot protocol 2.00 on, a pointer at 0x20e to its version string (e.g. "6.1.0-50-cloud-amd64
// (debian-kernel@lists.debian.org) #1 SMP ... 6.1.176-1 ..."). Nothing else is trusted about a file users add.
import * as fs from 'node:fs';

const HDRS_OFFSET = 0x202;
const VERSION_POINTER_OFFSET = 0x20e;
/** Smaller than this cannot be a kernel that boots (a real one is several MB). */
export const MIN_BZIMAGE_BYTES = 512 * 1024;

export interface BzImageFacts {
  /** The release string as `uname -r` shows it, e.g. "6.1.0-50-cloud-amd64", when the header names one. */
  release?: string;
  /** The whole version string of the header. */
  versionString?: string;
  size: number;
}

/** Reads a file's boot header; throws an Error that says why the file is not a bzImage. */
export function readBzImage(file: string): BzImageFacts {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
    const head = Buffer.alloc(0x400);
    const got = fs.readSync(fd, head, 0, head.length, 0);
    if (got < HDRS_OFFSET + 4 || head.toString('latin1', HDRS_OFFSET, HDRS_OFFSET + 4) !== 'HdrS') {
      throw new Error(`${file} is not a Linux kernel image (bzImage): no "HdrS" boot header magic at offset 0x202`);
    }
    if (size < MIN_BZIMAGE_BYTES) {
      throw new Error(`${file} has a bzImage header but only ${size} bytes: it is truncated (a kernel image is several MB)`);
    }
    // setup_sects (0x1f1, 0 meaning 4) and syssize (0x1f4, in 16-byte units) give the image's own length: a copy
    // cut short (an interrupted download) is refused here rather than failing to boot later. Signed images are
    // longer (the signature is appended), never shorter.
    const setupSectors = head[0x1f1] || 4;
    const expected = (setupSectors + 1) * 512 + head.readUInt32LE(0x1f4) * 16;
    if (expected > 256 * 1024 * 1024) {
      throw new Error(`${file} is not a usable kernel image: its bzImage header gives an implausible size (${expected} bytes)`);
    }
    if (size < expected) {
      throw new Error(`${file} is truncated: its bzImage header says ${expected} bytes, the file has ${size}`);
    }
    const pointer = head.readUInt16LE(VERSION_POINTER_OFFSET);
    let versionString: string | undefined;
    if (pointer > 0 && pointer + 0x200 < size) {
      const text = Buffer.alloc(256);
      const n = fs.readSync(fd, text, 0, text.length, pointer + 0x200);
      const end = text.indexOf(0);
      const raw = text.toString('latin1', 0, end >= 0 && end < n ? end : n);
      if (/^[\x20-\x7e]+$/.test(raw)) versionString = raw;
    }
    const release = versionString?.split(' ')[0];
    return { size, ...(release ? { release } : {}), ...(versionString ? { versionString } : {}) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The upstream version a kernel reports, e.g. "6.1.176", from the header's version string: Debian puts the package
 * version after the build date ("... 6.1.176-1 (2025-...)"); otherwise the release's leading x.y.z.
 */
export function kernelVersionOf(facts: BzImageFacts): string | undefined {
  const debian = facts.versionString ? /\bDebian ([0-9]+\.[0-9]+\.[0-9]+)/.exec(facts.versionString) : null;
  if (debian) return debian[1];
  const release = facts.release ? /^([0-9]+\.[0-9]+(?:\.[0-9]+)?)/.exec(facts.release) : null;
  return release?.[1];
}
