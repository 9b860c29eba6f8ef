// Kernels before 6.8 print line info as plain `; <source text>` without `@ file:line`. This finds the line by
// its text in the candidate files. A text can occur more than once (`}`, `return 0;`), so each location is
// resolved next to its neighbours on the path: the verifier walks the code in order, mostly.
import type { SourceLocation, VerifierLog } from './model';

export interface SourceFile {
  /** As the caller names it (a path or a base name); results carry this name. */
  name: string;
  content: string;
}

export interface ResolvedLine {
  file: string;
  line: number;
}

/** Normalised line text -> where it occurs. Build once per set of files. */
export class SourceIndex {
  private readonly byText = new Map<string, ResolvedLine[]>();

  constructor(files: readonly SourceFile[]) {
    for (const f of files) {
      const lines = f.content.split('\n');
      lines.forEach((text, i) => {
        const key = normalise(text);
        if (key === '') return;
        const list = this.byText.get(key);
        const loc = { file: f.name, line: i + 1 };
        if (list) list.push(loc);
        else this.byText.set(key, [loc]);
      });
    }
  }

  candidates(text: string): ResolvedLine[] {
    const key = normalise(text);
    if (key === '') return [];
    const exact = this.byText.get(key);
    if (exact) return exact;
    // BTF keeps the first line of a multi-line statement; a log may also have cut a long line.
    if (key.length < 8) return [];
    const out: ResolvedLine[] = [];
    for (const [k, locs] of this.byText) if (k.startsWith(key) || key.startsWith(k + ' ')) out.push(...locs);
    return out;
  }
}

function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The candidate nearest to `near` (same file first), or the first one when there is no reference. */
export function pickNearest(cands: readonly ResolvedLine[], near: ResolvedLine | null): ResolvedLine | null {
  if (cands.length === 0) return null;
  if (cands.length === 1 || !near) return cands[0] ?? null;
  let best: ResolvedLine | null = null;
  let bestScore = Infinity;
  for (const c of cands) {
    // Another file is "far"; at equal distance prefer the later line (execution flows down).
    const score = (c.file === near.file ? 0 : 1e9) + Math.abs(c.line - near.line) * 2 - (c.line >= near.line ? 1 : 0);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

export function resolveSourceText(text: string, files: SourceIndex | readonly SourceFile[], near: ResolvedLine | null = null): ResolvedLine | null {
  const index = files instanceof SourceIndex ? files : new SourceIndex(files);
  return pickNearest(index.candidates(text), near);
}

/**
 * Resolves every path location that lacks a line. Unambiguous texts anchor first; an ambiguous one takes the
 * candidate nearest the previous resolved location (or the next anchor when it comes first).
 */
export function resolvePath(path: readonly SourceLocation[], index: SourceIndex): (ResolvedLine | null)[] {
  const cands = path.map((p) => (p.line !== null && p.file !== null ? [{ file: p.file, line: p.line }] : index.candidates(p.text)));
  const out: (ResolvedLine | null)[] = cands.map((c) => (c.length === 1 ? (c[0] ?? null) : null));
  let prev: ResolvedLine | null = null;
  for (let i = 0; i < cands.length; i++) {
    if (!out[i]) out[i] = pickNearest(cands[i] ?? [], prev ?? out.slice(i + 1).find((r) => r !== null) ?? null);
    prev = out[i] ?? prev;
  }
  return out;
}

/** A copy of `log` with file/line filled in from `files` wherever the log gave only source text. */
export function resolveLogLocations(log: VerifierLog, files: readonly SourceFile[]): VerifierLog {
  const index = new SourceIndex(files);
  const resolved = resolvePath(log.path, index);
  const path = log.path.map((p, i) => {
    const r = resolved[i];
    return p.line === null && r ? { ...p, file: r.file, line: r.line } : p;
  });
  const err = log.error;
  if (!err || err.line !== null || err.sourceText === null) return { ...log, path };
  // The error's location is normally the last path entry; fall back to a search near it.
  let hit: ResolvedLine | null = null;
  for (let i = log.path.length - 1; i >= 0 && !hit; i--) if (log.path[i]?.text === err.sourceText) hit = resolved[i] ?? null;
  const last = [...resolved].reverse().find((r) => r !== null) ?? null;
  hit ??= resolveSourceText(err.sourceText, index, last);
  return { ...log, path, error: hit ? { ...err, file: hit.file, line: hit.line } : err };
}
