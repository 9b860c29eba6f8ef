// Checks what make wrote before it replaces the real object: that there is an object, that it is BPF, and that it
// does not still call an undefined custom_prog. The last happens when the header does not define custom_prog (an
// empty header, a typo, only a prototype) and the Makefile lets clang get away with an implicit declaration: the
// object then loads nowhere ("failed to find BTF for extern 'custom_prog'"), so the build must fail, saying why.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EM_BPF, ElfFormatError, readElfObject, SHN_UNDEF, type ElfObject } from './elfSections';
import { noCustomProg, type BuildFailure } from './buildFailure';

export async function checkBuiltObject(tempObject: string, headerPath: string, makeDir: string): Promise<BuildFailure | undefined> {
  const objectName = `${path.basename(headerPath).replace(/\.h$/, '')}.o`;
  const size = fileSize(tempObject);
  if (!size) {
    return {
      kind: 'no-object',
      failure: `make succeeded but did not write ${objectName} for ${headerPath}`,
      fix: `Is ${makeDir} a bpf/custom-style Makefile (BPF_CUSTOM_PROG_FILE=foo.h writes foo.o next to it)?`,
    };
  }
  let object: ElfObject;
  try {
    object = await readElfObject(tempObject);
  } catch (error) {
    if (!(error instanceof ElfFormatError)) throw error;
    return { kind: 'no-object', failure: `make wrote ${objectName}, but it is not a BPF object (${error.reason.replace(/-/g, ' ')})`, fix: `Check the Makefile in ${makeDir}.` };
  }
  if (object.machine !== EM_BPF) {
    return { kind: 'no-object', failure: `make wrote ${objectName}, but it is not a BPF object (ELF machine ${object.machine})`, fix: `The Makefile in ${makeDir} must compile with clang --target=bpf.` };
  }
  if (object.symbols.some((s) => s.name === 'custom_prog' && s.section === SHN_UNDEF)) return noCustomProg(headerPath);
  return undefined;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
