// Writes compile_commands.json next to the headers of a custom-program folder, one entry per `*.h` in it.
//
// An existing compile_commands.json that we did not write (some entry lacks our marker) is merged, not replaced:
// its entries for other files are kept as they are, its entries for our headers are replaced by ours (they are the
// ones clangd needs for a custom program). A file that is not a JSON array is never touched: that is an error.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { customCallsRemovedMessage } from '../build/ciliumRemoval';
import { findMakeDirectory, MakeDirectory } from '../build/makeDirectory';
import { CompileCommandEntry, compileCommandForHeader, compileFlags, CompileFlagsOptions, isOurEntry } from './entries';

export const COMPILE_COMMANDS_FILE = 'compile_commands.json';

export interface GenerateRequest {
  /** The custom-program folder: where the headers are and where the file is written. */
  folder: string;
  bundledSdkDir: string;
  /** The ciliumCustom.build.makeDirectory setting. */
  makeDirSetting?: string;
  clang?: string;
  /** Overrides for tests; by default the multiarch triplet comes from `clang -print-multiarch`. */
  flagOptions?: CompileFlagsOptions;
}

export interface GenerateResult {
  file: string;
  entries: CompileCommandEntry[];
  /** Entries of someone else's file kept as they were (0 when the file was ours or new). */
  keptForeign: number;
  /** Foreign entries for our headers that ours replaced. */
  replacedForeign: number;
  makeDirs: MakeDirectory[];
}

export class CompileCommandsError extends Error {}

/** The top-level `*.h` files of a folder, sorted; subfolders (helpers such as common/) are not programs. */
export function listHeaders(folder: string): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.h'))
    .map((e) => path.join(path.resolve(folder), e.name))
    .sort();
}

export function buildEntries(request: GenerateRequest): { entries: CompileCommandEntry[]; makeDirs: MakeDirectory[] } {
  const folder = path.resolve(request.folder);
  const headers = listHeaders(folder);
  if (headers.length === 0) throw new CompileCommandsError(`no .h files in ${folder}`);
  const clang = request.clang ?? 'clang';
  const options: CompileFlagsOptions = { multiarch: request.flagOptions?.multiarch ?? multiarchOf(clang), nrCpus: os.cpus().length, ...request.flagOptions };
  const makeDirs = new Map<string, MakeDirectory>();
  const entries = headers.map((header) => {
    const makeDir = findMakeDirectory(header, request.makeDirSetting, request.bundledSdkDir);
    // The SDK's flags would describe a build that cannot happen there: say why, as build does.
    if (makeDir.ciliumWithoutCustomCalls !== undefined) throw new CompileCommandsError(customCallsRemovedMessage(makeDir.ciliumWithoutCustomCalls, request.bundledSdkDir));
    makeDirs.set(makeDir.dir, makeDir);
    return compileCommandForHeader(header, compileFlags(makeDir, options), clang);
  });
  return { entries, makeDirs: [...makeDirs.values()] };
}

/** Reads an existing database; undefined when there is none. */
export function readExisting(file: string): unknown[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CompileCommandsError(`${file} exists but is not valid JSON (${(error as Error).message}); not overwriting it`);
  }
  if (!Array.isArray(parsed)) throw new CompileCommandsError(`${file} exists but is not a JSON array; not overwriting it`);
  return parsed;
}

/** Our entries plus the foreign entries worth keeping (see the file comment). */
export function mergeEntries(existing: unknown[] | undefined, ours: CompileCommandEntry[]): { merged: unknown[]; kept: number; replaced: number } {
  const ourFiles = new Set(ours.map((e) => e.file));
  let kept = 0;
  let replaced = 0;
  const foreign: unknown[] = [];
  for (const entry of existing ?? []) {
    if (isOurEntry(entry)) continue;
    const file = entryFile(entry);
    if (file !== undefined && ourFiles.has(file)) {
      replaced += 1;
      continue;
    }
    kept += 1;
    foreign.push(entry);
  }
  return { merged: [...ours, ...foreign], kept, replaced };
}

export function generateCompileCommands(request: GenerateRequest): GenerateResult {
  const folder = path.resolve(request.folder);
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new CompileCommandsError(`not a folder: ${folder}`);
  const { entries, makeDirs } = buildEntries(request);
  const file = path.join(folder, COMPILE_COMMANDS_FILE);
  const { merged, kept, replaced } = mergeEntries(readExisting(file), entries);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(merged, null, 2)}\n`);
  fs.renameSync(tmp, file);
  return { file, entries, keptForeign: kept, replacedForeign: replaced, makeDirs };
}

function entryFile(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { file, directory } = entry as { file?: unknown; directory?: unknown };
  if (typeof file !== 'string') return undefined;
  return path.resolve(typeof directory === 'string' ? directory : '/', file);
}

/** What the SDK Makefile uses for MULTIARCH; falls back like it does. */
export function multiarchOf(clang: string): string {
  try {
    const out = execFileSync(clang, ['-print-multiarch'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
    if (out) return out;
  } catch {
    // No clang: fall through.
  }
  const machine = os.machine?.() ?? process.arch;
  return `${machine}-linux-gnu`;
}
