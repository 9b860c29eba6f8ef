// Which `bpf/custom`-style Makefile builds a header: a configured directory, else the header's own folder when it
// holds such a Makefile (a Cilium checkout's bpf/custom, or a copy of the SDK), else the SDK bundled with us.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type MakeDirectorySource = 'setting' | 'header-folder' | 'bundled-sdk';

export interface MakeDirectory {
  dir: string;
  source: MakeDirectorySource;
  /** The Makefile belongs to a Cilium checkout (it includes ../../Makefile.defs, which calls `go`). */
  ciliumTree: boolean;
}

const MAKEFILE_NAMES = ['GNUmakefile', 'makefile', 'Makefile'];

/** A Makefile that honours BPF_CUSTOM_PROG_FILE, i.e. Cilium's bpf/custom contract. */
export function isCustomProgramMakeDir(dir: string): boolean {
  for (const name of MAKEFILE_NAMES) {
    const text = readSmallFile(path.join(dir, name));
    if (text !== undefined) return text.includes('BPF_CUSTOM_PROG_FILE');
  }
  return false;
}

export function isCiliumTree(makeDir: string): boolean {
  return (
    path.basename(makeDir) === 'custom' &&
    path.basename(path.dirname(makeDir)) === 'bpf' &&
    fs.existsSync(path.join(makeDir, '..', '..', 'Makefile.defs'))
  );
}

export function findMakeDirectory(headerPath: string, configuredDir: string | undefined, bundledSdkDir: string): MakeDirectory {
  if (configuredDir && configuredDir.trim() !== '') {
    const dir = path.resolve(path.dirname(headerPath), configuredDir);
    return { dir, source: 'setting', ciliumTree: isCiliumTree(dir) };
  }
  const own = path.dirname(path.resolve(headerPath));
  if (isCustomProgramMakeDir(own)) return { dir: own, source: 'header-folder', ciliumTree: isCiliumTree(own) };
  return { dir: bundledSdkDir, source: 'bundled-sdk', ciliumTree: false };
}

function readSmallFile(file: string): string | undefined {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > 1024 * 1024) return undefined;
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
