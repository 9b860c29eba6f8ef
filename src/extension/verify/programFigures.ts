// The figures of each program in a verifier log. bpftool loads every program of an object, so a header with
// tail-called stages gives one "processed N insns" per program, the landing program first; the parser keeps the
// figures of one of them (the last), but the status item wants the entry program's and the largest.
// No vscode import: unit-tested under plain mocha (test/unit/verify/programFigures.test.ts).
import * as fs from 'node:fs';
import * as readline from 'node:readline';

export interface ProgramFigures {
  /** From libbpf's `prog 'NAME': -- BEGIN PROG LOAD LOG --`, or null when the log does not say. */
  name: string | null;
  insnsProcessed: number;
  insnLimit: number | null;
  /** As printed: "8", or "0+8" with one figure per subprogram. */
  stackDepth: string | null;
}

const BEGIN = /\bprog '([^']*)': -- BEGIN PROG LOAD LOG --/;
// The kernel sometimes glues a message and the statistics (`...tail callprocessed 4 insns (limit 1000000)`).
const PROCESSED = /(?:^\s*|[a-z])processed (\d+) insns?(?: \(limit (\d+)\))?(.*)$/;
const STACK = /^\s*stack depth (\S+)/;

/** Collects per-program figures line by line (feed every line of the log, in order). */
export class ProgramFiguresCollector {
  private readonly done: ProgramFigures[] = [];
  private name: string | null = null;
  private stack: string | null = null;

  line(text: string): void {
    const begin = BEGIN.exec(text);
    if (begin) {
      this.name = begin[1] ?? null;
      this.stack = null;
      return;
    }
    const stack = STACK.exec(text);
    if (stack) {
      this.stack = stack[1] ?? null;
      return;
    }
    const processed = text.includes('processed ') ? PROCESSED.exec(text) : null;
    if (!processed) return;
    const rest = processed[3] ?? '';
    this.done.push({
      name: this.name,
      insnsProcessed: Number(processed[1]),
      insnLimit: processed[2] !== undefined ? Number(processed[2]) : null,
      // 4.x kernels print it on the same line: "processed 39 insns (limit 131072), stack depth 0".
      stackDepth: /stack depth (\S+)/.exec(rest)?.[1] ?? this.stack,
    });
    // Whatever follows belongs to the next program.
    this.name = null;
    this.stack = null;
  }

  get programs(): ProgramFigures[] {
    return [...this.done];
  }
}

export function programFiguresOf(text: string): ProgramFigures[] {
  const collector = new ProgramFiguresCollector();
  for (const line of text.split(/\r?\n/)) collector.line(line);
  return collector.programs;
}

/** Reads a log file line by line (logs of big programs are hundreds of MB; nothing but the figures is kept). */
export async function readProgramFigures(file: string): Promise<ProgramFigures[]> {
  const collector = new ProgramFiguresCollector();
  const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) collector.line(line);
  } finally {
    lines.close();
  }
  return collector.programs;
}

/** A stack depth as one number: "0+8" (per subprogram) counts as the sum, an upper bound of the combined stack. */
export function stackBytes(depth: string | null): number {
  if (!depth) return 0;
  return depth.split('+').reduce((sum, part) => sum + (Number(part) || 0), 0);
}

/** The entry program (the first loaded) and the largest by instructions processed, when there are several. */
export function summarizePrograms(programs: readonly ProgramFigures[]): { entry: ProgramFigures; largest: ProgramFigures; count: number; maxStack: number } | undefined {
  const entry = programs[0];
  if (!entry) return undefined;
  let largest = entry;
  let maxStack = stackBytes(entry.stackDepth);
  for (const program of programs) {
    if (program.insnsProcessed > largest.insnsProcessed) largest = program;
    maxStack = Math.max(maxStack, stackBytes(program.stackDepth));
  }
  return { entry, largest, count: programs.length, maxStack };
}
