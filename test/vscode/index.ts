// The tests module of the VS Code host tier. Both launchers load this file as `extensionTestsPath`:
//   - scripts/vscode-host/run.mjs (code-server's VS Code server + headless Chromium; `npm run test:vscode`);
//   - scripts/vscode-host/electron.ts (@vscode/test-electron on a desktop with internet; `npm run test:electron`).
// VS Code calls `run()` inside the extension host once the extension under development is loaded.
//
// Results go to a JSON file (see RunConfig): the harness reads that file rather than the host's exit code or
// output, which it cannot see reliably through a browser.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export type TestState = 'passed' | 'failed' | 'pending';

export interface TestRecord {
  title: string;
  fullTitle: string;
  state: TestState;
  durationMs?: number;
  /** The failure's message (failed tests and hooks only). */
  error?: string;
  stack?: string;
}

export interface TestResults {
  passed: number;
  failed: number;
  pending: number;
  tests: TestRecord[];
  startedAt: string;
  finishedAt: string;
  /** How the results path was found: see RunConfig. */
  resultsChannel: 'env' | 'workspace-marker' | 'default';
  /** Problems of the harness itself (not test failures), e.g. staging the screenshot failed. */
  warnings: string[];
  host: { vscodeVersion: string; appHost: string; uiKind: string; remoteName: string | null };
}

/**
 * What a launcher tells the tests module. The harness writes it to `.vscode/cilium-custom-test-run.json` in the
 * (throwaway) workspace, because environment variables of the launcher do not reliably reach a remote extension
 * host; `@vscode/test-electron` can pass `CILIUM_CUSTOM_TEST_RESULTS` (and `CILIUM_CUSTOM_TEST_GREP`) instead.
 */
export interface RunConfig {
  /** Where to write TestResults. Default: <extension root>/test-results/vscode-results.json. */
  resultsFile?: string;
  /** Only run tests whose full title matches this regular expression. */
  grep?: string;
  /**
   * Set when the launcher installed the packaged .vsix here (run.mjs --vsix): the suites of installed/ run, against
   * that copy, instead of those of suites/.
   */
  installedExtensionsDir?: string;
  /**
   * Which folder of suites (under test/vscode/) to run, when not the default (suites/, or installed/ with
   * installedExtensionsDir): e.g. headers-only/, whose workspace is a folder of headers alone.
   */
  suites?: string;
  /** Set when the launcher takes a screenshot: the workbench is staged, then run() waits for this file. */
  screenshot?: {
    ackFile: string;
    /** Workspace-relative file to show in an editor for the picture. */
    openFile?: string;
    /** Show the Problems panel for the picture. */
    showProblems?: boolean;
    timeoutMs?: number;
    /** Suites may ask for pictures of their own mid-run (util.requestScreenshot): NAME.request here, NAME.done back. */
    requestDir?: string;
  };
}

let currentRunConfig: RunConfig = {};

/** The launcher's configuration of the current run (for util helpers). */
export function runConfig(): RunConfig {
  return currentRunConfig;
}

export const RUN_CONFIG_FILE = path.join('.vscode', 'cilium-custom-test-run.json');
/** out/test/vscode -> repository root. */
const extensionRoot = path.resolve(__dirname, '..', '..', '..');
/** The suites a run config selects: a folder of out/test/vscode/ (never outside it). */
function suitesDirOf(config: RunConfig): string {
  const name = config.suites ?? (config.installedExtensionsDir ? 'installed' : 'suites');
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`run config: suites must name a folder of test/vscode, not ${JSON.stringify(name)}`);
  return path.join(__dirname, name);
}

export async function run(): Promise<void> {
  const startedAt = new Date().toISOString();
  const { config, channel } = readRunConfig();
  currentRunConfig = config;
  const resultsFile = config.resultsFile ?? path.join(extensionRoot, 'test-results', 'vscode-results.json');
  const tests: TestRecord[] = [];
  const warnings: string[] = [];

  try {
    await runMocha(config, tests, warnings);
  } catch (error) {
    // Suites that fail to load (a throw at module level, a missing module) are a failure, not "no tests".
    tests.push({ title: 'loading the suites', fullTitle: 'loading the suites', state: 'failed', ...describeError(error) });
  }

  if (config.screenshot) await stageWorkbench(config.screenshot, warnings);

  const count = (state: TestState) => tests.filter((t) => t.state === state).length;
  const results: TestResults = {
    passed: count('passed'),
    failed: count('failed'),
    pending: count('pending'),
    tests,
    startedAt,
    finishedAt: new Date().toISOString(),
    resultsChannel: channel,
    warnings,
    host: {
      vscodeVersion: vscode.version,
      appHost: vscode.env.appHost,
      uiKind: vscode.UIKind[vscode.env.uiKind],
      remoteName: vscode.env.remoteName ?? null,
    },
  };
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  // Write then rename would be nicer, but the harness only parses the file once it is complete JSON.
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');

  if (config.screenshot) await waitForFile(config.screenshot.ackFile, config.screenshot.timeoutMs ?? 60_000);

  if (results.failed > 0) throw new Error(`${results.failed} of ${tests.length} VS Code host tests failed`);
  if (tests.length === 0) throw new Error('no VS Code host tests ran');
}

function readRunConfig(): { config: RunConfig; channel: TestResults['resultsChannel'] } {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') continue;
    const file = path.join(folder.uri.fsPath, RUN_CONFIG_FILE);
    if (existsSync(file)) {
      const config = JSON.parse(readFileSync(file, 'utf8')) as RunConfig;
      if (process.env.CILIUM_CUSTOM_TEST_RESULTS) return { config: { ...config, resultsFile: process.env.CILIUM_CUSTOM_TEST_RESULTS }, channel: 'env' };
      return { config, channel: config.resultsFile ? 'workspace-marker' : 'default' };
    }
  }
  const config: RunConfig = {};
  if (process.env.CILIUM_CUSTOM_TEST_RESULTS) config.resultsFile = process.env.CILIUM_CUSTOM_TEST_RESULTS;
  if (process.env.CILIUM_CUSTOM_TEST_GREP) config.grep = process.env.CILIUM_CUSTOM_TEST_GREP;
  return { config, channel: config.resultsFile ? 'env' : 'default' };
}

function runMocha(config: RunConfig, tests: TestRecord[], warnings: string[]): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  if (config.grep) mocha.grep(new RegExp(config.grep));
  for (const file of findSuites(suitesDirOf(config), warnings)) mocha.addFile(file);

  return new Promise((resolve, reject) => {
    let runner: Mocha.Runner;
    try {
      runner = mocha.run(() => resolve());
    } catch (error) {
      reject(error);
      return;
    }
    runner.on('pass', (test) => tests.push(record(test, 'passed')));
    runner.on('pending', (test) => tests.push(record(test, 'pending')));
    // Also fires for failing hooks (their titles say which hook), so a broken before() is never silent.
    runner.on('fail', (test, error) => tests.push({ ...record(test, 'failed'), ...describeError(error) }));
  });
}

/**
 * The compiled suites under `dir`, skipping any whose TypeScript source is gone: tsc never deletes outputs, so a
 * removed or renamed suite would otherwise keep running from out/.
 */
function findSuites(dir: string, warnings: string[]): string[] {
  if (!existsSync(dir)) return [];
  const sourceDir = path.join(extensionRoot, 'test', 'vscode', path.basename(dir));
  const checkSources = existsSync(sourceDir);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js'))
    .filter((name) => {
      if (!checkSources || existsSync(path.join(sourceDir, name.replace(/\.js$/, '.ts')))) return true;
      warnings.push(`skipped ${name} of out/test/vscode/${path.basename(dir)}: its source is gone`);
      return false;
    })
    .map((name) => path.join(dir, name))
    .sort();
}

function record(test: Mocha.Runnable, state: TestState): TestRecord {
  const result: TestRecord = { title: test.title, fullTitle: test.fullTitle(), state };
  if (typeof test.duration === 'number') result.durationMs = test.duration;
  return result;
}

function describeError(error: unknown): { error: string; stack?: string } {
  if (error instanceof Error) return error.stack ? { error: error.message, stack: error.stack } : { error: error.message };
  return { error: String(error) };
}

/** Puts the workbench in the state the launcher's screenshot should show. Best effort: never fails the run. */
async function stageWorkbench(screenshot: NonNullable<RunConfig['screenshot']>, warnings: string[]): Promise<void> {
  try {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (screenshot.openFile && folder) {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, screenshot.openFile));
      await vscode.window.showTextDocument(document, { preview: false });
    }
    if (screenshot.showProblems) await vscode.commands.executeCommand('workbench.actions.view.problems');
  } catch (error) {
    warnings.push(`staging the screenshot failed: ${describeError(error).error}`);
  }
}

/** Waits for the launcher to create `file` (it does once the screenshot is taken); gives up quietly after timeoutMs. */
function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      if (existsSync(file) || Date.now() > deadline) resolve();
      else setTimeout(check, 100);
    };
    check();
  });
}
