// Refuses, before anything is loaded, an object that custom calls cannot use: a file that is not a BPF object, or
// one holding programs of another type (XDP, kprobe, cgroup, ...). bpftool is told `type classifier`, which makes it
// load every program as sched_cls whatever its section says, so without this check an XDP program would pass the
// verifier as a tc program (with its xdp_md reads checked against __sk_buff) and then be attached.
import * as path from 'node:path';
import { codeSections, EM_BPF, ElfFormatError, readElfObject, STT_FUNC, type ElfObject } from '../build/elfSections';
import { isTcKind, sectionKind } from './sectionKinds';
import { VerifyProblem } from './verifyErrors';

/** The landing program's function in both the SDK's bpf_custom.c and Cilium's. */
const LANDING_FUNCTION = 'custom_hook';

const MACHINES: Record<number, string> = {
  3: 'x86 (32-bit)',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC 64',
  22: 's390',
  40: 'ARM',
  62: 'x86-64',
  183: 'AArch64',
  243: 'RISC-V',
  258: 'LoongArch',
};

const BUILD_IT = 'Build it from a custom-program header (cilium-custom build my_prog.h), or with clang --target=bpf -O2 -g -c.';

export interface ObjectPrograms {
  object: ElfObject;
  /** Sections holding programs, with the functions defined in each. */
  programs: Array<{ section: string; functions: string[] }>;
}

/** Reads the object and throws a VerifyProblem unless every program in it can sit in a custom-call slot. */
export async function checkObjectKind(objectPath: string, landingSection?: string): Promise<ObjectPrograms> {
  const object = await readBpfObject(objectPath);
  const programs = codeSections(object.sections)
    // .text holds subprograms (static functions not inlined): libbpf never loads it as a program of its own.
    .filter((s) => s.name !== '.text')
    .map((s) => ({ section: s.name, functions: object.symbols.filter((sym) => sym.section === s.index && sym.type === STT_FUNC).map((sym) => sym.name) }));
  const name = path.basename(objectPath);
  if (programs.length === 0) {
    throw new VerifyProblem('not-bpf-object', `${name} holds no BPF program (no code section besides .text).`, BUILD_IT);
  }
  const wrong = programs
    .filter((p) => p.section !== landingSection && !p.functions.includes(LANDING_FUNCTION))
    .map((p) => ({ ...p, kind: sectionKind(p.section) }))
    .filter((p) => !isTcKind(p.kind));
  if (wrong.length > 0) {
    const [first] = wrong;
    const others = wrong.length > 1 ? ` (and ${wrong.length - 1} more: ${wrong.slice(1).map((p) => `section ${p.section}`).join(', ')})` : '';
    const fn = first.functions.length ? `, function ${first.functions.join(', ')}` : '';
    throw new VerifyProblem(
      'wrong-program-type',
      `${name} holds ${first.kind!.title} (section ${first.section}${fn})${others}; custom calls take tc programs (sched_cls), ` +
        `which Cilium's tc datapath tail-calls. It was not loaded: bpftool's "type classifier" would have verified it as a tc program.`,
      'Write the program as a custom-program header (custom_prog() called by the landing program), or put tc code in a section named tc, classifier or after the header.',
    );
  }
  return { object, programs };
}

/** The object as ELF, or a VerifyProblem saying what it is instead. */
export async function readBpfObject(objectPath: string): Promise<ElfObject> {
  const name = path.basename(objectPath);
  let object: ElfObject;
  try {
    object = await readElfObject(objectPath);
  } catch (error) {
    if (error instanceof ElfFormatError) {
      const what = error.reason === 'not-elf' ? 'is not an ELF object file' : error.reason === 'not-64-bit' ? 'is a 32-bit ELF file, not a BPF object' : 'is a truncated or corrupt ELF file';
      throw new VerifyProblem('not-bpf-object', `${name} ${what}: bpftool cannot load it.`, BUILD_IT);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VerifyProblem('object-missing', `Object file not found: ${objectPath}.`, 'Build the header first (Cilium Custom: Build Custom Program).');
    if (code === 'EISDIR') throw new VerifyProblem('not-bpf-object', `${objectPath} is a directory, not an object file.`, '');
    throw new VerifyProblem('not-bpf-object', `Could not read ${objectPath}: ${(error as Error).message}.`, '');
  }
  if (object.machine !== EM_BPF) {
    const machine = MACHINES[object.machine] ?? `machine ${object.machine}`;
    throw new VerifyProblem('not-bpf-object', `${name} is an ELF object for ${machine}, not BPF: bpftool cannot load it.`, BUILD_IT);
  }
  return object;
}
