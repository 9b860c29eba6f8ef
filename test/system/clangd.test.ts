// Debian's clangd (14) with the compile_commands.json we generate: `clangd --check=<header>` parses the header with
// our entry, so a correct bundled example has no diagnostics and a broken header has its error on the right line.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateCompileCommands } from '../../src/core/compileCommands/generate';
import { copyInto, expectation, HEADER_FIXTURES, SDK_DIR, tempDir } from './helpers/fixtures';
import { hasCommand, requireOrSkip, requireToolchain } from './helpers/require';

interface CheckResult {
  /** `[name] Line N: message` diagnostics clangd found in the file. */
  diagnostics: { name: string; line: number; message: string }[];
  commandFromCdb: string | undefined;
  output: string;
}

function clangdCheck(header: string, cdbDir: string): CheckResult {
  // LANG=C: the output is parsed. No --check-lines exists in clangd 14; the per-token feature checks are harmless.
  const run = spawnSync('clangd', [`--check=${header}`, `--compile-commands-dir=${cdbDir}`], {
    encoding: 'utf8',
    env: { ...process.env, LANG: 'C' },
    timeout: 60_000,
  });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const diagnostics = [...output.matchAll(/^E\[[^\]]*\] \[([^\]]+)\] Line (\d+): (.*)$/gm)].map((m) => ({
    name: m[1],
    line: Number(m[2]),
    message: m[3],
  }));
  const commandFromCdb = /Compile command from CDB is: (.*)$/m.exec(output)?.[1];
  return { diagnostics, commandFromCdb, output };
}

describe('clangd with the generated compile_commands.json', function () {
  let tmp: { dir: string; remove: () => void };
  let folder: string;

  beforeEach(function () {
    requireToolchain(this);
    requireOrSkip(this, hasCommand('clangd'), 'clangd is not installed (apt-get install clangd)');
    tmp = tempDir('cilium-custom-clangd-');
    // A space in the folder name: the entries are argv arrays, nothing is split.
    folder = path.join(tmp.dir, 'my programs');
    fs.mkdirSync(folder);
  });

  afterEach(() => tmp?.remove());

  it('applies the entry to a correct bundled example and reports no diagnostics', () => {
    for (const name of ['tail_context.h', 'bytecount.h']) copyInto(path.join(SDK_DIR, 'examples', name), folder);
    const result = generateCompileCommands({ folder, bundledSdkDir: SDK_DIR });
    assert.equal(result.entries.length, 2);
    for (const name of ['tail_context.h', 'bytecount.h']) {
      const check = clangdCheck(path.join(folder, name), folder);
      assert.ok(check.commandFromCdb, `clangd did not take the command from our database:\n${check.output}`);
      assert.match(check.commandFromCdb, /--target=bpf/);
      assert.match(check.commandFromCdb, /-include sdk\/prelude\.h/);
      assert.deepEqual(check.diagnostics, [], `${name}: clangd reported diagnostics:\n${check.output}`);
    }
  });

  it('reports a broken header\'s error on its line', () => {
    const header = copyInto(path.join(HEADER_FIXTURES, 'syntax_error.h'), folder);
    const expected = expectation(header, 'build');
    // And a header whose error position is unambiguous.
    const undeclared = path.join(folder, 'undeclared.h');
    fs.writeFileSync(
      undeclared,
      ['static __always_inline', 'void custom_prog(const struct __ctx_buff *ctx, __u32 identity)', '{', '\tlenn += ctx->len;', '}', ''].join('\n'),
    );
    generateCompileCommands({ folder, bundledSdkDir: SDK_DIR });

    const check = clangdCheck(header, folder);
    assert.ok(check.commandFromCdb, check.output);
    const error = check.diagnostics.find((d) => d.name === 'expected_semi_after_expr');
    assert.ok(error, `no missing-';' error from clangd:\n${check.output}`);
    assert.ok(expected.message && error.message.includes(expected.message), error.message);
    // clang puts "expected ';'" just past the last token (line 13); clangd 14 anchors that diagnostic's range on
    // the next token, which is on the following line. Either way it is the statement the fixture marks.
    assert.ok(error.line === expected.line || error.line === expected.line! + 1, `error on line ${error.line}, expected ${expected.line}`);

    const check2 = clangdCheck(undeclared, folder);
    assert.deepEqual(
      check2.diagnostics.map((d) => [d.name, d.line]),
      [['undeclared_var_use', 4]],
      check2.output,
    );
  });

  it('reports errors without the database (the entry is what makes the SDK visible)', () => {
    const header = copyInto(path.join(SDK_DIR, 'examples', 'bytecount.h'), folder);
    const check = clangdCheck(header, folder);
    assert.ok(check.diagnostics.length > 0, `expected errors without compile_commands.json:\n${check.output}`);
  });
});
