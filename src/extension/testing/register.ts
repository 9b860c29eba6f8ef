// Packet test cases in the Testing view: a TestController whose items are the workspace's *.test.json files (under
// their header's name) and their cases, two run profiles (Run; Run with ns/packet, which benches each case), the
// bench CodeLens on custom_prog(), "Run Test Cases" for the palette and the lens, and ciliumCustom.test.runOnSave.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TEST_FILE_SUFFIX } from '../../core/progtest/testFile';
import type { CiliumCustomContext } from '../context';
import { benchSummary, BenchLens } from './benchLens';
import { runTestRequest, type ProgTestRunRecord } from './testRun';
import { TEST_FILE_GLOB, TestTree } from './testTree';

export interface ProgTestsApi {
  controller: vscode.TestController;
  /** Finds the workspace's test files again (the Test Explorer does it when first shown). */
  discover(): Promise<void>;
  /** The last run's outcomes (the Testing API keeps its results to itself). */
  readonly lastRun: ProgTestRunRecord | undefined;
  readonly onDidStartRun: vscode.Event<void>;
  readonly onDidFinishRun: vscode.Event<ProgTestRunRecord>;
  lens: BenchLens;
}

interface ProgTests extends ProgTestsApi {
  tree: TestTree;
  execute(request: vscode.TestRunRequest, token: vscode.CancellationToken, bench: boolean): Promise<ProgTestRunRecord>;
}

/** The controller of each extension context, for the command table's handler. */
const registered = new WeakMap<CiliumCustomContext, ProgTests>();

export function registerProgTests(ctx: CiliumCustomContext): ProgTestsApi {
  const controller = ctx.own(vscode.tests.createTestController('ciliumCustom.progTests', 'Cilium Custom Programs'));
  const tree = new TestTree(controller);
  const lens = ctx.own(new BenchLens());
  const startedRun = ctx.own(new vscode.EventEmitter<void>());
  const finished = ctx.own(new vscode.EventEmitter<ProgTestRunRecord>());
  let lastRun: ProgTestRunRecord | undefined;
  const execute = async (request: vscode.TestRunRequest, token: vscode.CancellationToken, bench: boolean) => {
    startedRun.fire();
    const record = await runTestRequest({ ctx, controller, tree }, request, token, bench);
    if (bench) {
      for (const result of record.results) {
        const summary = benchSummary(result, record.kernel);
        if (summary) lens.record(result.header, summary);
      }
    }
    lastRun = record;
    finished.fire(record);
    return record;
  };
  const profile = (bench: boolean) => async (request: vscode.TestRunRequest, token: vscode.CancellationToken) => {
    await execute(request, token, bench);
  };
  controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, profile(false), true);
  controller.createRunProfile('Run with ns/packet', vscode.TestRunProfileKind.Run, profile(true), false);
  controller.resolveHandler = async (item) => {
    if (!item) await tree.discoverAll();
  };
  controller.refreshHandler = () => tree.discoverAll();

  const watcher = ctx.own(vscode.workspace.createFileSystemWatcher(TEST_FILE_GLOB));
  ctx.own(watcher.onDidCreate((uri) => tree.update(uri.fsPath)));
  ctx.own(watcher.onDidChange((uri) => tree.update(uri.fsPath)));
  ctx.own(watcher.onDidDelete((uri) => tree.remove(uri.fsPath)));
  ctx.own(vscode.languages.registerCodeLensProvider([{ language: 'c', scheme: 'file' }, { language: 'cpp', scheme: 'file' }], lens));
  ctx.own(
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (!ctx.config.testRunOnSave || document.uri.scheme !== 'file') return;
      const file = document.uri.fsPath;
      if (file.endsWith(TEST_FILE_SUFFIX)) tree.update(file);
      const item = file.endsWith(TEST_FILE_SUFFIX) ? controller.items.get(file) : file.endsWith('.h') ? tree.itemForHeader(file) : undefined;
      if (!item) return;
      const source = new vscode.CancellationTokenSource();
      void execute(new vscode.TestRunRequest([item]), source.token, false).finally(() => source.dispose());
    }),
  );
  // Finding the files costs a workspace search: only once the window has a custom program.
  ctx.whenInScope(() => void tree.discoverAll());

  const tests: ProgTests = {
    controller,
    tree,
    lens,
    execute,
    discover: () => tree.discoverAll(),
    get lastRun() {
      return lastRun;
    },
    onDidStartRun: startedRun.event,
    onDidFinishRun: finished.event,
  };
  registered.set(ctx, tests);
  return tests;
}

/**
 * "Cilium Custom: Run Test Cases": the cases of a header (or of a test file) through the Testing API, so the results
 * land in the Test Results view; `{ bench: true }` also times them (the CodeLens re-runs it so).
 */
export async function runTestsCommand(ctx: CiliumCustomContext, arg?: unknown, options?: unknown): Promise<ProgTestRunRecord | undefined> {
  const tests = registered.get(ctx);
  if (!tests) return undefined;
  const bench = typeof options === 'object' && options !== null && (options as { bench?: unknown }).bench === true;
  const uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg !== '' ? vscode.Uri.file(arg) : vscode.window.activeTextEditor?.document.uri;
  const file = uri?.scheme === 'file' ? uri.fsPath : undefined;
  if (!file || !(file.endsWith('.h') || file.endsWith(TEST_FILE_SUFFIX))) {
    void vscode.window.showErrorMessage('Cilium Custom: open a custom-program header or its .test.json first.');
    return undefined;
  }
  const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
  if (open?.isDirty) await open.save();
  const testFile = file.endsWith('.h') ? file.slice(0, -2) + TEST_FILE_SUFFIX : file;
  tests.tree.update(testFile);
  const item = file.endsWith('.h') ? (tests.tree.itemForHeader(file) ?? tests.controller.items.get(testFile)) : tests.controller.items.get(file);
  if (!item) {
    void vscode.window.showErrorMessage(`Cilium Custom: ${path.basename(file)} has no test cases yet: write ${path.basename(testFile)} beside it (snippet "cilium-custom-tests").`);
    return undefined;
  }
  const title = `${bench ? 'Benchmarking' : 'Testing'} ${item.label} on ${ctx.targets.active().name}`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (_progress, token) =>
    tests.execute(new vscode.TestRunRequest([item]), token, bench),
  );
}
