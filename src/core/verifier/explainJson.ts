// The CLI's `explain --json` contract. The shape is fixed: add nothing here without versioning the CLI.
// `--detail` adds four fields after these (path, lines, registers, origin: insight/json.ts); without it the shape
// is exactly the one below.
import type { VerifierLog } from './model';
import { hintFor } from './hints';
import { toDetailJson, type DetailJson } from './insight/json';
import type { InsightReport } from './insight/model';

export interface ExplainJson {
  verdict: 'accepted' | 'rejected' | 'unknown';
  error: { message: string; insn: number | null; file: string | null; line: number | null; hint: string } | null;
  stats: {
    insnsProcessed: number | null;
    insnLimit: number | null;
    totalStates: number | null;
    peakStates: number | null;
    /** Bytes; with subprograms the sum of their depths as printed ("0+8" is 8), the most the call chain can use. */
    stackDepth: number | null;
  } | null;
  truncated: boolean;
}

/** With `detail` (the insight of a level-2 log, or null when the log had none) the `--detail` fields follow. */
export function toExplainJson(log: VerifierLog): ExplainJson;
export function toExplainJson(log: VerifierLog, detail: InsightReport | null): ExplainJson & DetailJson;
export function toExplainJson(log: VerifierLog, detail?: InsightReport | null): ExplainJson | (ExplainJson & DetailJson) {
  const base = explainBase(log);
  return detail === undefined ? base : { ...base, ...toDetailJson(detail) };
}

function explainBase(log: VerifierLog): ExplainJson {
  const e = log.error;
  const s = log.stats;
  let error: ExplainJson['error'] = null;
  if (e) {
    const hint = hintFor(e.message, e.context);
    error = { message: e.message, insn: e.insn, file: e.file, line: e.line, hint: `${hint.summary} ${hint.fix}` };
  }
  return {
    verdict: log.verdict,
    error,
    stats: s
      ? {
          insnsProcessed: s.insnsProcessed,
          insnLimit: s.insnLimit,
          totalStates: s.totalStates,
          peakStates: s.peakStates,
          stackDepth: stackDepthBytes(s.stackDepth),
        }
      : null,
    truncated: log.truncated,
  };
}

/** "16" is 16, "0+8" is 8; anything else (a log cut mid-number) is null rather than a guess. */
export function stackDepthBytes(printed: string | null): number | null {
  if (printed === null || !/^\d+(\+\d+)*$/.test(printed)) return null;
  return printed.split('+').reduce((sum, part) => sum + Number(part), 0);
}
