// Turns a collected log body into the answers: per source line, how many instructions the verifier processed
// there (summed over all paths) and how many distinct ones; the path to the error, one run per source line; the
// register and stack state at the error; and the chain of writes that made the failing register, back through
// moves, spills and fills to where the value came from (a helper call, a constant, a load).
import { SourceIndex, resolvePath, type SourceFile } from '../sourceLines';
import { parseRegisterState } from '../registers';
import type { SourceLocation } from '../model';
import { PATH_WINDOW, type InsightBody } from './collector';
import { insnEffect, registerInMessage, type InsnEffect } from './insn';
import type { InsightReport, LineHeat, OriginStep, PathRun, RegisterValue } from './model';

export interface AnalyzeOptions {
  /** Sources to find plain `; source` text in (kernels before 6.8) and to name files by. */
  sources?: readonly SourceFile[];
  /** The log's file name (`foo.h`, a base name) to the caller's path (absolute), or null when unknown. */
  resolveFile?: (name: string) => string | null;
  /** No line info in the log at all: the object's line table (objectLineInfo.lookupInsn). */
  insnLine?: (insn: number) => { file: string; line: number } | null;
  /** The parser's error, when the log ends in one. */
  error?: { message: string; insn: number | null } | null;
  /** Most path runs reported (the newest); default 2000. */
  maxRuns?: number;
}

interface Where {
  file: string;
  line: number;
}

export function analyzeBody(body: InsightBody, options: AnalyzeOptions = {}): InsightReport {
  const where = locator(body, options);

  // Per source line.
  const heat = new Map<string, LineHeat>();
  let unattributed = 0;
  let distinctInsns = 0;
  for (let idx = 0; idx <= body.maxIdx; idx++) {
    const n = body.counts[idx];
    if (!n) continue;
    distinctInsns++;
    const w = where(idx, body.insnLoc[idx] ?? -1);
    if (!w) {
      unattributed += n;
      continue;
    }
    const key = `${w.file}\u0000${w.line}`;
    const h = heat.get(key);
    if (h) {
      h.processed += n;
      h.distinct++;
    } else heat.set(key, { file: w.file, line: w.line, processed: n, distinct: 1 });
  }
  const lines = [...heat.values()].sort((a, b) => b.processed - a.processed || a.file.localeCompare(b.file) || a.line - b.line);

  // The path, replayed forwards: runs per source line, the state after each step, and what each step wrote.
  const walk = replay(body, where);
  const maxRuns = options.maxRuns ?? 2000;
  const path = walk.runs.length > maxRuns ? walk.runs.slice(-maxRuns) : walk.runs;

  // The failing register and where its value came from.
  const error = options.error ?? null;
  const lastIdx = body.end > body.start ? body.stepIdx[(body.end - 1) % PATH_WINDOW]! : null;
  const failing = error ? failingRegister(error.message, lastIdx !== null ? body.texts[lastIdx] : undefined) : null;
  const origin = error && failing && lastIdx !== null ? chain(walk, body, failing, where) : null;

  const regs: Record<string, RegisterValue> = {};
  const stack: Record<string, RegisterValue> = {};
  for (const [name, text] of walk.state) {
    if (/^R\d+$/.test(name)) regs[name] = { type: typeOf(text), text };
    else if (name.startsWith('fp')) stack[name] = { type: typeOf(text), text };
  }
  const byReg = (a: string, b: string) => Number(a.slice(1)) - Number(b.slice(1));
  const sortObj = <T>(o: Record<string, T>, cmp: (a: string, b: string) => number) => Object.fromEntries(Object.keys(o).sort(cmp).map((k) => [k, o[k]!]));

  return {
    lines,
    path,
    pathOmitted: walk.runs.length - path.length,
    pathCut: body.cut,
    registers: walk.state.size ? sortObj(regs, byReg) : null,
    stack: walk.state.size ? sortObj(stack, (a, b) => Number(b.slice(2)) - Number(a.slice(2))) : null,
    failingRegister: failing ? `R${failing.slice(1)}` : null,
    origin,
    insnsSeen: body.processed,
    distinctInsns,
    unattributed,
    insns: perInsn(body, where),
  };
}

/** Where each instruction is in the caller's files: from the log's line info, else the object's line table. */
function locator(body: InsightBody, options: AnalyzeOptions): (idx: number, locId: number) => Where | null {
  const resolveFile = options.resolveFile ?? ((name: string) => name);
  const resolved: (Where | null)[] = body.locs.map((l) => {
    if (l.file && l.line !== null && l.line > 0) {
      const file = resolveFile(l.file);
      return file ? { file, line: l.line } : null;
    }
    return null;
  });
  // Plain `; source` text: found in the sources, each next to its neighbours in instruction order.
  const textOnly = body.locs.map((l, i) => ({ l, i })).filter(({ l, i }) => resolved[i] === null && l.line === null && l.file === null && l.text !== '');
  if (textOnly.length && options.sources?.length) {
    const firstInsn = new Map<number, number>();
    for (let idx = 0; idx <= body.maxIdx; idx++) {
      const id = body.insnLoc[idx];
      if (id !== undefined && id >= 0 && !firstInsn.has(id)) firstInsn.set(id, idx);
    }
    // Every location in instruction order, the resolved ones as anchors.
    const order = body.locs.map((_, i) => i).filter((i) => firstInsn.has(i)).sort((a, b) => firstInsn.get(a)! - firstInsn.get(b)!);
    const asPath: SourceLocation[] = order.map((i) => {
      const r = resolved[i];
      const l = body.locs[i]!;
      return { file: r ? r.file : null, line: r ? r.line : null, text: l.text, insn: firstInsn.get(i) ?? null };
    });
    const found = resolvePath(asPath, new SourceIndex(options.sources));
    order.forEach((locId, k) => {
      const f = found[k];
      if (!resolved[locId] && f && body.locs[locId]!.text !== '') resolved[locId] = { file: resolveFile(f.file) ?? f.file, line: f.line };
    });
  }
  const anyLineInfo = body.locs.length > 0;
  return (idx, locId) => {
    if (locId >= 0) return resolved[locId] ?? null;
    if (!anyLineInfo && options.insnLine) {
      const m = options.insnLine(idx);
      if (m) return { file: resolveFile(m.file) ?? m.file, line: m.line };
    }
    return null;
  };
}

interface Walk {
  runs: PathRun[];
  /** Registers and stack slots before the last step (the failing instruction's input). */
  state: Map<string, string>;
  /** Per kept step (relative to body.start): the keys it wrote and where each value came from. */
  writes: ([string, string | null][] | null)[];
  depth: number[];
}

const CLOBBERED = ['r1', 'r2', 'r3', 'r4', 'r5'];
/** How far back the state at the error is rebuilt when no full state (a popped branch's) comes sooner. */
const STATE_LOOKBACK = 20_000;
/** How far back a memory access's base register is looked up (is it a stack pointer?). */
const BASE_LOOKBACK = 256;

function replay(body: InsightBody, where: (idx: number, locId: number) => Where | null): Walk {
  const runs: PathRun[] = [];
  const writes: Walk['writes'] = [];
  const depth: number[] = [];
  const effects = new Map<number, InsnEffect>();
  const effectOf = (idx: number) => {
    let e = effects.get(idx);
    if (!e) effects.set(idx, (e = insnEffect(body.texts[idx] ?? '')));
    return e;
  };
  let d = 0;
  let run: PathRun | null = null;
  for (let p = body.start; p < body.end; p++) {
    const slot = p % PATH_WINDOW;
    const idx = body.stepIdx[slot]!;
    const w = where(idx, body.stepLoc[slot]!);
    if (w && (!run || run.file !== w.file || run.line !== w.line)) {
      run = { file: w.file, line: w.line, insns: [] };
      runs.push(run);
    }
    if (run && run.insns.length < 256) run.insns.push(idx);

    depth.push(d);
    const e = effectOf(idx);
    const reg = (r: string | undefined, frame = d) => (r ? `${frame}:${r}` : null);
    const slotOf = (base: string | undefined, off: number | undefined): string | null => {
      if (base === undefined || off === undefined) return null;
      if (base === 'r10') return `${d}:fp${off}`;
      const v = valueBefore(body, p, `R${base.slice(1)}`);
      const m = v ? /^fp(-?\d+)$/.exec(v) : null;
      return m ? `${d}:fp${Number(m[1]) + off}` : null;
    };
    let wr: [string, string | null][] | null = null;
    switch (e.kind) {
      case 'move':
        wr = [[reg(e.dst)!, reg(e.src)]];
        break;
      case 'alu':
        wr = [[reg(e.dst)!, reg(e.dst)]];
        break;
      case 'const':
        wr = [[reg(e.dst)!, null]];
        break;
      case 'load':
        wr = [[reg(e.dst)!, slotOf(e.base, e.off)]];
        break;
      case 'store': {
        const s = slotOf(e.base, e.off);
        if (s) wr = [[s, reg(e.src)]];
        break;
      }
      case 'call':
        wr = [[reg('r0')!, null], ...CLOBBERED.map((r): [string, string | null] => [reg(r)!, null])];
        break;
      case 'subcall':
        wr = CLOBBERED.map((r): [string, string | null] => [reg(r, d + 1)!, reg(r)]);
        d++;
        break;
      case 'exit':
        if (d > 0) {
          wr = [[reg('r0', d - 1)!, reg('r0')]];
          d--;
        }
        break;
      default:
        break;
    }
    writes.push(wr);
  }
  return { runs, state: stateAtEnd(body), writes, depth };
}

/** The value of `name` (`R2`) printed last before step `p` (its post-states and pre-states), or null. */
function valueBefore(body: InsightBody, p: number, name: string): string | null {
  const needle = `${name}=`;
  for (let q = p, n = 0; q >= body.start && n < BASE_LOOKBACK; q--, n++) {
    const slot = q % PATH_WINDOW;
    for (const text of q < p ? [body.stepPost[slot], body.stepPre[slot]] : [body.stepPre[slot]]) {
      if (!text || !text.includes(needle)) continue;
      const v = parseRegisterState(text).get(name);
      if (v !== undefined) return v;
    }
    if (body.stepFull[slot] === 1) return null;
  }
  return null;
}

/** Registers and stack before the last step: rebuilt from the last full state (or a bounded stretch) onwards. */
function stateAtEnd(body: InsightBody): Map<string, string> {
  const state = new Map<string, string>();
  if (body.end <= body.start) return state;
  let from = body.end - 1;
  while (from > body.start && body.end - from < STATE_LOOKBACK && body.stepFull[from % PATH_WINDOW] !== 1) from--;
  for (let p = from; p < body.end; p++) {
    const slot = p % PATH_WINDOW;
    if (body.stepFull[slot] === 1) state.clear();
    const pre = body.stepPre[slot];
    if (pre) for (const [k, v] of parseRegisterState(pre)) state.set(k, v);
    // The failing instruction printed no state after it: the state at the error is the one before it.
    const post = p < body.end - 1 ? body.stepPost[slot] : null;
    if (post) for (const [k, v] of parseRegisterState(post)) state.set(k, v);
  }
  return state;
}

/**
 * The register the error names (`R1 invalid mem access ...`); for pointer arithmetic that names none (`value ...
 * makes pkt pointer be out of bounds`, `math between map_value pointer and register with unbounded min value`) the
 * offset register the failing `rX += rY` added. Other errors have no failing register.
 */
function failingRegister(message: string, lastText: string | undefined): string | null {
  const named = registerInMessage(message);
  if (named) return named;
  if (!lastText || !/pointer|math between|unbounded/.test(message)) return null;
  const e = insnEffect(lastText);
  return e.kind === 'alu' ? (e.src ?? null) : null;
}

/** From the failing step back: the step that last wrote the register, then the one that wrote its source, ... */
function chain(walk: Walk, body: InsightBody, reg: string, where: (idx: number, locId: number) => Where | null): OriginStep[] {
  const out: OriginStep[] = [];
  const last = walk.writes.length - 1;
  let key: string | null = `${walk.depth[last] ?? 0}:${reg}`;
  for (let j = last - 1; j >= 0 && key !== null && out.length < 64; j--) {
    const wr = walk.writes[j];
    if (!wr) continue;
    const hit = wr.find(([dst]) => dst === key);
    if (!hit) continue;
    const slot = (body.start + j) % PATH_WINDOW;
    const idx = body.stepIdx[slot]!;
    key = hit[1];
    // A loop's `r2 += 1` runs once per iteration: the chain names it once.
    if (hit[1] === hit[0] && out.some((o) => o.insn === idx)) continue;
    const w = where(idx, body.stepLoc[slot]!);
    out.push({ insn: idx, file: w?.file ?? null, line: w?.line ?? null, text: body.texts[idx] ?? '' });
  }
  return out;
}

function perInsn(body: InsightBody, where: (idx: number, locId: number) => Where | null): InsightReport['insns'] {
  const out: InsightReport['insns'] = [];
  for (let idx = 0; idx <= body.maxIdx && out.length < 200_000; idx++) {
    const n = body.counts[idx];
    if (!n) continue;
    const w = where(idx, body.insnLoc[idx] ?? -1);
    out.push({ insn: idx, file: w?.file ?? null, line: w?.line ?? null, text: body.texts[idx] ?? '', processed: n, state: body.lastState[idx] ?? null });
  }
  return out;
}

/** `map_value_or_null(id=1,...)` -> map_value_or_null; `8` -> scalar; `inv` (old kernels) -> scalar; `fp-8` -> fp. */
export function typeOf(value: string): string {
  const v = value.replace(/^P(?=[a-z\-0-9])/, '');
  if (/^-?\d/.test(v) || v.startsWith('inv') || v.startsWith('imm')) return 'scalar';
  if (/^fp-?\d/.test(v)) return 'fp';
  const m = /^[a-z_]+/.exec(v);
  if (!m) return v.startsWith('?') || v.startsWith('m') ? 'stack' : 'unknown';
  // Stack slot contents: `mmmmmmmm` (misc), `0000????` (zero), `????`.
  if (/^[m0?]+$/.test(v)) return 'stack';
  return m[0];
}
