// compile_commands.json entries for custom-program headers, so that clangd understands a header the way the
// Makefile builds it. Pure apart from reading the landing program of the make directory.
//
// The Makefile compiles the landing program bpf_custom.c with the header force-included. clangd, asked about a
// header, uses the entry whose "file" is that header but parses the header itself as the main file (it swaps the
// input for the file it opens), so an entry that compiles bpf_custom.c would be applied to the header anyway, and
// its `-include <header>` would include the header a second time. Each entry therefore compiles the header directly
// (`-x c`, syntax only) with exactly the Makefile's flags and, force-included, the headers the landing program
// includes before the custom program (the SDK's sdk/prelude.h; a Cilium tree's bpf/ctx/skb.h, bpf/api.h, ...).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultProgName } from '../build/makeArgs';
import type { MakeDirectory } from '../build/makeDirectory';

/** One entry of a JSON compilation database; `arguments` (not `command`) so no shell quoting is ever involved. */
export interface CompileCommandEntry {
  directory: string;
  file: string;
  arguments: string[];
}

/** Present in every entry we write: tells our entries from someone else's when the file is regenerated. */
export const OUR_MARKER = '-DCILIUM_CUSTOM_COMPILE_COMMANDS=1';

export interface CompileFlagsOptions {
  /** The compiler for argv[0]; clangd only uses it to find its built-in headers. Default `clang`. */
  clang?: string;
  /** Debian multiarch triplet for <asm/*.h> (the SDK Makefile's MULTIARCH), e.g. x86_64-linux-gnu. */
  multiarch?: string;
  /** Whether /usr/include/<multiarch> exists; the Makefile only adds it when it does. */
  asmDirExists?: (dir: string) => boolean;
  /** __NR_CPUS__ for a Cilium tree (its Makefile passes the machine's CPU count). */
  nrCpus?: number;
  /** A Cilium tree's bpf/Makefile.bpf; read from the tree when not given. */
  makefileBpfSource?: string;
  /** The landing program's text; read from <makeDir>/bpf_custom.c when not given. */
  landingSource?: string;
}

/** Everything but the header: the same for every header built by one make directory. */
export interface CompileFlags {
  directory: string;
  /** Compiler flags, as the Makefile passes them. */
  flags: string[];
  /** Headers force-included before the custom program (what the landing program includes first). */
  forceIncludes: string[];
  layout: 'bundled-sdk' | 'cilium-tree';
}

/**
 * The `#include`s the landing program makes before it includes the custom program, in order: these are what a
 * header may use without including anything. Conditional includes are kept too (the SDK's and Cilium's landing
 * programs only guard the custom-program include itself, which is where the scan stops).
 */
export function landingIncludes(source: string): string[] {
  const includes: string[] = [];
  for (const line of source.split('\n')) {
    if (/BPF_CUSTOM_PROG_FILE/.test(line) && /#\s*include/.test(line)) break;
    const match = /^\s*#\s*include\s+[<"]([^>"]+)[>"]/.exec(line);
    if (match) includes.push(match[1]);
  }
  return includes;
}

/** The language and warning flags of a Cilium tree's CLANG_FLAGS (they changed across versions). */
export function ciliumClangFlags(makefileBpf: string): string[] {
  const flags: string[] = [];
  for (const line of makefileBpf.split('\n')) {
    if (!/^\s*CLANG_FLAGS\s*[:+]?=/.test(line)) continue;
    for (const token of line.split(/\s+/)) {
      if (/^-(W[A-Za-z0-9_=-]+|std=[a-z0-9+]+|nostdinc)$/.test(token) && !flags.includes(token)) flags.push(token);
    }
  }
  return flags.length ? flags : ['-Wall'];
}

export function compileFlags(makeDir: MakeDirectory, options: CompileFlagsOptions = {}): CompileFlags {
  const dir = path.resolve(makeDir.dir);
  const landing = options.landingSource ?? readOrEmpty(path.join(dir, 'bpf_custom.c'));
  const forced = landingIncludes(landing);
  if (makeDir.ciliumTree) {
    // Cilium's bpf/custom/Makefile takes its flags from bpf/Makefile.bpf: bpf/include and bpf/ on the path,
    // __NR_CPUS__, and, depending on the version, -std=gnu89 -nostdinc and a list of warnings.
    const bpfDir = path.dirname(dir);
    const makefileBpf = options.makefileBpfSource ?? readOrEmpty(path.join(bpfDir, 'Makefile.bpf'));
    const flags = [
      '-x',
      'c',
      '--target=bpf',
      ...ciliumClangFlags(makefileBpf),
      '-O2',
      '-g',
      `-I${path.join(bpfDir, 'include')}`,
      `-I${bpfDir}`,
      `-D__NR_CPUS__=${options.nrCpus ?? 1}`,
      OUR_MARKER,
    ];
    return { directory: dir, flags, forceIncludes: forced.length ? forced : ['bpf/ctx/skb.h', 'bpf/api.h'], layout: 'cilium-tree' };
  }
  // The bundled SDK's Makefile (or a copy of it): -Iinclude plus Debian's multiarch asm directory.
  const flags = ['-x', 'c', '--target=bpf', '-O2', '-g', '-Wall', `-I${path.join(dir, 'include')}`];
  const asmDir = options.multiarch ? path.join('/usr/include', options.multiarch) : undefined;
  const asmExists = options.asmDirExists ?? ((d: string) => fs.existsSync(d));
  if (asmDir && asmExists(asmDir)) flags.push(`-I${asmDir}`);
  flags.push('-DBPF_CUSTOM_PROG_PREINCLUDED', OUR_MARKER);
  return { directory: dir, flags, forceIncludes: forced.length ? forced : ['sdk/prelude.h'], layout: 'bundled-sdk' };
}

/** The entry for one header: the header is the compiled file, so clangd applies it when the header is opened. */
export function compileCommandForHeader(headerPath: string, flags: CompileFlags, clang = 'clang'): CompileCommandEntry {
  const file = path.resolve(headerPath);
  const name = defaultProgName(file);
  const sectionDefines =
    flags.layout === 'cilium-tree'
      ? [`-DBPF_CUSTOM_PROG_NAME=${name}`]
      : [`-DBPF_CUSTOM_PROG_SEC="${name}"`, '-DBPF_CUSTOM_PROG_SEC_ASM_SAFE'];
  // -iquote: a relative "..." include in the header resolves against its own folder, as in a real build.
  const args = [clang, ...flags.flags, ...sectionDefines, '-iquote', path.dirname(file)];
  for (const include of flags.forceIncludes) args.push('-include', include);
  args.push('-fsyntax-only', file);
  return { directory: flags.directory, file, arguments: args };
}

export function isOurEntry(entry: unknown): boolean {
  if (typeof entry !== 'object' || entry === null) return false;
  const { arguments: args, command } = entry as { arguments?: unknown; command?: unknown };
  if (Array.isArray(args)) return args.includes(OUR_MARKER);
  return typeof command === 'string' && command.includes(OUR_MARKER);
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
