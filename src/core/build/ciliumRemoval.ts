// Cilium 1.19 removed custom calls (cilium/cilium PR #42094): its tree has no bpf/custom/ any more. A header inside
// such a tree must not quietly build with the bundled SDK, and a --make-dir pointing at Cilium's datapath Makefile
// (bpf/, which runs `go generate` and fails with Error 127) must be refused before make runs. Both are decided by
// what the tree holds, not by its version string: 1.19.0-dev trees exist both with and without bpf/custom.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCustomProgramMakeDir } from '../../shared/customProgramScope';

/**
 * The root of the Cilium tree that `dir` is in (or is): the nearest ancestor with bpf/Makefile, bpf/include/bpf/ and
 * Makefile.defs or VERSION. Undefined outside a Cilium tree.
 */
export function ciliumTreeRoot(dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (isFile(path.join(at, 'bpf', 'Makefile')) && isDir(path.join(at, 'bpf', 'include', 'bpf')) && (isFile(path.join(at, 'Makefile.defs')) || isFile(path.join(at, 'VERSION')))) return at;
    if (path.dirname(at) === at) return undefined;
  }
}

/** The root of a Cilium tree that `dir` is in and that has no bpf/custom Makefile taking BPF_CUSTOM_PROG_FILE. */
export function ciliumTreeWithoutCustomCalls(dir: string): string | undefined {
  const root = ciliumTreeRoot(dir);
  return root !== undefined && !isCustomProgramMakeDir(path.join(root, 'bpf', 'custom')) ? root : undefined;
}

/** The one line said by build, verify, attach and compile_commands for a header in such a tree. */
export function customCallsRemovedMessage(root: string, bundledSdkDir: string): string {
  return (
    `${root} is a Cilium tree without bpf/custom: custom calls were removed in Cilium 1.19 (PR #42094); ` +
    `build against a 1.18 tree (--make-dir <1.18 tree>/bpf/custom) or the bundled SDK (--make-dir ${bundledSdkDir}); ` +
    'in the editor, set ciliumCustom.build.makeDirectory'
  );
}

/** Why a configured make directory cannot build a custom program (its Makefile does not take BPF_CUSTOM_PROG_FILE). */
export function notAMakeDirectoryMessage(dir: string, bundledSdkDir: string): string {
  const root = ciliumTreeRoot(dir);
  const custom = root !== undefined ? path.join(root, 'bpf', 'custom') : undefined;
  if (custom !== undefined && isCustomProgramMakeDir(custom)) {
    return `${dir} is not a bpf/custom-style make directory (its Makefile does not take BPF_CUSTOM_PROG_FILE); use ${custom}`;
  }
  if (root !== undefined) return customCallsRemovedMessage(root, bundledSdkDir);
  return (
    `${dir} is not a bpf/custom-style make directory: it has no Makefile that takes BPF_CUSTOM_PROG_FILE ` +
    `(as Cilium's bpf/custom up to 1.18 and the bundled SDK ${bundledSdkDir} do)`
  );
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function isDir(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
