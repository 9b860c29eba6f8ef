// What one BPF instruction, as the verifier prints it (`r1 = *(u64 *)(r10 -16)`), writes and where the value
// comes from: enough to follow a register back through moves, spills and fills to the instruction that made it
// (a helper call, a constant, a load from memory). Registers are r0..r10 (`w1` is r1's low half); stack slots are
// named by their offset from the frame pointer (`fp-16`). Unknown text gives { kind: 'other' } and writes nothing.

export type InsnKind =
  /** dst = src (register to register, also sign-extending and 32-bit moves). */
  | 'move'
  /** dst = constant (mov imm, ldimm64: a number, a map address, `map[id:..]`). */
  | 'const'
  /** dst op= src: dst's old value flows on (pointer arithmetic keeps the pointer). */
  | 'alu'
  /** dst = *(size *)(base + off): from the stack (a fill) when base is the frame pointer, else from memory. */
  | 'load'
  /** *(size *)(base + off) = src (a spill when base is the frame pointer). */
  | 'store'
  /** A helper or kfunc call: writes r0 and clobbers r1-r5. */
  | 'call'
  /** A call of a subprogram (`call pc+N`): r1-r5 pass into the callee's frame. */
  | 'subcall'
  | 'exit'
  | 'jump'
  | 'other';

export interface InsnEffect {
  kind: InsnKind;
  /** The register written (`r1`), for move/const/alu/load/call. */
  dst?: string;
  /** The register read as the value's source (move, alu, store of a register). */
  src?: string;
  /** Base register and offset of a memory access (load/store/atomic). */
  base?: string;
  off?: number;
  /** Conditional jump (both ways may be possible: the verifier may push the other branch). */
  conditional?: boolean;
  /** The helper name for a call (`bpf_map_lookup_elem`). */
  helper?: string;
}

const REG = '([rw]\\d{1,2})';
const NUM = '(-?\\d+|0x[0-9a-f]+)';
const MEM = '\\*\\((?:u|s)(?:8|16|32|64) \\*\\)\\(' + REG + ' ([+-]\\d+)\\)';

const MOVE = new RegExp(`^${REG} = (?:\\((?:s8|s16|s32|u8|u16|u32)\\))?${REG}$`);
const CONST = new RegExp(`^${REG} = (?:${NUM}|map\\[[^\\]]*\\].*|0x[0-9a-f]+ ll|[a-z_][\\w.]*(?:\\[[^\\]]*\\])?(?: ?[+-] ?\\d+)?)$`);
const ALU = new RegExp(`^${REG} (?:\\+|-|\\*|/|s/|%|s%|&|\\||\\^|<<|>>|s>>)= (?:${REG}|${NUM})$`);
const UNARY = new RegExp(`^${REG} = (?:-|(?:be|le|bswap)\\d+ )${REG}$`);
const LOAD = new RegExp(`^${REG} = ${MEM}$`);
const STORE = new RegExp(`^${MEM} = (?:${REG}|${NUM})$`);
const ATOMIC = new RegExp(`^lock ${MEM} \\S+= ${REG}$`);
const ATOMIC_FETCH = new RegExp(`^${REG} = atomic\\w*\\(`);
const LD_ABS = new RegExp(`^${REG} = \\*\\((?:u8|u16|u32) \\*\\)skb\\[`);
const CALL = /^call (?:([A-Za-z_][\w.]*)#\d+|unknown#\d+|([A-Za-z_][\w.]*))$/;
const SUBCALL = /^call pc[+-]\d+$/;
const COND = /^if .* goto pc[+-]\d+$|^may_goto pc[+-]\d+$/;
const GOTO = /^(?:goto|gotol) pc[+-]\d+$/;

const norm = (r: string | undefined): string | undefined => (r === undefined ? undefined : `r${r.slice(1)}`);

/** Parses the instruction text after the opcode (`(79) ` already removed). */
export function insnEffect(text: string): InsnEffect {
  const t = text.trim();
  let m: RegExpExecArray | null;
  if ((m = LOAD.exec(t))) return { kind: 'load', dst: norm(m[1]), base: norm(m[2]), off: Number(m[3]) };
  if ((m = STORE.exec(t))) return { kind: 'store', base: norm(m[1]), off: Number(m[2]), ...(m[3] ? { src: norm(m[3]) } : {}) };
  if ((m = MOVE.exec(t))) return { kind: 'move', dst: norm(m[1]), src: norm(m[2]) };
  if ((m = ALU.exec(t))) return { kind: 'alu', dst: norm(m[1]), ...(m[2] ? { src: norm(m[2]) } : {}) };
  if ((m = UNARY.exec(t))) return { kind: 'alu', dst: norm(m[1]) };
  if ((m = CONST.exec(t))) return { kind: 'const', dst: norm(m[1]) };
  if ((m = ATOMIC.exec(t))) return { kind: 'store', base: norm(m[1]), off: Number(m[2]), src: norm(m[3]) };
  if ((m = ATOMIC_FETCH.exec(t))) return { kind: 'load', dst: norm(m[1]) };
  if ((m = LD_ABS.exec(t))) return { kind: 'load', dst: 'r0' };
  if (SUBCALL.test(t)) return { kind: 'subcall' };
  if ((m = CALL.exec(t))) return { kind: 'call', dst: 'r0', helper: m[1] ?? m[2] ?? 'unknown' };
  if (t === 'exit') return { kind: 'exit' };
  if (COND.test(t)) return { kind: 'jump', conditional: true };
  if (GOTO.test(t)) return { kind: 'jump' };
  return { kind: 'other' };
}

/** `12: (79) r1 = *(u64 *)(r10 -16)     ; R1=...` -> `r1 = *(u64 *)(r10 -16)` (the opcode and state comment go). */
export function insnText(line: string): string {
  const colon = line.indexOf(': ');
  let start = colon + 2;
  if (line.charCodeAt(start) === 40 /* ( */) {
    const close = line.indexOf(') ', start);
    if (close > 0) start = close + 2;
  }
  const semi = line.indexOf(' ; ', start);
  return line.slice(start, semi >= 0 ? semi : line.length).trim();
}

/** The register an error message blames: `R1 invalid mem access`, `R0 leaks addr`, `R2 !read_ok`. */
export function registerInMessage(message: string): string | null {
  const m = /\bR(\d{1,2})\b/.exec(message);
  return m ? `r${m[1]}` : null;
}
