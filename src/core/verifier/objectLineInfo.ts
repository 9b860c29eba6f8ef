// Maps a failing instruction index to file:line from the object's own debug line info, for logs with no
// line info at all (4.x kernels, objects loaded without BTF). Reads `llvm-objdump -d -l` output.
import * as path from 'node:path';
import { runProcess } from '../process';

export interface ObjectLine {
  file: string;
  line: number;
}

export interface SectionLines {
  /** Instruction slot -> location (null: no line, e.g. line 0). ldimm64's second slot has no entry. */
  lines: Map<number, ObjectLine | null>;
  /** Function symbols (programs and subprograms) by first instruction slot. */
  functions: { name: string; start: number }[];
  /** Instruction slots in the section. */
  count: number;
}

const SECTION = /^Disassembly of section (.+):$/;
const SYMBOL = /^([0-9a-f]+) <([^>]+)>:$/;
const LINE = /^; (.+):(\d+)$/;
const INSN = /^\s*(\d+):\s(.*)$/;

/** Parses `llvm-objdump -d -l --no-show-raw-insn` output into per-section line tables. */
export function parseObjdumpLines(text: string): Map<string, SectionLines> {
  const sections = new Map<string, SectionLines>();
  let sec: SectionLines | null = null;
  let current: ObjectLine | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const s = SECTION.exec(line);
    if (s) {
      sec = { lines: new Map(), functions: [], count: 0 };
      sections.set(s[1] ?? '', sec);
      current = null;
      continue;
    }
    if (!sec) continue;
    const sym = SYMBOL.exec(line);
    if (sym) {
      // Basic-block labels (LBB0_2) are not functions.
      const name = sym[2] ?? '';
      if (!/^(?:LBB|\.L)/.test(name)) sec.functions.push({ name, start: parseInt(sym[1] ?? '0', 16) / 8 });
      continue;
    }
    const l = LINE.exec(line);
    if (l) {
      const n = Number(l[2]);
      current = n > 0 ? { file: path.basename(l[1] ?? ''), line: n } : null;
      continue;
    }
    const insn = INSN.exec(line);
    if (insn) {
      const idx = Number(insn[1]);
      sec.lines.set(idx, current);
      // `r1 = 0 ll` (ldimm64) takes two slots.
      sec.count = Math.max(sec.count, idx + (/\bll$/.test(insn[2] ?? '') ? 2 : 1));
    }
  }
  return sections;
}

/**
 * The source line of verifier instruction `insn` of the program in `section` (optionally the function
 * `program` when a section holds several). Indices past the program's end are in subprograms libbpf
 * appended from `.text`; they are looked up there, assuming one appended block in `.text` order.
 */
export function lookupInsn(sections: Map<string, SectionLines>, insn: number, section: string, program?: string): ObjectLine | null {
  const sec = sections.get(section);
  if (!sec || insn < 0) return null;
  const fns = [...sec.functions].sort((a, b) => a.start - b.start);
  const fnIdx = program ? fns.findIndex((f) => f.name === program) : -1;
  const base = fnIdx >= 0 ? (fns[fnIdx]?.start ?? 0) : 0;
  const end = fnIdx >= 0 ? (fns[fnIdx + 1]?.start ?? sec.count) : sec.count;
  if (base + insn < end) return lineAt(sec, base + insn);
  const text = sections.get('.text');
  return text && section !== '.text' ? lineAt(text, insn - (end - base)) : null;
}

function lineAt(sec: SectionLines, idx: number): ObjectLine | null {
  // The second slot of ldimm64 has no line of its own.
  for (let i = idx; i >= 0 && i >= idx - 1; i--) if (sec.lines.has(i)) return sec.lines.get(i) ?? null;
  return null;
}

export interface ObjdumpOptions {
  /** Programs tried in order; Debian installs llvm-objdump-NN next to (or instead of) llvm-objdump. */
  tools?: readonly string[];
  signal?: AbortSignal;
  timeoutMs?: number;
}

const DEFAULT_TOOLS = ['llvm-objdump', 'llvm-objdump-19', 'llvm-objdump-18', 'llvm-objdump-17', 'llvm-objdump-16', 'llvm-objdump-15', 'llvm-objdump-14'];

export type ObjectLineResult = { ok: true; sections: Map<string, SectionLines> } | { ok: false; reason: string };

/** Runs llvm-objdump on `objectPath`. Never throws: a missing tool or a bad object gives `ok: false`. */
export async function readObjectLineInfo(objectPath: string, options: ObjdumpOptions = {}): Promise<ObjectLineResult> {
  const tools = options.tools ?? DEFAULT_TOOLS;
  let reason = 'llvm-objdump is not installed';
  for (const tool of tools) {
    let result: Awaited<ReturnType<typeof runProcess>>;
    try {
      result = await runProcess([tool, '-d', '-l', '--no-show-raw-insn', objectPath], {
        signal: options.signal,
        timeoutMs: options.timeoutMs ?? 30_000,
      });
    } catch (e) {
      return { ok: false, reason: `${tool} could not run: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (result.spawnError?.code === 'ENOENT') continue;
    if (result.exitCode === 0) return { ok: true, sections: parseObjdumpLines(result.stdout) };
    reason = `${tool} failed: ${(result.stderr || result.spawnError?.message || `exit ${result.exitCode}`).trim()}`;
    break;
  }
  return { ok: false, reason };
}

/** Convenience: the file:line of `insn` in `section` of `objectPath`, or null. */
export async function mapInsnToSource(
  objectPath: string,
  insn: number,
  section: string,
  program?: string,
  options: ObjdumpOptions = {},
): Promise<ObjectLine | null> {
  const info = await readObjectLineInfo(objectPath, options);
  return info.ok ? lookupInsn(info.sections, insn, section, program) : null;
}
