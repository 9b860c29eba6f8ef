// Collects real `bpftool -d prog load` logs of the fault fixtures (test/fixtures/headers/*.h) from this machine's
// kernel into test/fixtures/verifier-logs/: <name>.log, the header as <name>.h, and a <name>.json sidecar shaped
// like the shared corpus's. The sidecar's facts are read from the raw log by plain text scanning (not by the
// parser under test) and cross-checked against the parser and the header's expect-* comments; any disagreement is
// printed and makes the run fail, so that a human looks at it before the files are kept.
//
//   npm run --silent build && npx tsc -p . && node out/bench/collectLogs.js [--out DIR]
//
// Needs root, bpftool, clang and a mounted bpffs. The slow fixture is skipped: its log is 130 MB.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalTarget } from '../src/core/target';
import { verifyHeaderOrObject } from '../src/core/verify/verifyHeader';
import { expectation, FIXTURES, HEADER_FIXTURES, readExpectations, SDK_DIR } from '../test/system/helpers/fixtures';
import { RecordingTarget } from '../test/system/helpers/pins';

export interface Sidecar {
  file: string;
  source: string;
  generated_source_file: string;
  kernel: string;
  compiler: string;
  loader: string;
  command: string;
  log_level: number;
  verbose_level2: boolean;
  exit_status: number | null;
  load_succeeded: boolean;
  final_error_line: string | null;
  failing_insn_idx: number | null;
  source_text: string | null;
  source_file: string | null;
  source_line: number | null;
  stats_line: string | null;
  truncated: boolean;
  /** Where the error belongs in the header (its expect-verifier-error comment), which may differ from source_line. */
  expected_header_line: number | null;
  level_class: string;
  loader_family: string;
  notes?: string;
}

/** The facts of a rejected level-2 bpftool log, by plain scanning. `message` is the expected error text. */
export function scanLog(text: string, message: string): Pick<Sidecar, 'final_error_line' | 'failing_insn_idx' | 'source_text' | 'source_file' | 'source_line' | 'stats_line'> {
  const begin = text.indexOf('-- BEGIN PROG LOAD LOG --');
  const end = text.indexOf('-- END PROG LOAD LOG --');
  if (begin < 0 || end < begin) throw new Error('no PROG LOAD LOG section');
  const lines = text.slice(begin, end).split('\n').slice(1);
  const errorIndex = lines.findIndex((line) => line.includes(message));
  if (errorIndex < 0) throw new Error(`no line holds ${JSON.stringify(message)}`);
  // The kernel prints some messages without a newline: the next line (stats) is glued on.
  const finalErrorLine = lines[errorIndex].replace(/(verification time \d+ usec|processed \d+ insns).*$/, '');
  let insn: number | null = null;
  let comment: RegExpExecArray | null = null;
  for (const line of lines.slice(0, errorIndex)) {
    const insnMatch = /^(\d+): \(/.exec(line);
    if (insnMatch) insn = Number(insnMatch[1]);
    const commentMatch = /^; (.*?) @ (\S+):(\d+)$/.exec(line);
    if (commentMatch) comment = commentMatch;
  }
  // "infinite loop detected at insn N" names the back edge, not the last instruction printed.
  const named = /at insn (\d+)/.exec(finalErrorLine);
  if (named) insn = Number(named[1]);
  const stats = lines.map((line) => /processed \d+ insns \(limit \d+\).*$/.exec(line)?.[0]).find((s) => s !== undefined) ?? null;
  return {
    final_error_line: finalErrorLine,
    failing_insn_idx: insn,
    source_text: comment ? comment[1] : null,
    source_file: comment ? comment[2] : null,
    source_line: comment ? Number(comment[3]) : null,
    stats_line: stats,
  };
}

function firstLine(argv: string[]): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const outDir = outIndex > 0 ? path.resolve(process.argv[outIndex + 1]) : path.join(FIXTURES, 'verifier-logs');
  fs.mkdirSync(outDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-collect-'));
  const kernel = os.release();
  const compiler = firstLine(['clang', '--version']);
  const loader = firstLine(['bpftool', '--version']);
  const fixtures = fs
    .readdirSync(HEADER_FIXTURES)
    .filter((f) => f.endsWith('.h') && readExpectations(path.join(HEADER_FIXTURES, f)).some((e) => e.kind === 'verifier'))
    .sort();
  const problems: string[] = [];
  const target = new RecordingTarget(new LocalTarget());
  try {
    for (const fixture of fixtures) {
      const name = fixture.replace(/\.h$/, '');
      const header = path.join(work, fixture);
      fs.copyFileSync(path.join(HEADER_FIXTURES, fixture), header);
      const expected = expectation(header, 'verifier');
      const logFile = path.join(work, `${name}.log`);
      target.runs.length = 0;
      const result = await verifyHeaderOrObject({ input: header, target, bundledSdkDir: SDK_DIR, logFile });
      const load = target.loads[0];
      const text = fs.readFileSync(logFile, 'utf8');
      const scanned = scanLog(text, expected.message ?? '');
      const sidecar: Sidecar = {
        file: `${name}.log`,
        source: 'collected by bench/collectLogs.ts (verifyHeaderOrObject, local target, logFile)',
        generated_source_file: fixture,
        kernel,
        compiler,
        loader,
        command: load.argv.map((a) => a.replace(`${work}/`, '')).join(' '),
        log_level: 7,
        verbose_level2: true,
        exit_status: load.result.exitCode,
        load_succeeded: load.result.exitCode === 0,
        ...scanned,
        truncated: false,
        expected_header_line: expected.line ?? null,
        level_class: 'level-2 (verbose) + stats',
        loader_family: 'bpftool',
      };
      // Cross-checks: the parser, the placement on the header, and the expectation comments.
      const log = result.log;
      const check = (what: string, got: unknown, want: unknown) => {
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${name}: ${what}: parser/located ${JSON.stringify(got)}, scan ${JSON.stringify(want)}`);
      };
      check('verdict', log.verdict, 'rejected');
      check('message', log.error?.message ?? null, sidecar.final_error_line);
      check('insn', log.error?.insn ?? null, sidecar.failing_insn_idx);
      check('file', log.error?.file ?? null, sidecar.source_file);
      check('line', log.error?.line ?? null, sidecar.source_line);
      check('source text', log.error?.sourceText ?? null, sidecar.source_text);
      check('processed', log.stats?.insnsProcessed ?? null, Number(/processed (\d+)/.exec(sidecar.stats_line ?? '')?.[1] ?? NaN));
      check('header line', result.located?.error?.line ?? null, sidecar.expected_header_line);
      if (sidecar.source_file !== fixture || sidecar.source_line !== sidecar.expected_header_line) {
        sidecar.notes = `The log's last line info before the error is ${sidecar.source_file}:${sidecar.source_line}; the error belongs on ${fixture}:${sidecar.expected_header_line}.`;
      }
      fs.copyFileSync(logFile, path.join(outDir, `${name}.log`));
      fs.copyFileSync(header, path.join(outDir, `${name}.h`));
      fs.writeFileSync(path.join(outDir, `${name}.json`), `${JSON.stringify(sidecar, null, 2)}\n`);
      console.log(`${name}: ${text.length} bytes, ${sidecar.final_error_line} (insn ${sidecar.failing_insn_idx}, ${sidecar.source_file}:${sidecar.source_line})`);
    }
  } finally {
    await target.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (problems.length) {
    console.error(`\n${problems.length} disagreement(s) between the scan and the parser:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
  console.log(`\nwrote ${fixtures.length} cases to ${outDir}`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
