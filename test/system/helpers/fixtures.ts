// Fixture headers and the expectations written at their top (`// expect-verifier-error: line 21`), copied into
// throwaway directories so that tests never write objects into the repository.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../../../..');
export const SDK_DIR = path.join(REPO, 'bpf');
export const FIXTURES = path.join(REPO, 'test', 'fixtures');
export const HEADER_FIXTURES = path.join(FIXTURES, 'headers');

export interface Expectation {
  kind: string;
  line?: number;
  column?: number;
  message?: string;
}

/** Reads `// expect-<kind>: line N [col C]` and `// expect-<kind>-message: text` comments. */
export function readExpectations(file: string): Expectation[] {
  const text = fs.readFileSync(file, 'utf8');
  const byKind = new Map<string, Expectation>();
  const get = (kind: string) => byKind.get(kind) ?? byKind.set(kind, { kind }).get(kind)!;
  for (const match of text.matchAll(/^\/\/ expect-([a-z-]+): (.*)$/gm)) {
    const [, key, value] = match;
    if (key.endsWith('message')) {
      const kind = key === 'message' ? 'build' : key.replace(/-message$/, '');
      get(kind).message = value.trim();
      continue;
    }
    const position = /line (\d+)(?: col (\d+))?/.exec(value);
    const kind = key === 'error' || key === 'warning' ? 'build' : key.replace(/-error$/, '');
    const entry = get(kind);
    if (position) {
      entry.line = Number(position[1]);
      if (position[2]) entry.column = Number(position[2]);
    }
  }
  return [...byKind.values()];
}

export function expectation(file: string, kind: string): Expectation {
  const found = readExpectations(file).find((e) => e.kind === kind);
  if (!found) throw new Error(`${file} has no expect-${kind} comment`);
  return found;
}

/** A fresh directory, removed by the returned function. */
export function tempDir(prefix = 'cilium-custom-test-'): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Copies a file or directory into `dir` and returns the copy's path. */
export function copyInto(source: string, dir: string, name = path.basename(source)): string {
  const target = path.join(dir, name);
  fs.cpSync(source, target, { recursive: true });
  return target;
}
