// What the verifier-log parser produces. Plain data (JSON-serialisable), so the extension, the CLI and the
// tests all read the same shape.

export type Verdict = 'accepted' | 'rejected' | 'unknown';

/** The program that printed the log, detected from its framing; 'raw' is a bare kernel log buffer. */
export type LoaderFamily =
  | 'bpftool'
  | 'libbpf'
  | 'libscap'
  | 'cilium-ebpf'
  | 'bcc'
  | 'aya'
  | 'iproute2'
  | 'bpftrace'
  | 'veristat'
  | 'raw';

/** One `; source` line-info comment. file/line are null when the log prints plain `; source` (kernels < 6.8). */
export interface SourceLocation {
  file: string | null;
  line: number | null;
  text: string;
  /** First instruction printed under this comment, or null when none followed. */
  insn: number | null;
}

export interface VerifierError {
  /** The verifier's own error line verbatim, without loader/logging prefixes. */
  message: string;
  /** Explanatory lines printed after the message (`R1 offset is outside of the packet`, `cur state: ...`). */
  context: string[];
  insn: number | null;
  file: string | null;
  line: number | null;
  sourceText: string | null;
  /** Register and stack state when the error was printed (`R0` -> `map_value_or_null(...)`), or null. */
  registers: Record<string, string> | null;
}

export interface VerifierStats {
  insnsProcessed: number | null;
  insnLimit: number | null;
  maxStatesPerInsn: number | null;
  totalStates: number | null;
  peakStates: number | null;
  markRead: number | null;
  /** As printed: "8", or "0+8" with one figure per subprogram. */
  stackDepth: string | null;
  verificationTimeUsec: number | null;
}

export interface VerifierLog {
  verdict: Verdict;
  error: VerifierError | null;
  /** Distinct source locations on the execution path that reached the error, oldest first (at most 50). */
  path: SourceLocation[];
  stats: VerifierStats | null;
  truncated: boolean;
  loader: LoaderFamily;
}

export function emptyStats(): VerifierStats {
  return {
    insnsProcessed: null,
    insnLimit: null,
    maxStatesPerInsn: null,
    totalStates: null,
    peakStates: null,
    markRead: null,
    stackDepth: null,
    verificationTimeUsec: null,
  };
}

export function unknownLog(): VerifierLog {
  return { verdict: 'unknown', error: null, path: [], stats: null, truncated: false, loader: 'raw' };
}
