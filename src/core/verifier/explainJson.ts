// The CLI's `explain --json` contract. The shape is fixed: add nothing here without versioning the CLI.
import type { VerifierLog } from './model';
import { hintFor } from './hints';

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

export function toExplainJson(log: VerifierLog): ExplainJson {
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
