// Load failures that are not the verifier's: libbpf refusing the object before the verifier runs (an extern defined
// nowhere) or after it accepted everything (a PROG_ARRAY initialised beyond max_entries). Each is its own kind of
// diagnostic (source "libbpf"), on the line it concerns, with its own fix, and never the verifier's register advice.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { closeAllEditors, lineOf, openFile, waitForActivation, workspacePath, requireOrSkip } from '../util';

const DIR = 'loader-errors';
const PRELUDE = '#include <bpf/ctx/skb.h>\n#include <bpf/api.h>\n\n';
const HEADERS: Record<string, string> = {
  'uses_extern.h':
    PRELUDE +
    'extern int nowhere_defined(__u32 x); /* LOADER-LINE */\n\n' +
    'static __always_inline void custom_prog(const struct __ctx_buff *ctx, __u32 identity)\n{\n\t(void)ctx;\n\tif (nowhere_defined(identity))\n\t\treturn;\n}\n',
  'slot_too_far.h':
    PRELUDE +
    'static __always_inline void custom_prog(const struct __ctx_buff *ctx, __u32 identity) { (void)ctx; (void)identity; }\n\n' +
    '__section("slot_too_far/stage") int far_stage(struct __sk_buff *ctx) { return 0; }\n' +
    'struct {\n\t__uint(type, BPF_MAP_TYPE_PROG_ARRAY);\n\t__uint(max_entries, 2);\n\t__uint(key_size, sizeof(__u32));\n' +
    '\t__array(values, int (struct __sk_buff *));\n} far_jmp __section(".maps") = {\n\t.values = { [5] = (void *)&far_stage }, /* LOADER-LINE */\n};\n',
};

describe('loader failures are their own kind of diagnostic', function () {
  this.timeout(120_000);

  before(async function () {
    requireOrSkip(this, process.getuid?.() === 0, 'verifying needs root');
    await waitForActivation();
    fs.mkdirSync(workspacePath(DIR), { recursive: true });
    for (const [name, text] of Object.entries(HEADERS)) fs.writeFileSync(workspacePath(DIR, name), text);
  });

  after(async () => {
    await closeAllEditors();
    fs.rmSync(workspacePath(DIR), { recursive: true, force: true });
  });

  for (const [name, kind] of [
    ['uses_extern.h', /declared extern but defined nowhere/],
    ['slot_too_far.h', /slot 5 of the PROG_ARRAY far_jmp \(E2BIG\)/],
  ] as const) {
    it(`${name}: a libbpf diagnostic on the line it concerns, not a verifier rejection`, async () => {
      const header = workspacePath(DIR, name);
      const editor = await openFile(header);
      const result = (await vscode.commands.executeCommand('ciliumCustom.verify', vscode.Uri.file(header))) as { verdict: string; problem?: { kind: string } };
      assert.equal(result.problem?.kind, 'loader-failed', JSON.stringify(result));
      const diagnostics = vscode.languages.getDiagnostics(vscode.Uri.file(header));
      const loader = diagnostics.filter((d) => d.source === 'libbpf');
      assert.equal(loader.length, 1, JSON.stringify(diagnostics.map((d) => [d.source, d.message])));
      assert.equal(loader[0].range.start.line, lineOf(editor.document, 'LOADER-LINE'), 'on the line it concerns');
      assert.match(loader[0].message, kind);
      assert.match(loader[0].message, /Fix: /);
      assert.equal(loader[0].code, 'loader-failed');
      assert.ok(!diagnostics.some((d) => d.source === 'bpf-verifier'), 'no verifier diagnostic');
      assert.doesNotMatch(loader[0].message, /register/i, 'no register-state advice');
    });
  }
});
