// Makes make write the object under a temporary name next to its final one, so that the build can rename it into
// place once it is complete and checked: a verify or attach running meanwhile reads either the previous object or
// the new one, never a missing or half-written file. (The rename is atomic because both names are in one folder.)
//
// Two ways, depending on the Makefile:
//  - 'object-variable': the bundled SDK (and copies of it) take BPF_CUSTOM_PROG_OBJ, the object's path;
//  - 'wrapper': Cilium's bpf/custom/Makefile (which we cannot change) names the object after the header it is
//    given (foo.h -> foo.o, v1.12 via foo.ll). It gets a temporary header next to the real one that only does
//    `#include "/path/to/foo.h"`: the header's own includes, clang's diagnostics, __FILE__ and the BTF line info
//    all still name foo.h as before; only make's file names are temporary.
//
// Temporary names are `.<stem>.<pid>-<6 digits>.<ext>`: hidden, unique per build, and what they add to the header's
// name is digits only, which no macro can expand (Cilium's Makefile passes the name through STRINGIFY()).
//
// The build also asks clang for the list of files it reads (buildRecord.ts hashes them): make reads one more
// makefile after the real one, `override CLANG += -MD -MF <file>`, which works with Makefiles we cannot change
// (Cilium's; its recipes expand $(CLANG) when they run) and keeps whatever compiler they or the user chose. That
// file lives in a private temporary folder whose path is safe to paste into a recipe (Cilium's is a shell line).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAlive, removeDeadOwnersDirs } from '../staleDirs';
import { BuildInputError, makeVariable, type MakeInvocation } from './makeArgs';

export type StagingMode = 'object-variable' | 'wrapper';

export interface Staging {
  argv: string[];
  /** Where make writes the object; renamed to the real object once checked. */
  tempObject: string;
  /** Every file this build may leave next to the header; all are removed afterwards, whatever happened. */
  scratch: string[];
  /** Where clang writes its dependency list (when asked for one), in `scratchDir`, removed afterwards too. */
  depFile?: string;
  scratchDir?: string;
  /** Puts the real names back into make's output (clang names the temporary header in "included from" lines). */
  restoreNames(text: string): string;
}

const FILE_VARIABLE = 'BPF_CUSTOM_PROG_FILE=';
/** Files Cilium's Makefiles may make from the header's name besides the object (v1.12: clang writes foo.ll). */
const BY_PRODUCTS = ['.ll', '.i', '.s'];

/**
 * Prepares one build: reserves the temporary names (which also proves the folder is writable, with the system's
 * own error when it is not) and returns make's argv writing there. Throws the fs error or a BuildInputError.
 */
export function stageBuild(invocation: MakeInvocation, headerPath: string, mode: StagingMode, makefile?: string): Staging {
  const staged = stageObject(invocation, headerPath, mode);
  return makefile === undefined ? staged : captureDependencies(staged, makefile);
}

function stageObject(invocation: MakeInvocation, headerPath: string, mode: StagingMode): Staging {
  const dir = path.dirname(headerPath);
  const stem = path.basename(headerPath).replace(/\.h$/, '');
  const tempStem = `.${stem}.${process.pid}-${crypto.randomInt(1_000_000).toString().padStart(6, '0')}`;
  const tempObject = path.join(dir, `${tempStem}.o`);
  const rename = (pairs: Array<[string, string]>) => (text: string) => pairs.reduce((out, [from, to]) => out.split(from).join(to), text);

  if (mode === 'object-variable') {
    fs.writeFileSync(tempObject, '', { flag: 'wx', mode: 0o644 });
    return {
      argv: [...invocation.argv, makeVariable('BPF_CUSTOM_PROG_OBJ', tempObject)],
      tempObject,
      scratch: [tempObject],
      restoreNames: rename([[`${tempStem}.o`, `${stem}.o`]]),
    };
  }

  const headerName = path.basename(headerPath);
  // The header's full path, so that clang names it exactly as without the wrapper; its bare name (found next to
  // the wrapper) when the path has a character an #include cannot spell.
  const unspellable = /["\\\n]/;
  const included = !unspellable.test(headerPath) ? headerPath : !unspellable.test(headerName) ? headerName : undefined;
  if (included === undefined) {
    throw new BuildInputError(`${JSON.stringify(headerName)} cannot be built through ${invocation.cwd}'s Makefile: a header name with '"' or '\\' cannot be #included.`);
  }
  const index = invocation.argv.findIndex((arg) => arg.startsWith(FILE_VARIABLE));
  if (index < 0) throw new Error('make argv without BPF_CUSTOM_PROG_FILE');
  const wrapper = path.join(dir, `${tempStem}.h`);
  // Same form as the real argument: absolute, or the bare name when make runs in the header's folder.
  const given = invocation.argv[index].slice(FILE_VARIABLE.length);
  const argv = [...invocation.argv];
  argv[index] = makeVariable('BPF_CUSTOM_PROG_FILE', given.startsWith('/') ? wrapper : path.basename(wrapper));
  // (The comment names no file: a name holding "*/" would end it.)
  fs.writeFileSync(wrapper, wrapperText(included), { flag: 'wx', mode: 0o644 });
  return {
    argv,
    tempObject,
    scratch: [wrapper, tempObject, ...BY_PRODUCTS.map((ext) => path.join(dir, tempStem + ext))],
    restoreNames: rename([[`${tempStem}.h`, headerName], [`${tempStem}.o`, `${stem}.o`], ...BY_PRODUCTS.map((ext): [string, string] => [tempStem + ext, stem + ext])]),
  };
}

/** The build's scratch folder (in TMPDIR) could not be made: not the header folder's fault. */
export class ScratchDirError extends Error {
  constructor(
    readonly dir: string,
    readonly cause: unknown,
  ) {
    super(`cannot write the build's scratch files in ${dir}`);
  }
}

/** A recipe pastes the dependency file's path into a shell line unquoted: only such paths are used. */
const SHELL_SAFE_PATH = /^[A-Za-z0-9._+/-]+$/;
const DEPS_DIR_PREFIX = '.cilium-custom-deps-';

function depsBase(): string {
  const tmp = os.tmpdir();
  return SHELL_SAFE_PATH.test(tmp) ? tmp : '/tmp';
}

/** `make ... -f <Makefile> -f <deps.mk>`: the real makefile first, so its default goal and MAKEFILE_LIST stay. */
function captureDependencies(staging: Staging, makefile: string): Staging {
  let scratchDir: string | undefined;
  try {
    scratchDir = fs.mkdtempSync(path.join(depsBase(), `${DEPS_DIR_PREFIX}${process.pid}-`));
    fs.writeFileSync(path.join(scratchDir, 'deps.mk'), `# cilium-custom: the files clang reads, for the build record\noverride CLANG += -MD -MF ${path.join(scratchDir, 'deps.d')}\n`, { mode: 0o600 });
  } catch (error) {
    if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
    throw new ScratchDirError(depsBase(), error);
  }
  const depFile = path.join(scratchDir, 'deps.d');
  const depsMakefile = path.join(scratchDir, 'deps.mk');
  const at = staging.argv.indexOf('-C');
  const argv = [...staging.argv];
  argv.splice(at < 0 ? 1 : at + 2, 0, '-f', makefile, '-f', depsMakefile);
  // Make echoes some recipes (Cilium v1.12): the log shows the command as the user would type it.
  const restoreNames = (text: string) => staging.restoreNames(text).split(` -MD -MF ${depFile}`).join('');
  return { ...staging, argv, depFile, scratchDir, restoreNames };
}

export function removeScratch(staging: Staging): void {
  for (const file of staging.scratch) removeFile(file);
  if (staging.scratchDir) fs.rmSync(staging.scratchDir, { recursive: true, force: true });
}

/** Removes what builds of this header left when their process was killed (a dead pid in the name). */
export function removeStaleScratch(headerPath: string): void {
  const dir = path.dirname(headerPath);
  const stem = path.basename(headerPath).replace(/\.h$/, '');
  // (.json: a build record being written, buildRecord.ts.)
  const ours = new RegExp(`^\\.${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)-\\d{6}\\.(?:h|o|ll|i|s|json)$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = ours.exec(name);
    if (match && !isAlive(Number(match[1]))) removeFile(path.join(dir, name));
  }
  removeStaleDepsDirs();
}

/** The dependency folders of builds whose process was killed. */
function removeStaleDepsDirs(): void {
  removeDeadOwnersDirs(depsBase(), DEPS_DIR_PREFIX);
}

function removeFile(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // A directory of that name, or a read-only folder: not ours to force.
  }
}

/**
 * The temporary header: it opens the landing section before the real header, so that the landing program is the
 * object's first program whatever the header defines (bpftool prog load pins the first one, and tail-called stages
 * defined in the header would otherwise come first). Cilium's bpf_custom.c defines STRINGIFY and
 * BPF_CUSTOM_PROG_NAME before it includes the header; the SDK's prelude does the same for its own builds.
 */
function wrapperText(included: string): string {
  return (
    '/* Temporary: cilium-custom builds the header below through this name. */\n' +
    '#if defined(STRINGIFY) && defined(BPF_CUSTOM_PROG_NAME)\n' +
    'asm(".pushsection \\"" STRINGIFY(BPF_CUSTOM_PROG_NAME) "\\", \\"ax\\", @progbits\\n.popsection");\n' +
    '#endif\n' +
    `#include "${included}"\n`
  );
}
