// Whether an object is current: built from the same header, through the same make directory with the same make
// command and variables, from the same content of every file the compiler read. A small record next to the object
// (`.foo.o.cilium-custom.json`) says all of that for the object it describes; verify (and attach) rebuild whenever
// it does not match, so they never load an object that the header in front of the user would no longer produce.
//
// Timestamps are not used: an edited included header, a switched make directory or changed variables leave make's
// timestamps as they were, and mtimes can be set back (cp -p, tar, git). Contents are hashed (sha256); the files
// are those clang lists with -MD (dependency file, see staging.ts), system headers included, plus the header and
// the Makefiles that set the compiler flags. What the list cannot show is a file that did not exist when the
// object was built and would now be found first on the include path; nor is the compiler binary itself hashed.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAKEFILE_NAMES } from '../../shared/customProgramScope';
import type { MakeInvocation } from './makeArgs';
import type { MakeDirectory } from './makeDirectory';

const VERSION = 1;

/** What an object is built from besides file contents. */
export interface BuildIdentity {
  /** The header's real path. */
  header: string;
  /** The make directory's real path. */
  makeDir: string;
  /** make's argv as planned (make command, -C dir, every variable), before the temporary names of staging. */
  argv: string[];
}

interface BuildRecord extends BuildIdentity {
  version: number;
  /** sha256 of the object this record describes (an object rebuilt by hand has no matching record). */
  object: string;
  /** [absolute path, sha256] of every input. */
  inputs: [string, string][];
}

export type Freshness = { current: true } | { current: false; reason: string };

export function recordPathFor(objectPath: string): string {
  return path.join(path.dirname(objectPath), `.${path.basename(objectPath)}.cilium-custom.json`);
}

export function identityOf(invocation: MakeInvocation, makeDir: MakeDirectory, headerPath: string): BuildIdentity {
  return { header: realPath(headerPath), makeDir: realPath(makeDir.dir), argv: invocation.argv };
}

/** The Makefile make uses in `dir` (make's own order), or undefined. */
export function makefileIn(dir: string): string | undefined {
  return MAKEFILE_NAMES.find((name) => isFile(path.join(dir, name)));
}

/** The Makefiles whose contents set the flags: the make directory's, and in a Cilium tree Makefile.bpf and Makefile.defs. */
export function makefilesOf(makeDir: MakeDirectory): string[] {
  const own = makefileIn(makeDir.dir);
  const files = own ? [path.join(makeDir.dir, own)] : [];
  if (makeDir.ciliumTree) files.push(path.join(makeDir.dir, '..', 'Makefile.bpf'), path.join(makeDir.dir, '..', '..', 'Makefile.defs'));
  return files.map((f) => path.resolve(f)).filter(isFile);
}

/**
 * Writes the record of an object just put in place, or removes the old one and says why none could be written (an
 * input gone, or changed after the build started: the object may not reflect what is there now). Never throws.
 */
export function writeBuildRecord(objectPath: string, identity: BuildIdentity, inputs: readonly string[], startedMs: number): string | undefined {
  const record = recordPathFor(objectPath);
  removeBuildRecord(objectPath);
  const hashed: [string, string][] = [];
  for (const file of new Set(inputs)) {
    try {
      // ctime cannot be set back by tools; a later one means the file was written during the build.
      if (fs.statSync(file).ctimeMs > startedMs) return `${file} changed during the build`;
      hashed.push([file, hashFile(file)]);
    } catch {
      return `${file}, read by the compiler, is gone`;
    }
  }
  let object: string;
  try {
    object = hashFile(objectPath);
  } catch (error) {
    return `cannot read the object: ${(error as Error).message}`;
  }
  const content: BuildRecord = { version: VERSION, ...identity, object, inputs: hashed };
  const temp = path.join(path.dirname(record), `.${path.basename(objectPath, '.o')}.${process.pid}-${crypto.randomInt(1_000_000).toString().padStart(6, '0')}.json`);
  try {
    fs.writeFileSync(temp, `${JSON.stringify(content)}\n`, { flag: 'wx', mode: 0o644 });
    fs.renameSync(temp, record);
    return undefined;
  } catch (error) {
    fs.rmSync(temp, { force: true });
    return `cannot write ${record}: ${(error as Error).message}`;
  }
}

export function removeBuildRecord(objectPath: string): void {
  try {
    fs.rmSync(recordPathFor(objectPath), { force: true });
  } catch {
    // A directory of that name, or a read-only folder: the record then cannot match anyway (object hash).
  }
}

/** Whether the object at `objectPath` is what a build with `identity` would make from the files as they are now. */
export function checkBuildRecord(objectPath: string, identity: BuildIdentity): Freshness {
  const stale = (reason: string): Freshness => ({ current: false, reason });
  if (!isFile(objectPath)) return stale('there is no object yet');
  let record: unknown;
  try {
    record = JSON.parse(fs.readFileSync(recordPathFor(objectPath), 'utf8')) as unknown;
  } catch {
    return stale('the object has no build record (built by hand, by another tool or by an older version)');
  }
  if (!isRecord(record)) return stale('its build record is from another version');
  if (record.header !== identity.header) return stale(`it was built from ${record.header}`);
  if (record.makeDir !== identity.makeDir) return stale(`it was built through ${record.makeDir}, not ${identity.makeDir}`);
  if (JSON.stringify(record.argv) !== JSON.stringify(identity.argv)) return stale(`it was built with other make settings (${describeArgvChange(record.argv, identity.argv)})`);
  try {
    if (hashFile(objectPath) !== record.object) return stale('the object was replaced since its build');
  } catch {
    return stale('the object cannot be read');
  }
  for (const [file, hash] of record.inputs) {
    let now: string;
    try {
      now = hashFile(file);
    } catch (error) {
      return stale((error as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} is gone` : `${file} cannot be read as a source file`);
    }
    if (now !== hash) return stale(`${file} changed since the build`);
  }
  return { current: true };
}

/** The shape this version writes (a record is a file anyone with write access to the folder may have edited). */
function isRecord(value: unknown): value is BuildRecord {
  const r = value as Partial<BuildRecord> | null;
  const strings = (list: unknown) => Array.isArray(list) && list.every((x) => typeof x === 'string');
  return (
    typeof r === 'object' && r !== null && r.version === VERSION &&
    typeof r.header === 'string' && typeof r.makeDir === 'string' && typeof r.object === 'string' && strings(r.argv) &&
    Array.isArray(r.inputs) && r.inputs.every((entry) => strings(entry) && entry.length === 2)
  );
}

/** The first argument that differs, for the log: "EXTRA_CFLAGS=-DX, now EXTRA_CFLAGS=-DY". */
function describeArgvChange(before: readonly string[], after: readonly string[]): string {
  const gone = before.filter((a) => !after.includes(a));
  const added = after.filter((a) => !before.includes(a));
  const parts = [...gone.map((a) => `was ${a}`), ...added.map((a) => `now ${a}`)];
  return parts.length ? parts.slice(0, 4).join(', ') : 'argument order';
}

/** Sources and objects are small; a record naming anything larger is not ours to trust. */
const MAX_HASHED_BYTES = 64 << 20;

/**
 * sha256 of a regular file. A record comes from a folder others may write to, so a FIFO or device named in it must
 * neither block (O_NONBLOCK) nor be read: it throws, which makes the object stale.
 */
function hashFile(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_HASHED_BYTES) throw new Error(`${file} is not a regular source file`);
    return crypto.createHash('sha256').update(fs.readFileSync(fd)).digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
