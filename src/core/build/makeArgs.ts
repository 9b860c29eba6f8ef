// The make command line for one header. Pure: every decision about variables and quoting lives here and is
// unit-tested. Values are make command-line variables, so `$` is doubled: make would otherwise expand `$(...)`
// in a file name as a make function (a way to run commands through a crafted header name).
import * as path from 'node:path';
import type { MakeDirectory } from './makeDirectory';

export interface MakeArgsRequest {
  make: string;
  makeDir: MakeDirectory;
  headerPath: string;
  /** ELF section name of the landing program; defaults to the header's base name without `.h`. */
  progName?: string;
  /** Whether `go` is on PATH; inside a Cilium tree GO=true replaces it when it is not. */
  goAvailable: boolean;
  extraVariables?: Record<string, string>;
}

export interface MakeInvocation {
  argv: string[];
  cwd: string;
  objectPath: string;
  progName: string;
}

export class BuildInputError extends Error {}

/** Cilium's own Makefile puts the file name into a shell recipe unquoted; only plain names are safe there. */
const CILIUM_SAFE_NAME = /^[A-Za-z0-9._+/-]+$/;
const MAKE_VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The header's base name, made into a valid section name (an odd file name must not make an odd ELF section). */
export function defaultProgName(headerPath: string): string {
  return path.basename(headerPath).replace(/\.h$/, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'custom';
}

export function objectPathFor(headerPath: string): string {
  return path.resolve(headerPath).replace(/(\.h)?$/, '.o');
}

export function makeVariable(name: string, value: string): string {
  if (!MAKE_VARIABLE_NAME.test(name)) throw new BuildInputError(`invalid make variable name: ${JSON.stringify(name)}`);
  if (/[\n\r\0]/.test(value)) throw new BuildInputError(`make variable ${name} cannot contain a newline or NUL`);
  return `${name}=${value.replace(/\$/g, '$$$$')}`;
}

export function buildMakeArgs(request: MakeArgsRequest): MakeInvocation {
  const header = path.resolve(request.headerPath);
  if (!header.endsWith('.h')) throw new BuildInputError(`not a header file (expected .h): ${header}`);
  const { dir, ciliumTree } = request.makeDir;
  const progName = request.progName ?? defaultProgName(header);
  if (!/^[A-Za-z0-9_.-]+$/.test(progName)) {
    throw new BuildInputError(`section name ${JSON.stringify(progName)} must use only letters, digits, '_', '.' and '-'`);
  }
  // The full path makes clang name the header absolutely in its diagnostics, wherever make runs it. Cilium's
  // Makefile cannot take a path with spaces; a header inside its directory can still go by its own name.
  const inMakeDir = path.dirname(header) === path.resolve(dir);
  const fileArg = ciliumTree && !CILIUM_SAFE_NAME.test(header) && inMakeDir ? path.basename(header) : header;
  if (ciliumTree && !CILIUM_SAFE_NAME.test(fileArg)) {
    throw new BuildInputError(
      `Cilium's bpf/custom Makefile passes the header name to the shell unquoted, so ${JSON.stringify(fileArg)} ` +
        `cannot be built there safely. Rename it using only letters, digits, '.', '_', '+', '-' and '/'.`,
    );
  }
  const argv = [
    request.make,
    // Make does not notice a changed BPF_CUSTOM_PROG_NAME; always rebuild the one object.
    '-B',
    '-C',
    dir,
    makeVariable('BPF_CUSTOM_PROG_FILE', fileArg),
    // Always explicit: the Makefile's default would put directories into the section name.
    makeVariable('BPF_CUSTOM_PROG_NAME', progName),
  ];
  if (ciliumTree && !request.goAvailable) argv.push(makeVariable('GO', 'true'));
  for (const [name, value] of Object.entries(request.extraVariables ?? {})) argv.push(makeVariable(name, value));
  return { argv, cwd: dir, objectPath: objectPathFor(header), progName };
}
