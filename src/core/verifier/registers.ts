// Follows register/stack state through the log so the state at the failing instruction is known even when
// that instruction prints none (6.x prints only changed registers, after the instruction ran).

/** Most entries kept: 11 registers, stack slots and `refs`; bounded so hostile input cannot grow it. */
const MAX_ENTRIES = 96;

/**
 * Splits `R1=scalar(smin=0,var_off=(0x0; 0xff)) R10=fp0 fp-8=mmmm???? refs=2` into name -> value, splitting
 * on spaces outside parentheses. `frame1:` prefixes go; liveness suffixes (`R0_w`, `R1_rw`) are dropped from
 * the name so 4.x/5.x and 6.x states read the same.
 */
export function parseRegisterState(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = i < text.length ? text[i] : ' ';
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === ' ' && depth === 0) {
      if (i > start) addToken(out, text.slice(start, i));
      start = i + 1;
      if (out.size >= MAX_ENTRIES) break;
    }
  }
  return out;
}

function addToken(out: Map<string, string>, token: string): void {
  const eq = token.indexOf('=');
  if (eq <= 0) return;
  const name = token.slice(0, eq).replace(/^(R\d+)_[a-z]+$/, '$1');
  if (!/^(?:R\d+|fp-?\d+|refs)$/.test(name)) return;
  out.set(name, token.slice(eq + 1));
}

/** Keeps the raw state texts and parses them only when a snapshot is asked for: most states are
 * overwritten long before an error, and a 200 MB log should not pay for parsing them all. */
export class RegisterTracker {
  private regs = new Map<string, string>();
  // pending[0, count): texts not parsed yet. Slots are reused (a state per branch in a big log: no array churn).
  private readonly pending: string[] = [];
  private count = 0;

  /** A full state line (`N: R1=...`, `from X to Y: ...`): replaces everything known. */
  replace(text: string): void {
    if (this.regs.size > 0) this.regs.clear();
    // Drop the old texts: they may be slices of a large chunk.
    for (let i = 1; i < this.count; i++) this.pending[i] = '';
    this.pending[0] = text;
    this.count = 1;
  }

  /** A trailing `; R1=...` comment: only the registers the instruction changed. */
  merge(text: string): void {
    this.pending[this.count++] = text;
    if (this.count > 64) this.fold();
  }

  snapshot(): Record<string, string> | null {
    this.fold();
    if (this.regs.size === 0) return null;
    const out: Record<string, string> = {};
    for (const [k, v] of this.regs) out[k] = v;
    return out;
  }

  private fold(): void {
    for (let i = 0; i < this.count; i++) {
      for (const [k, v] of parseRegisterState(this.pending[i]!)) {
        if (this.regs.size >= MAX_ENTRIES && !this.regs.has(k)) break;
        this.regs.set(k, v);
      }
      this.pending[i] = '';
    }
    this.count = 0;
  }
}
