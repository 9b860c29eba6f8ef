// `npm run test:electron`: the same VS Code host suites (out/test/vscode/index.js) in desktop VS Code, through
// @vscode/test-electron. It downloads VS Code into .vscode-test/, so it only works with internet access; on the
// project's machines and in CI use `npm run test:vscode` (scripts/vscode-host/run.mjs) instead.
//
// Environment: CILIUM_CUSTOM_VSCODE_VERSION ('stable' by default; e.g. 1.100.3, the minimum engines.vscode),
// CILIUM_CUSTOM_TEST_GREP (only tests whose full title matches).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runTests } from '@vscode/test-electron';

/** out/scripts/vscode-host -> repository root. */
const repoRoot = path.resolve(__dirname, '..', '..', '..');

interface FixtureModule {
  createFixtureWorkspace(dir: string, runConfig?: { resultsFile?: string; grep?: string }): string;
}

interface ResultsSummary {
  passed: number;
  failed: number;
  pending: number;
}

async function main(): Promise<number> {
  const testsModule = path.join(repoRoot, 'out', 'test', 'vscode', 'index.js');
  if (!existsSync(testsModule) || !existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    console.error('test:electron: run `npm run build && npx tsc -p .` first');
    return 2;
  }
  const fixture = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'vscode-host', 'fixture.mjs')).href)) as FixtureModule;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-electron-'));
  const resultsFile = path.join(repoRoot, 'test-results', 'vscode-results-electron.json');
  rmSync(resultsFile, { force: true });
  const grep = process.env.CILIUM_CUSTOM_TEST_GREP;
  try {
    const workspace = fixture.createFixtureWorkspace(path.join(tmp, 'workspace'), { resultsFile, ...(grep ? { grep } : {}) });
    try {
      await runTests({
        version: process.env.CILIUM_CUSTOM_VSCODE_VERSION ?? 'stable',
        extensionDevelopmentPath: repoRoot,
        extensionTestsPath: testsModule,
        extensionTestsEnv: { CILIUM_CUSTOM_TEST_RESULTS: resultsFile },
        launchArgs: [
          workspace,
          '--disable-extensions',
          '--disable-workspace-trust',
          '--skip-welcome',
          '--skip-release-notes',
          '--user-data-dir',
          path.join(tmp, 'user-data'),
        ],
      });
    } catch (error) {
      // runTests rejects both when VS Code cannot be downloaded or started and when tests fail; the results file
      // tells the two apart.
      if (!existsSync(resultsFile)) {
        console.error(`test:electron: VS Code did not run the tests: ${error instanceof Error ? error.message : String(error)}`);
        return 2;
      }
    }
    if (!existsSync(resultsFile)) {
      console.error('test:electron: VS Code exited without writing results');
      return 2;
    }
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as ResultsSummary;
    const skipped = results.pending > 0 ? `, ${results.pending} skipped` : '';
    console.log(`${results.passed} passed, ${results.failed} failed${skipped}`);
    return results.failed > 0 || results.passed + results.failed === 0 ? 1 : 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
