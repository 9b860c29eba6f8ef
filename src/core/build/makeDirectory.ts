// Which `bpf/custom`-style Makefile builds a header: a configured directory, else the header's own folder when it
// holds such a Makefile (a Cilium checkout's bpf/custom, or a copy of the SDK), else the SDK bundled with us.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCustomProgramMakeDir, MAKEFILE_NAMES } from '../../shared/customProgramScope';
import { ciliumTreeWithoutCustomCalls } from './ciliumRemoval';

/** A Makefile that honours BPF_CUSTOM_PROG_FILE, i.e. Cilium's bpf/custom contract (decided in shared/customProgramScope). */
export { isCustomProgramMakeDir };

export type MakeDirectorySource = 'setting' | 'header-folder' | 'bundled-sdk';

export interface MakeDirectory {
  dir: string;
  source: MakeDirectorySource;
  /** The Makefile belongs to a Cilium checkout (it includes ../../Makefile.defs, which calls `go`). */
  ciliumTree: boolean;
  /**
   * Set (with the bundled SDK) when the header sits in a Cilium tree that has no bpf/custom (1.19+, where custom
   * calls were removed): the root of that tree. Builds refuse it rather than quietly using the SDK.
   */
  ciliumWithoutCustomCalls?: string;
}

/**
 * Whether the Makefile takes BPF_CUSTOM_PROG_OBJ (where to write the object), as the bundled SDK and copies of it
 * do; Cilium's own does not, and is given a temporary header name instead (staging.ts).
 */
export function takesObjectPath(makeDir: MakeDirectory): boolean {
  if (makeDir.source === 'bundled-sdk') return true;
  if (makeDir.ciliumTree) return false;
  for (const name of MAKEFILE_NAMES) {
    const text = readMakefile(path.join(makeDir.dir, name));
    if (text !== undefined) return text.includes('BPF_CUSTOM_PROG_OBJ');
  }
  return false;
}

function readMakefile(file: string): string | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() && stat.size <= 1 << 20 ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

export function isCiliumTree(makeDir: string): boolean {
  return (
    path.basename(makeDir) === 'custom' &&
    path.basename(path.dirname(makeDir)) === 'bpf' &&
    fs.existsSync(path.join(makeDir, '..', '..', 'Makefile.defs'))
  );
}

/** The configured directory is taken from the current directory, as a shell user means `--make-dir ../x`. */
export function findMakeDirectory(headerPath: string, configuredDir: string | undefined, bundledSdkDir: string): MakeDirectory {
  if (configuredDir && configuredDir.trim() !== '') {
    const dir = path.resolve(configuredDir);
    return { dir, source: 'setting', ciliumTree: isCiliumTree(dir) };
  }
  const own = path.dirname(path.resolve(headerPath));
  if (isCustomProgramMakeDir(own)) return { dir: own, source: 'header-folder', ciliumTree: isCiliumTree(own) };
  const removed = ciliumTreeWithoutCustomCalls(own);
  return { dir: bundledSdkDir, source: 'bundled-sdk', ciliumTree: false, ...(removed !== undefined ? { ciliumWithoutCustomCalls: removed } : {}) };
}
