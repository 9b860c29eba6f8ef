// Results that stay true: a verifier diagnostic turns stale (Information, "(stale: edited since the verify)") when its
// header is edited, and the next verify replaces it; the diagnostics a verify put in the landing program go away on
// the next verify of the same header; the status item follows the active editor and keeps each header's result; a
// failed build clears the verify result; a header with tail-called stages shows its entry program's figures.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, lineOf, openFile, requestScreenshot, showProblems, waitForActivation, waitForDiagnostics, waitForEvent, workspacePath, workspaceUri } from '../util';

// Test-only view of the extension's API (src/extension/main.ts, src/extension/verify/results.ts).
interface ResultStatus {
  visible: boolean;
  header?: string;
  kind?: string;
  stale?: boolean;
  text: string;
  tooltip: string;
}
interface Api {
  results: { status: ResultStatus; onDidChangeStatus: vscode.Event<ResultStatus> };
}
interface VerifyResultShape {
  verdict: string;
  problem?: { kind: string; message: string };
  programs?: { name: string | null; insnsProcessed: number; stackDepth: string | null }[];
}
interface BuildResultShape {
  ok: boolean;
}

const STALE_PREFIX = '(stale: edited since the verify) ';
const VERIFIER = 'bpf-verifier';

// In bpf/custom/ (the workspace's bpf/custom folder: its own Makefile and landing program).
const NULL_DEREF = 'results_null_deref.h';
const LANDING_FAULT = 'results_landing_fault.h';
const BREAKS = 'results_breaks.h';

const HEADERS: Record<string, string> = {
  [NULL_DEREF]: `/* A map value used without its NULL check: the verifier rejects the marked line. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} results_null_map __section_maps_btf;

static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
	__u64 *bytes = map_lookup_elem(&results_null_map, &identity);

	*bytes += ctx_full_len(ctx); /* RESULTS-FAULT */
}
`,
  [LANDING_FAULT]: `/* The landing program's verdict read through a bad pointer: the verifier stops in bpf_custom.c. */
#undef CUSTOM_META_RET
#define CUSTOM_META_RET(meta) (*(int *)(unsigned long)(meta)) /* LANDING-FAULT */

static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
	(void)ctx;
	(void)identity;
}
`,
  [BREAKS]: `/* Builds and verifies, until the test breaks it. */
static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
	(void)ctx;
	(void)identity;
}
`,
};

describe('results: stale verdicts and the per-file status item', function () {
  this.timeout(120_000);
  let api: Api;

  const header = (name: string) => workspacePath('bpf', 'custom', name);
  const verify = async (target: string | vscode.Uri) =>
    (await vscode.commands.executeCommand('ciliumCustom.verify', typeof target === 'string' ? vscode.Uri.file(target) : target)) as VerifyResultShape;
  const verifierDiagnostics = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === VERIFIER);
  const statusWhere = (predicate: (s: ResultStatus) => boolean, what: string) =>
    waitForEvent(api.results.onDidChangeStatus, {
      predicate,
      check: () => (predicate(api.results.status) ? api.results.status : undefined),
      description: () => `the status item: ${what} (now ${JSON.stringify(api.results.status)})`,
    });

  before(async () => {
    await waitForActivation();
    api = getExtension().exports as Api;
    for (const [name, text] of Object.entries(HEADERS)) fs.writeFileSync(header(name), text);
  });

  after(async () => {
    // Nothing is left dirty (closing would ask), and the fixture files go.
    for (const document of vscode.workspace.textDocuments) if (document.isDirty) await document.save();
    await closeAllEditors();
    for (const name of Object.keys(HEADERS)) {
      fs.rmSync(header(name), { force: true });
      fs.rmSync(header(name).replace(/\.h$/, '.o'), { force: true });
    }
  });

  it("marks a verifier diagnostic stale when its header is edited, on the line it followed, until the next verify", async () => {
    const editor = await openFile(header(NULL_DEREF));
    const uri = editor.document.uri;
    const line = lineOf(editor.document, 'RESULTS-FAULT');
    assert.equal((await verify(uri)).verdict, 'rejected');
    const [fresh] = await waitForDiagnostics(uri, { source: VERIFIER });
    assert.equal(fresh.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(fresh.range.start.line, line);
    let status = await statusWhere((s) => s.header === uri.fsPath && s.kind === 'rejected', 'rejected');
    assert.equal(status.stale, false);

    // Two lines above the fault: the diagnostic moves with its line, turns into information and says why.
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '/* edited after the verify */\n/* one more line */\n'));
    const [stale] = await waitForDiagnostics(uri, { source: VERIFIER, predicate: (list) => list.length === 1 && list[0].message.startsWith(STALE_PREFIX) });
    assert.equal(stale.severity, vscode.DiagnosticSeverity.Information);
    assert.equal(stale.range.start.line, line + 2, 'the stale diagnostic follows its line');
    assert.ok(stale.message.includes(fresh.message), 'the explanation and the fix are kept');
    status = await statusWhere((s) => s.header === uri.fsPath && s.stale === true, 'stale');
    assert.match(status.text, /\(stale\)/);
    assert.match(status.tooltip, /edited since the verify/i);

    await showProblems();
    await requestScreenshot('stale-diagnostic');

    // The fix: the next verify (which saves first) replaces the stale diagnostic with the truth.
    const faultLine = lineOf(editor.document, 'RESULTS-FAULT');
    await editor.edit((edit) => edit.replace(editor.document.lineAt(faultLine).range, '\tif (bytes) /* RESULTS-FIXED */\n\t\t*bytes += ctx_full_len(ctx);'));
    assert.equal((await verify(uri)).verdict, 'accepted');
    assert.deepEqual(verifierDiagnostics(uri), []);
    status = await statusWhere((s) => s.header === uri.fsPath && s.kind === 'accepted', 'accepted');
    assert.equal(status.stale, false);
    assert.match(status.text, /verified: \d+ insns/);
  });

  it('replaces, on the next verify of the same header, what its last verify put in the landing program', async () => {
    const uri = vscode.Uri.file(header(LANDING_FAULT));
    const landing = workspaceUri('bpf', 'custom', 'bpf_custom.c');
    assert.equal((await verify(uri)).verdict, 'rejected');
    const first = await waitForDiagnostics(landing, { source: VERIFIER });
    assert.equal(first.length, 1, JSON.stringify(first.map((d) => d.message)));
    // Rebuilt, as after an edit on disk: a verify that needs no build takes the landing program from the bundled SDK
    // (core/verify/verifyHeader.ts landingFiles), not from this folder.
    const later = Date.now() / 1000 + 2;
    fs.utimesSync(uri.fsPath, later, later);
    assert.equal((await verify(uri)).verdict, 'rejected');
    assert.equal(verifierDiagnostics(landing).length, 1, 'no pile-up in the included file');

    // Editing the header makes its diagnostic in the landing program stale too.
    const editor = await openFile(uri.fsPath);
    const faultLine = lineOf(editor.document, 'LANDING-FAULT');
    await editor.edit((edit) => edit.delete(editor.document.lineAt(faultLine).rangeIncludingLineBreak));
    await editor.edit((edit) => edit.delete(editor.document.lineAt(faultLine - 1).rangeIncludingLineBreak));
    const [stale] = await waitForDiagnostics(landing, { source: VERIFIER, predicate: (list) => list.length === 1 && list[0].message.startsWith(STALE_PREFIX) });
    assert.equal(stale.severity, vscode.DiagnosticSeverity.Information);

    assert.equal((await verify(uri)).verdict, 'accepted');
    assert.deepEqual(verifierDiagnostics(landing), [], 'the accepted verify clears the landing program');
    assert.deepEqual(verifierDiagnostics(uri), []);
  });

  it('shows the active editor\'s result, keeps each header\'s, and hides for a file without one', async () => {
    const bytecount = workspacePath('programs', 'bytecount.h');
    const counter = workspacePath('bpf', 'custom', 'counter.h');
    await openFile(bytecount);
    assert.equal((await verify(bytecount)).verdict, 'accepted');
    await statusWhere((s) => s.header === bytecount && s.kind === 'accepted', 'bytecount.h verified');

    await openFile(counter);
    await statusWhere((s) => !s.visible || s.header === counter, 'not bytecount.h once counter.h is active');
    assert.equal(((await vscode.commands.executeCommand('ciliumCustom.build')) as BuildResultShape).ok, true);
    const built = await statusWhere((s) => s.header === counter && s.kind === 'built', 'counter.h built');
    assert.match(built.text, /counter\.h built/);

    await openFile(bytecount);
    const back = await statusWhere((s) => s.header === bytecount, 'bytecount.h again');
    assert.equal(back.kind, 'accepted', 'its own result, not the last one');
    assert.match(back.text, /bytecount\.h verified/);

    await openFile(workspacePath('bpf', 'custom', 'Makefile'));
    await statusWhere((s) => !s.visible, 'hidden for the Makefile');

    await openFile(counter);
    assert.equal((await statusWhere((s) => s.header === counter, 'counter.h again')).kind, 'built');
  });

  it('clears the verify result of a header whose build then fails', async () => {
    const editor = await openFile(header(BREAKS));
    const uri = editor.document.uri;
    assert.equal((await verify(uri)).verdict, 'accepted');
    await statusWhere((s) => s.header === uri.fsPath && s.kind === 'accepted', 'accepted');
    await editor.edit((edit) => edit.insert(new vscode.Position(editor.document.lineCount, 0), 'this does not compile;\n'));
    await statusWhere((s) => s.header === uri.fsPath && s.stale === true, 'stale after the edit');
    assert.equal(((await vscode.commands.executeCommand('ciliumCustom.build', uri)) as BuildResultShape).ok, false);
    const failed = await statusWhere((s) => s.header === uri.fsPath && s.kind === 'build-failed', 'build failed');
    assert.doesNotMatch(failed.text, /verified/);
    assert.equal(failed.stale, false);
    // Verifying now fails at the build too: the status still says so, with no verdict of an older program.
    const result = await verify(uri);
    assert.equal(result.problem?.kind, 'build-failed');
    assert.equal(api.results.status.kind, 'build-failed');
    // Leave it building again for the suites after this one.
    await editor.edit((edit) => edit.delete(editor.document.lineAt(editor.document.lineCount - 2).rangeIncludingLineBreak));
    await editor.document.save();
  });

  it("shows the entry program's figures for a header with tail-called stages, and the largest stage", async () => {
    const tail = workspacePath('programs', 'tail_context.h');
    await openFile(tail);
    const result = await verify(tail);
    assert.equal(result.verdict, 'accepted', JSON.stringify(result.problem));
    const programs = result.programs ?? [];
    assert.equal(programs.length, 3, JSON.stringify(programs));
    assert.equal(programs[0].name, 'custom_hook', 'the landing program is loaded first');
    const entry = programs[0].insnsProcessed;
    const largest = Math.max(...programs.map((p) => p.insnsProcessed));
    const status = await statusWhere((s) => s.header === tail && s.kind === 'accepted', 'tail_context.h verified');
    assert.ok(status.text.includes(`verified: ${entry} insns`), `${status.text}: the entry program's ${entry} instructions`);
    assert.ok(status.text.includes(`3 programs, max ${largest} insns`), status.text);
    assert.match(status.tooltip, /tail_context_stage2/);
  });
});
