// What a detailed (level-2) verifier log says beyond the verdict: plain data, JSON-serialisable.

export interface LineHeat {
  file: string;
  line: number;
  /** Instructions the verifier processed on this line, summed over every path it explored. */
  processed: number;
  /** Distinct instructions of this line it processed. */
  distinct: number;
}

/** Consecutive steps of the path to the error on one source line. */
export interface PathRun {
  file: string;
  line: number;
  /** Instruction indices in the order the verifier ran them (at most 256 per run). */
  insns: number[];
}

export interface RegisterValue {
  /** `scalar`, `map_value_or_null`, `ctx`, `pkt`, `fp`, `map_ptr`, `stack` (a stack slot's bytes), ... */
  type: string;
  /** As the verifier printed it: `map_value_or_null(id=52,map=hot_loop_map,ks=4,vs=8)`. */
  text: string;
}

/** One write in the chain that made the failing register: newest first, ending where the value came from. */
export interface OriginStep {
  insn: number;
  file: string | null;
  line: number | null;
  /** The instruction: `r1 = *(u64 *)(r10 -16)`, `call bpf_map_lookup_elem#1`. */
  text: string;
}

export interface InsnDetail {
  insn: number;
  file: string | null;
  line: number | null;
  text: string;
  processed: number;
  /** The last state the verifier printed after it (the registers it changed), or null. */
  state: string | null;
}

export interface InsightReport {
  /** Hottest first. */
  lines: LineHeat[];
  /** From the entry to the error (or to the end of the last path explored), oldest first. */
  path: PathRun[];
  /** Older runs left out of `path`. */
  pathOmitted: number;
  /** The path is longer than what was kept, or a branch point fell out of the window: its start is missing. */
  pathCut: boolean;
  /** State before the last step of the path (the failing instruction). Keys `R0`.. and `fp-8`.. */
  registers: Record<string, RegisterValue> | null;
  stack: Record<string, RegisterValue> | null;
  /** `R1`, named by the error message or read by the failing instruction. */
  failingRegister: string | null;
  origin: OriginStep[] | null;
  /** Instruction steps in the log (the verifier's processed count when it logged all of them). */
  insnsSeen: number;
  distinctInsns: number;
  /** Processed instructions with no source line (compiler-generated, line 0). */
  unattributed: number;
  /** Per instruction (bounded by the program's size): for hovers and the editor. */
  insns: InsnDetail[];
}
