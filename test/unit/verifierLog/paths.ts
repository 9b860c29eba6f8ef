// Where the unit tests of the verifier-log language find the repository and the verifier-log corpus
// (test/fixtures/verifier-corpus).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { corpusDir, repoRoot } from '../verifier/corpus';

export { corpusDir, repoRoot };

/** The corpus log whose name starts with `prefix` (e.g. '01-'), as lines. */
export function corpusLog(prefix: string): { name: string; lines: string[] } {
  const dir = corpusDir();
  const name = fs.readdirSync(dir).find((file) => file.startsWith(prefix) && file.endsWith('.log'));
  if (!name) throw new Error(`no ${prefix}*.log in ${dir}`);
  return { name, lines: fs.readFileSync(path.join(dir, name), 'utf8').split(/\r\n|\r|\n/) };
}

export function corpusLogs(): { name: string; lines: string[]; finalErrorLine: string | null }[] {
  const dir = corpusDir();
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.log'))
    .sort()
    .map((name) => {
      const sidecar = path.join(dir, name.replace(/\.log$/, '.json'));
      const json = fs.existsSync(sidecar) ? (JSON.parse(fs.readFileSync(sidecar, 'utf8')) as { final_error_line?: string | null }) : {};
      return {
        name,
        lines: fs.readFileSync(path.join(dir, name), 'utf8').split(/\r\n|\r|\n/),
        finalErrorLine: json.final_error_line ?? null,
      };
    });
}
