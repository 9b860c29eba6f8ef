// The Cilium compatibility tier: real Cilium trees (../shared/cilium next to the repository: v1.12.0 from the llc
// era, v1.17.5 with one clang step, and a 1.19.0-dev main that no longer has bpf/custom), driven through the
// product's own CLI (`build|verify <header> --make-dir <tree>/bpf/custom --json`), as a user would.
//
// Every bundled example and every snippet (expanded with its defaults, assembled as test/system/snippets.test.ts
// does) is copied alone, as one file, into each tree's bpf/custom/ and must build with that tree's own Makefile and
// flags (-Wall -Wextra -Werror -Wshadow -Wdeclaration-after-statement -Wimplicit-int-conversion ...) without a
// diagnostic, and pass the kernel verifier; the same through the bundled SDK (the header alone in an empty folder).
// A broken header is reported at its own file:line:col in both eras, including errors only llc reports (v1.12).
// In the 1.19 tree a header must not be built with the SDK behind the user's back.
//
// Each tarball is unpacked once into a temporary folder; all builds run up front, two at a time; verify reuses the
// objects the builds made. Without ../shared/cilium the tier skips loudly, and fails under CI=true.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, runCli, type CliRun } from '../system/helpers/cli';
import { REPO, SDK_DIR, tempDir } from '../system/helpers/fixtures';
import { hasCommand, requireBpf, requireOrSkip, requireToolchain } from '../system/helpers/require';
import { snippetHeaders, unassembledSnippets } from './snippetHeaders';

const SHARED = path.join(REPO, '..', 'shared', 'cilium');
const PARALLEL = 2;

interface Builder {
  /** `v1.12.0`, `v1.17.5`, or `sdk`. */
  name: string;
  tarball?: string;
  /** Where headers are copied: the tree's bpf/custom, or an empty folder for the SDK. Set once unpacked. */
  dir?: string;
}

const BUILDERS: Builder[] = [
  { name: 'v1.12.0', tarball: 'cilium-v1.12.0.tar.gz' },
  { name: 'v1.17.5', tarball: 'cilium-v1.17.5.tar.gz' },
  { name: 'sdk' },
];
const MAIN_TARBALL = 'cilium-main-2026-01-07.tar.gz';

interface Source {
  kind: 'example' | 'snippet';
  /** File name in bpf/custom; its base name is the section name. */
  name: string;
  text: string;
}

/** Headers that must not build, and where the error must be reported (1-based; column optional). */
interface Fault {
  name: string;
  text: string;
  line: number;
  column?: number;
  message: RegExp;
  /** Why this one matters. */
  what: string;
}

const FAULTS: Fault[] = [
  {
    name: 'fault_undeclared.h',
    what: "clang's own error",
    text: `static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
\t__u64 len = ctx_full_len(ctx);

\t(void)identity;
\tlenn += len;
}
`,
    line: 7,
    column: 2,
    message: /undeclared identifier 'lenn'/,
  },
  {
    name: 'fault_trap.h',
    what: 'an error only llc reports in the llc era (a call to abort)',
    text: `static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
\tif (ctx->len == identity)
\t\t__builtin_trap();
}
`,
    line: 5,
    column: 3,
    message: /built-in function 'abort' is not supported/,
  },
  {
    name: 'fault_stack.h',
    what: 'the BPF stack limit, found by the backend (llc in the llc era)',
    text: `static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
\tvolatile char big[600];

\tbig[identity & 511] = (char)ctx->len;
\tbig[0] = big[(identity + 1) & 511];
}
`,
    line: 7,
    message: /stack limit of 512 bytes is exceeded/,
  },
  {
    name: 'fault_asm.h',
    what: 'bad inline assembly (llc names only "<inline asm>" in the llc era)',
    text: `static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
\t(void)ctx;
\t(void)identity;
\tasm volatile("r2 = &no_such_map ll\\n\\t" ::: "r2");
}
`,
    line: 6,
    message: /invalid operand for instruction/,
  },
];

interface BuildJson {
  ok: boolean;
  object: string | null;
  section: string | null;
  programs: string[];
  makeDir: string | null;
  makeDirSource: string | null;
  diagnostics: Array<{ file: string; line: number; column: number; severity: string; message: string; flag: string | null }>;
  failure: string | null;
}

interface Outcome {
  run: CliRun;
  json?: BuildJson;
  header: string;
}

function sources(): Source[] {
  const examples = fs
    .readdirSync(path.join(SDK_DIR, 'examples'))
    .filter((f) => f.endsWith('.h'))
    .sort()
    .map((name): Source => ({ kind: 'example', name, text: fs.readFileSync(path.join(SDK_DIR, 'examples', name), 'utf8') }));
  const snippets = snippetHeaders().map((s): Source => ({ kind: 'snippet', name: s.name, text: s.text }));
  return [...examples, ...snippets];
}

function makeDirArgs(builder: Builder): string[] {
  return builder.tarball ? ['--make-dir', builder.dir!] : [];
}

/** Runs `jobs` at most `limit` at a time. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

function parseJson<T>(run: CliRun): T | undefined {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    return undefined;
  }
}

function describeRun(run: CliRun): string {
  return `exit ${run.code ?? run.signal}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
}

// Outside the suite below, so that it runs (and the tier counts a test) even when the trees are not there.
describe('Cilium trees: what the tier tries', () => {
  it('knows how to assemble every snippet, and has examples and snippets to try', () => {
    const all = sources();
    assert.deepEqual(unassembledSnippets(), [], 'snippets missing from test/cilium/snippetHeaders.ts ASSEMBLY');
    assert.ok(all.filter((s) => s.kind === 'example').length >= 4, all.map((s) => s.name).join(', '));
    assert.ok(all.filter((s) => s.kind === 'snippet').length >= 1);
  });
});

describe('Cilium trees: examples and snippets build and verify in real trees', function () {
  const all = sources();
  const outcomes = new Map<string, Outcome>();
  const key = (builder: Builder, name: string) => `${builder.name}/${name}`;
  const counts = new Map<string, { builds: number; verified: number }>(BUILDERS.map((b) => [b.name, { builds: 0, verified: 0 }]));
  let faultsChecked = 0;
  let root: ReturnType<typeof tempDir> | undefined;
  const started = Date.now();

  before(async function () {
    this.timeout(15 * 60_000);
    requireOrSkip(this, fs.existsSync(SHARED), `the Cilium trees are not there: ${SHARED} (tarballs of Cilium v1.12.0, v1.17.5 and main)`);
    requireToolchain(this);
    requireOrSkip(this, hasCommand('llc'), 'llc is not installed (apt-get install llvm): Cilium v1.12 builds through it');
    requireOrSkip(this, fs.existsSync(CLI), `${CLI} is missing: npm run build`);
    root = tempDir('cilium-custom-trees-');
    for (const builder of BUILDERS) {
      if (builder.tarball) {
        execFileSync('tar', ['-xzf', path.join(SHARED, builder.tarball), '-C', root.dir]);
        builder.dir = path.join(root.dir, builder.tarball.replace(/\.tar\.gz$/, ''), 'bpf', 'custom');
        assert.ok(fs.existsSync(path.join(builder.dir, 'Makefile')), `${builder.tarball} has no bpf/custom/Makefile`);
      } else {
        builder.dir = path.join(root.dir, 'sdk');
        fs.mkdirSync(builder.dir);
      }
    }
    // Every header is copied alone into the folder its Makefile builds: nothing else of ours comes along.
    const jobs: Array<() => Promise<void>> = [];
    for (const builder of BUILDERS) {
      for (const file of [...all, ...FAULTS]) {
        const header = path.join(builder.dir!, file.name);
        fs.writeFileSync(header, file.text);
        jobs.push(async () => {
          const run = await runCli(['build', header, ...makeDirArgs(builder), '--json']);
          outcomes.set(key(builder, file.name), { run, json: parseJson<BuildJson>(run), header });
        });
      }
    }
    await pool(jobs, PARALLEL);
  });

  after(() => {
    root?.remove();
    if (outcomes.size === 0) return;
    const trees = BUILDERS.filter((b) => b.tarball);
    const sum = (field: 'builds' | 'verified') => trees.reduce((n, b) => n + counts.get(b.name)![field], 0);
    const sdk = counts.get('sdk')!;
    console.log(
      `\n  cilium trees: ${sum('builds')} builds, ${sum('verified')} verified (${trees.map((b) => `${b.name}: ${counts.get(b.name)!.builds}/${counts.get(b.name)!.verified}`).join(', ')}); ` +
        `bundled SDK: ${sdk.builds} builds, ${sdk.verified} verified; ${faultsChecked} error locations checked; ` +
        `${all.length} headers (${all.filter((s) => s.kind === 'example').length} examples, ${all.filter((s) => s.kind === 'snippet').length} snippets) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  });

  for (const builder of BUILDERS) {
    const where = builder.tarball ? `Cilium ${builder.name}'s bpf/custom` : 'the bundled SDK';
    describe(builder.tarball ? `Cilium ${builder.name}` : 'bundled SDK', () => {
      for (const source of all) {
        const section = source.name.replace(/\.h$/, '');

        it(`${source.kind} ${source.name} builds alone through ${where}, without a diagnostic`, () => {
          const outcome = outcomes.get(key(builder, source.name));
          assert.ok(outcome, 'not built');
          const json = outcome.json;
          assert.ok(json, `build --json printed no JSON: ${describeRun(outcome.run)}`);
          assert.equal(json.ok, true, `${json.failure}\n${json.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`).join('\n')}\n--- header ---\n${source.text}`);
          assert.equal(outcome.run.code, 0);
          assert.deepEqual(json.diagnostics, [], 'warnings');
          assert.equal(json.makeDirSource, builder.tarball ? 'setting' : 'bundled-sdk');
          if (builder.tarball) assert.equal(json.makeDir, builder.dir);
          assert.equal(json.object, outcome.header.replace(/\.h$/, '.o'));
          assert.ok(json.programs.includes(section), `programs: ${json.programs.join(', ')}`);
          // bpftool prog load (verify, attach) pins the first program: it must be the landing one, for examples and
          // snippets alike (the build's temporary header opens the landing section first in a Cilium tree).
          assert.equal(json.programs[0], section, `programs in ELF order: ${json.programs.join(', ')}`);
          counts.get(builder.name)!.builds++;
        });

        it(`${source.kind} ${source.name} built through ${where} passes the kernel verifier`, async function () {
          requireBpf(this);
          const outcome = outcomes.get(key(builder, source.name));
          assert.ok(outcome?.json?.ok, 'did not build (see above)');
          const object = outcome.json.object!;
          const before = fs.statSync(object);
          const run = await runCli(['verify', outcome.header, ...makeDirArgs(builder), '--json']);
          const verdict = parseJson<{ verdict: string; error: { message: string; line: number | null } | null }>(run);
          assert.ok(verdict, `verify --json printed no JSON: ${describeRun(run)}`);
          assert.equal(verdict.verdict, 'accepted', `${JSON.stringify(verdict.error)}\n${describeRun(run)}`);
          assert.equal(run.code, 0);
          const after = fs.statSync(object);
          assert.equal(after.mtimeMs, before.mtimeMs, 'verify rebuilt an object that was up to date');
          counts.get(builder.name)!.verified++;
        });
      }

      for (const fault of FAULTS) {
        it(`reports ${fault.what} at the header's own line${fault.column ? ' and column' : ''}`, () => {
          const outcome = outcomes.get(key(builder, fault.name));
          assert.ok(outcome?.json, `build --json printed no JSON: ${outcome ? describeRun(outcome.run) : 'not built'}`);
          const json = outcome.json;
          assert.equal(json.ok, false);
          assert.equal(outcome.run.code, 1);
          const shown = json.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`).join('\n');
          const onHeader = json.diagnostics.filter((d) => d.severity === 'error' && d.file === outcome.header);
          assert.ok(onHeader.length > 0, `no error on ${outcome.header} (failure: ${json.failure}):\n${shown}`);
          const error = onHeader.find((d) => fault.message.test(d.message));
          assert.ok(error, `no error matching ${fault.message} on the header:\n${shown}`);
          assert.equal(error.line, fault.line, shown);
          if (fault.column) assert.equal(error.column, fault.column, shown);
          assert.match(json.failure ?? '', /build failed with \d+ errors?/);
          faultsChecked++;
        });
      }
    });
  }
});

describe('Cilium 1.19 tree (custom calls removed, no bpf/custom)', function () {
  let root: ReturnType<typeof tempDir> | undefined;
  let tree = '';

  before(function () {
    this.timeout(120_000);
    requireOrSkip(this, fs.existsSync(path.join(SHARED, MAIN_TARBALL)), `the Cilium main tree is not there: ${path.join(SHARED, MAIN_TARBALL)}`);
    requireToolchain(this);
    root = tempDir('cilium-custom-main-');
    execFileSync('tar', ['-xzf', path.join(SHARED, MAIN_TARBALL), '-C', root.dir]);
    tree = path.join(root.dir, MAIN_TARBALL.replace(/\.tar\.gz$/, ''));
    assert.ok(!fs.existsSync(path.join(tree, 'bpf', 'custom')), 'this main tree still has bpf/custom');
  });
  after(() => root?.remove());

  // Where a user would put a header: a bpf/custom folder made by hand (no Makefile), with or without --make-dir, or
  // --make-dir at the datapath's own Makefile.
  const cases: Array<{ what: string; makeDir?: (tree: string) => string }> = [
    { what: 'a header in a hand-made bpf/custom, no --make-dir' },
    { what: '--make-dir <tree>/bpf/custom', makeDir: (t) => path.join(t, 'bpf', 'custom') },
    { what: "--make-dir <tree>/bpf (the datapath's Makefile)", makeDir: (t) => path.join(t, 'bpf') },
  ];
  for (const c of cases) {
    it(`is refused, naming Cilium 1.19, not built with the bundled SDK: ${c.what}`, async () => {
      const dir = path.join(tree, 'bpf', 'custom');
      fs.mkdirSync(dir, { recursive: true });
      const header = path.join(dir, 'bytecount.h');
      fs.copyFileSync(path.join(SDK_DIR, 'examples', 'bytecount.h'), header);
      const run = await runCli(['build', header, ...(c.makeDir ? ['--make-dir', c.makeDir(tree)] : []), '--json']);
      const json = parseJson<BuildJson>(run);
      assert.notEqual(run.code, 0, `built anyway: ${describeRun(run)}`);
      assert.equal(json?.ok, false, describeRun(run));
      assert.match(`${json?.failure ?? ''}\n${run.stderr}`, /1\.19/, describeRun(run));
      assert.ok(!fs.existsSync(header.replace(/\.h$/, '.o')), 'an object was written');
    });
  }
});
