// Creates the throwaway workspace the VS Code host tests open: test/fixtures/vscode-workspace, plus the repository's
// bundled SDK (bpf/Makefile, bpf/bpf_custom.c, bpf/include) copied into its bpf/custom/ so that it looks like a
// Cilium tree's bpf/custom folder. Builds in the tests then never dirty the repository.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'vscode-workspace');
/** A folder of custom-program headers and nothing else: no Makefile, no bpf_custom.c (the "headers-only" session). */
export const headersOnlyFixtureDir = path.join(repoRoot, 'test', 'fixtures', 'vscode-headers-only');
/** Where the run configuration goes inside the workspace; test/vscode/index.ts reads it (RUN_CONFIG_FILE). */
export const RUN_CONFIG_FILE = path.join('.vscode', 'cilium-custom-test-run.json');

const SDK_ENTRIES = ['Makefile', 'bpf_custom.c', 'include'];
const skipBuildOutputs = (source) => !/\.(o|ll)$/.test(source);

/**
 * Fills `dir` (created if needed) with the fixture workspace and returns it.
 * @param {string} dir
 * @param {object} [runConfig] the RunConfig of test/vscode/index.ts, written to .vscode/cilium-custom-test-run.json
 */
export function createFixtureWorkspace(dir, runConfig) {
  mkdirSync(dir, { recursive: true });
  cpSync(fixtureDir, dir, { recursive: true, filter: skipBuildOutputs });
  const custom = path.join(dir, 'bpf', 'custom');
  mkdirSync(custom, { recursive: true });
  for (const entry of SDK_ENTRIES) {
    const source = path.join(repoRoot, 'bpf', entry);
    if (!existsSync(source)) throw new Error(`the bundled SDK has no ${path.relative(repoRoot, source)}`);
    // The fixture's own files win over the SDK's.
    cpSync(source, path.join(custom, entry), { recursive: true, force: false, filter: skipBuildOutputs });
  }
  // A plain folder with no Makefile: its headers build through the SDK bundled with the extension.
  cpSync(path.join(repoRoot, 'bpf', 'examples'), path.join(dir, 'programs'), { recursive: true, filter: skipBuildOutputs });
  // Headers the verifier rejects, each with its expected line in a comment at the top.
  cpSync(path.join(repoRoot, 'test', 'fixtures', 'headers'), path.join(dir, 'faults'), {
    recursive: true,
    filter: (source) => skipBuildOutputs(source) && !/[/\\]slow$/.test(source),
  });
  writeRunConfig(dir, runConfig);
  return dir;
}

/**
 * Fills `dir` with the headers-only workspace: test/fixtures/vscode-headers-only as it is, nothing added but the run
 * configuration (in .vscode/, which holds no Makefile and no settings, so .h files open as VS Code's default, C++).
 */
export function createHeadersOnlyWorkspace(dir, runConfig) {
  mkdirSync(dir, { recursive: true });
  cpSync(headersOnlyFixtureDir, dir, { recursive: true, filter: skipBuildOutputs });
  writeRunConfig(dir, runConfig);
  return dir;
}

function writeRunConfig(dir, runConfig) {
  if (!runConfig) return;
  mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  writeFileSync(path.join(dir, RUN_CONFIG_FILE), JSON.stringify(runConfig, null, 2) + '\n');
}
