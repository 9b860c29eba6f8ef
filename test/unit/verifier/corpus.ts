// Locates the verifier-log corpus (test/fixtures/verifier-corpus, a copy of the team's shared corpus kept in the
// repository so that a bare clone passes) and reads its cases. Missing corpus is an error, never a silent pass.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Sidecar {
  load_succeeded: boolean;
  final_error_line?: string | null;
  failing_insn_idx?: number | null;
  source_file?: string | null;
  source_line?: number | null;
  source_text?: string | null;
  stats_line?: string | null;
  truncated?: boolean;
}

export interface CorpusCase {
  name: string;
  logPath: string;
  text: string;
  sidecar: Sidecar;
  /** The C source next to the log, when there is one. */
  source: { name: string; content: string } | null;
}

export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** The corpus inside the repository (logs, their .c sources, .json sidecars and FORMATS.md). */
export const CORPUS_RELATIVE_PATH = path.join('test', 'fixtures', 'verifier-corpus');

/** VERIFIER_LOG_CORPUS, else the repository's own test/fixtures/verifier-corpus. */
export function corpusDir(): string {
  return process.env.VERIFIER_LOG_CORPUS ?? path.join(repoRoot(), CORPUS_RELATIVE_PATH);
}

export function loadCorpus(): CorpusCase[] {
  const dir = corpusDir();
  if (!fs.existsSync(dir)) throw new Error(`verifier-log corpus not found at ${dir} (set VERIFIER_LOG_CORPUS)`);
  const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  if (logs.length === 0) throw new Error(`verifier-log corpus at ${dir} holds no *.log files`);
  return logs.map((f) => {
    const logPath = path.join(dir, f);
    const base = f.slice(0, -'.log'.length);
    const sidecarPath = path.join(dir, `${base}.json`);
    if (!fs.existsSync(sidecarPath)) throw new Error(`corpus log ${f} has no ${base}.json sidecar`);
    const cPath = path.join(dir, `${base}.c`);
    return {
      name: base,
      logPath,
      text: fs.readFileSync(logPath, 'utf8'),
      sidecar: JSON.parse(fs.readFileSync(sidecarPath, 'utf8')) as Sidecar,
      source: fs.existsSync(cPath) ? { name: `${base}.c`, content: fs.readFileSync(cPath, 'utf8') } : null,
    };
  });
}

/** Small deterministic PRNG (mulberry32) so randomised tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A log's lines with 1 to 6 random edits (a line dropped, doubled, cut at either end, glued to another, or, when
 * `replacements` are given, replaced by one of them), joined with \n or now and then \r\n.
 */
export function mutateLines(lines: readonly string[], rand: () => number, replacements: readonly string[] = []): string {
  const mutated = lines.slice();
  const edits = 1 + Math.floor(rand() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * mutated.length);
    const line = mutated[at] ?? '';
    const op = Math.floor(rand() * (replacements.length ? 6 : 5));
    if (op === 0) mutated.splice(at, 1);
    else if (op === 1) mutated.splice(at, 0, line, line);
    else if (op === 2) mutated[at] = line.slice(0, Math.floor(rand() * line.length));
    else if (op === 3) mutated[at] = line.slice(Math.floor(rand() * line.length));
    else if (op === 4) mutated[at] = line + (mutated[Math.floor(rand() * mutated.length)] ?? '');
    else mutated[at] = replacements[Math.floor(rand() * replacements.length)] ?? '';
  }
  return mutated.join(rand() < 0.2 ? '\r\n' : '\n');
}
