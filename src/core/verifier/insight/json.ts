// The `--detail` fields of `explain --json` / `verify --json`, and the same in text for a terminal.
import * as path from 'node:path';
import type { InsightReport, LineHeat, OriginStep, RegisterValue } from './model';
import { describeValue } from './plain';

export interface DetailJson {
  /** The path to the error, one entry per run of instructions on one source line, oldest first. */
  path: { file: string; line: number; insns: number[] }[];
  /** Per source line, hottest first: instructions processed there (all paths) and distinct instructions. */
  lines: LineHeat[];
  /** Registers before the failing instruction ({R1: {type, text}}), or null. */
  registers: Record<string, RegisterValue> | null;
  /** The failing register's chain of writes, newest first, back to where its value came from; or null. */
  origin: OriginStep[] | null;
}

export function toDetailJson(report: InsightReport | null): DetailJson {
  if (!report) return { path: [], lines: [], registers: null, origin: null };
  return {
    path: report.path.map((r) => ({ file: r.file, line: r.line, insns: r.insns })),
    lines: report.lines,
    registers: report.registers,
    origin: report.origin,
  };
}

/** A few lines for the terminal: the hottest lines, the failing register and its origin. */
export function formatDetailText(report: InsightReport | null, limit = 1_000_000): string[] {
  if (!report) return ['  detail: the log has no instruction trace (a level-2 log is needed: bpftool -d)'];
  const out: string[] = [];
  const name = (file: string | null, line: number | null) => (file ? `${path.basename(file)}:${line ?? '?'}` : '?');
  const hot = report.lines.slice(0, 5);
  if (hot.length) {
    out.push('  hottest lines (instructions processed, all paths):');
    for (const h of hot) out.push(`    ${name(h.file, h.line)}  ${h.processed} (${h.distinct} distinct, ${((100 * h.processed) / limit).toFixed(2)}% of ${limit})`);
  }
  if (report.failingRegister && report.registers?.[report.failingRegister]) {
    const v = report.registers[report.failingRegister]!;
    out.push(`  ${report.failingRegister} at the error: ${v.text} — ${describeValue(v.text)}`);
  }
  if (report.origin?.length) {
    out.push(`  where ${report.failingRegister ?? 'it'} came from (newest first):`);
    for (const o of report.origin) out.push(`    ${o.insn}: ${o.text}  (${name(o.file, o.line)})`);
  }
  if (report.path.length) {
    const last = report.path[report.path.length - 1]!;
    out.push(`  path: ${report.path.length + report.pathOmitted} source-line steps, ending at ${name(last.file, last.line)}${report.pathCut ? ' (its start is not in the log window)' : ''}`);
  }
  return out;
}
