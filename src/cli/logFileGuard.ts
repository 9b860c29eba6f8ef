// `verify X.h --log X.h` once overwrote the header with the verifier log. The log file is opened for writing only
// after the build, so what it must never be is checked first: the input, its object, what the build reads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { objectPathFor } from '../core/build/makeArgs';
import { findMakeDirectory } from '../core/build/makeDirectory';
import { UsageError } from './args';

/** Sources, objects and Makefiles: never a sensible name for a log, and the build's inputs are among them. */
const SOURCE_LIKE = /(\.(h|c|o)|^(GNUmakefile|makefile))$/i;
const MAKEFILES = ['GNUmakefile', 'makefile', 'Makefile'];

/** The real path of `file`, or of its directory when the file does not exist yet (the log may be new). */
function realPath(file: string): string {
  const absolute = path.resolve(file);
  try {
    return fs.realpathSync(absolute);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(absolute)), path.basename(absolute));
    } catch {
      return absolute;
    }
  }
}

function sameFile(a: string, b: string): boolean {
  if (realPath(a) === realPath(b)) return true;
  try {
    // A hard link to the header has another path but the same inode.
    const [sa, sb] = [fs.statSync(a), fs.statSync(b)];
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Throws a UsageError (exit 2) when writing the verifier log to `logFile` could destroy an input of the verify. */
export function checkLogFile(logFile: string, input: string, makeDirSetting: string | undefined, sdkDir: string): void {
  const isHeader = input.endsWith('.h');
  const inputs: [string, string][] = [[input, isHeader ? 'the header' : 'the object']];
  if (isHeader) {
    inputs.push([objectPathFor(input), 'the object']);
    let makeDir: string;
    try {
      makeDir = findMakeDirectory(input, makeDirSetting, sdkDir).dir;
    } catch {
      makeDir = sdkDir;
    }
    // The header's folder: its bpf_custom.c decides whether the object is stale (verifyHeader.ts).
    for (const dir of new Set([makeDir, path.dirname(path.resolve(input))])) inputs.push([path.join(dir, 'bpf_custom.c'), 'the landing program']);
    for (const name of MAKEFILES) inputs.push([path.join(makeDir, name), 'a Makefile of the build']);
  }
  const shown = JSON.stringify(logFile);
  for (const [file, what] of inputs) {
    if (sameFile(logFile, file)) throw new UsageError(`--log ${shown} would overwrite ${what} (${file}); give another file`);
  }
  if (SOURCE_LIKE.test(path.basename(logFile)) || SOURCE_LIKE.test(path.basename(realPath(logFile)))) {
    throw new UsageError(`--log ${shown} is named like a source, object or Makefile (.h, .c, .o, Makefile); give another file`);
  }
}
