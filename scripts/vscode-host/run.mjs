// `npm run test:vscode`: runs test/vscode's suites in a real VS Code host without downloading VS Code.
//
// The VS Code server from the `code-server` devDependency (prepared once by prepare.mjs) serves the workbench on a
// free 127.0.0.1 port; headless Chromium (Debian's, driven by playwright-core) opens it with the extension under
// development and out/test/vscode/index.js as the tests module. The tests module writes its results to a file
// named in the workspace's run configuration; this script waits for it, takes a screenshot of the workbench,
// prints the results and always shuts the server and the browser down.
//
// A run has sessions, one after the other, each a fresh server, user-data dir, browser context and workspace (a
// window's activation can only be tested in a window nothing has activated yet):
//   main          the fixture workspace (test/fixtures/vscode-workspace + the SDK as bpf/custom) and the suites of
//                 test/vscode/suites/ (with --vsix: test/vscode/installed/);
//   headers-only  test/fixtures/vscode-headers-only, a folder of headers alone (no Makefile, no bpf_custom.c), and
//                 the suites of test/vscode/headers-only/ (both tiers: with --vsix, against the installed copy).
// The closing line counts the tests of every session: `N passed, N failed`.
//
// Usage: node scripts/vscode-host/run.mjs [--build] [--vsix FILE] [--session NAME]... [--grep REGEX] [--timeout SECONDS] [--show FILE] [--keep]
//   --build    run `npm run build` and `tsc -p .` first (otherwise dist/ and out/ must be built already)
//   --vsix     test the packaged extension instead: install FILE into the throwaway extensions directory with the
//              server's own --install-extension, load an empty runner extension for development, and run the
//              suites of test/vscode/installed/ (results and screenshots named vscode-vsix-*)
//   --session  only this session (main or headers-only; repeatable; default all)
//   --grep     only tests whose full title matches REGEX (a session where none matches counts nothing)
//   --timeout  give up waiting for a session's results after SECONDS (default 600, or $CILIUM_CUSTOM_VSCODE_TIMEOUT)
//   --show     workspace-relative file to show in an editor for the main session's screenshot (default bpf/custom/broken.h)
//   --keep     keep the temporary directory (workspaces, user data, logs) and print its path
// Environment: CHROMIUM_PATH (default /usr/bin/chromium).
// Outputs: test-results/vscode-results.json, test-results/vscode-workbench.png, test-results/vscode-host/*.log (main
// session); test-results/vscode-headers-only-{results.json,workbench.png}, test-results/vscode-host/headers-only/
// (headers-only session); test-results/vscode-NAME.png for each picture a suite asked for (util.requestScreenshot).

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createFixtureWorkspace, createHeadersOnlyWorkspace } from './fixture.mjs';
import { prepareVscodeServer, repoRoot } from './prepare.mjs';

const { values: args } = parseArgs({
  options: {
    build: { type: 'boolean', default: false },
    grep: { type: 'string' },
    timeout: { type: 'string', default: process.env.CILIUM_CUSTOM_VSCODE_TIMEOUT ?? '600' },
    show: { type: 'string', default: 'bpf/custom/broken.h' },
    keep: { type: 'boolean', default: false },
    vsix: { type: 'string' },
    session: { type: 'string', multiple: true },
  },
});
const vsixFile = args.vsix ? path.resolve(args.vsix) : undefined;
const outputName = vsixFile ? 'vscode-vsix' : 'vscode';
const timeoutMs = Number(args.timeout) * 1000;
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
const resultsDir = path.join(repoRoot, 'test-results');

/**
 * The sessions of a run, in order. `suites` is the folder of test/vscode/ the tests module runs (undefined: suites/,
 * or installed/ with --vsix); `outputs` prefixes the session's results, screenshot and log folder.
 */
const SESSIONS = [
  { name: 'main', createWorkspace: createFixtureWorkspace, suites: undefined, show: args.show, outputs: outputName, logDir: path.join(resultsDir, 'vscode-host') },
  {
    name: 'headers-only',
    createWorkspace: createHeadersOnlyWorkspace,
    suites: 'headers-only',
    show: 'unchecked_counter.h',
    outputs: `${outputName}-headers-only`,
    logDir: path.join(resultsDir, 'vscode-host', 'headers-only'),
  },
];
for (const name of args.session ?? []) {
  if (!SESSIONS.some((s) => s.name === name)) {
    console.error(`vscode-host: no session ${JSON.stringify(name)} (sessions: ${SESSIONS.map((s) => s.name).join(', ')})`);
    process.exit(2);
  }
}
const sessions = SESSIONS.filter((s) => !args.session || args.session.includes(s.name));
const extensionMain = path.join(repoRoot, 'dist', 'extension.js');
const testsModule = path.join(repoRoot, 'out', 'test', 'vscode', 'index.js');

class HarnessError extends Error {}

/** Everything that has to be undone, in reverse order, however the run ends. */
const cleanups = [];
let cleaning;
function shutdown() {
  cleaning ??= (async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`vscode-host: cleanup: ${error instanceof Error ? error.message : error}`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    console.error(`\nvscode-host: ${signal}: shutting down`);
    shutdown().finally(() => process.exit(128 + (os.constants.signals[signal] ?? 1)));
  });
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`\nvscode-host: FAILED: ${error instanceof HarnessError ? error.message : error?.stack ?? error}`);
  process.exitCode = 2;
} finally {
  await shutdown();
}

async function main() {
  const started = Date.now();
  if (args.build) {
    step('npm', ['run', '--silent', 'build']);
    step(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', repoRoot]);
  }
  checkBuilt();
  const host = await prepareVscodeServer();

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-vscode-'));
  cleanups.push(() => (args.keep ? console.log(`vscode-host: kept ${tmp}`) : rmSync(tmp, { recursive: true, force: true })));
  // One extensions directory for every session: the .vsix is installed once.
  const extensionsDir = path.join(tmp, 'extensions');
  mkdirSync(extensionsDir);
  let developmentPath = repoRoot;
  if (vsixFile) {
    if (!existsSync(vsixFile)) throw new HarnessError(`no ${vsixFile}: run \`npm run package\` first`);
    const installData = path.join(tmp, 'install-data');
    step(process.execPath, [host.serverMain, '--install-extension', vsixFile, '--extensions-dir', extensionsDir, '--user-data-dir', installData, '--server-data-dir', installData, '--accept-server-license-terms']);
    developmentPath = createRunnerExtension(path.join(tmp, 'runner'));
  }

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    // This script's own handlers close the browser after the server; see shutdown().
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  cleanups.push(() => withTimeout(browser.close(), 10_000, 'closing the browser'));

  const done = [];
  for (const session of sessions) {
    console.log(`vscode-host: session ${session.name}`);
    done.push({ session, results: await withCleanups(() => runSession(session, { host, browser, tmp: path.join(tmp, session.name), extensionsDir, developmentPath })) });
  }
  return report(done, Date.now() - started);
}

/** Runs `fn`, then undoes (in reverse order) what it pushed onto `cleanups`, however it ends. */
async function withCleanups(fn) {
  const mark = cleanups.length;
  try {
    return await fn();
  } finally {
    for (const cleanup of cleanups.splice(mark).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`vscode-host: cleanup: ${error instanceof Error ? error.message : error}`);
      }
    }
  }
}

/** One window on one workspace with a fresh server and user-data dir; returns the tests module's results. */
async function runSession(session, { host, browser, tmp, extensionsDir, developmentPath }) {
  const logDir = session.logDir;
  const screenshotFile = path.join(resultsDir, `${session.outputs}-workbench.png`);
  const resultsCopy = path.join(resultsDir, `${session.outputs}-results.json`);
  mkdirSync(logDir, { recursive: true });
  rmSync(screenshotFile, { force: true });
  rmSync(resultsCopy, { force: true });
  const dataDir = path.join(tmp, 'data');
  const workspace = path.join(tmp, 'workspace');
  const resultsFile = path.join(tmp, 'results.json');
  const ackFile = path.join(tmp, 'screenshot.done');
  const shotRequests = path.join(tmp, 'screenshots');
  mkdirSync(shotRequests, { recursive: true });
  mkdirSync(dataDir);
  session.createWorkspace(workspace, {
    resultsFile,
    ...(vsixFile ? { installedExtensionsDir: extensionsDir } : {}),
    ...(session.suites ? { suites: session.suites } : {}),
    ...(args.grep ? { grep: args.grep } : {}),
    screenshot: { ackFile, openFile: session.show, showProblems: true, timeoutMs: 60_000, requestDir: shotRequests },
  });
  // The logs of the server and its extension host are kept under test-results/ for a failed CI run.
  cleanups.push(() => {
    const logs = path.join(dataDir, 'logs');
    if (existsSync(logs)) cpSync(logs, path.join(logDir, 'logs'), { recursive: true });
  });
  rmSync(path.join(logDir, 'logs'), { recursive: true, force: true });

  const port = await freePort();
  const serverLog = path.join(logDir, 'server.log');
  const server = startServer(host.serverMain, port, { dataDir, extensionsDir, logFile: serverLog, resultsFile });
  cleanups.push(() => stopProcessTree(server, 'VS Code server'));
  await waitForServer(port, server, serverLog);

  // A browser context of its own: no storage (and so no window state) is shared with another session.
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  cleanups.push(() => withTimeout(context.close(), 10_000, 'closing the browser context'));
  const page = await context.newPage();
  // Nothing but the local server: a stray request elsewhere fails at once instead of waiting for DNS.
  await page.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort('blockedbyclient'));
  const consoleLog = path.join(logDir, 'browser-console.log');
  const consoleStream = createWriteStream(consoleLog);
  cleanups.push(() => new Promise((resolve) => consoleStream.end(resolve)));
  page.on('console', (message) => consoleStream.write(`[${message.type()}] ${message.text()}\n`));
  page.on('pageerror', (error) => consoleStream.write(`[pageerror] ${error.stack ?? error.message}\n`));
  page.on('response', (response) => {
    if (response.status() >= 400) consoleStream.write(`[http ${response.status()}] ${response.url()}\n`);
  });
  page.on('requestfailed', (request) => consoleStream.write(`[request failed] ${request.url()}: ${request.failure()?.errorText}\n`));
  let crashed = false;
  page.on('crash', () => (crashed = true));

  const remote = (file) => `vscode-remote://127.0.0.1:${port}${pathToFileURL(file).pathname}`;
  const payload = [
    ['extensionDevelopmentPath', remote(developmentPath)],
    ['extensionTestsPath', remote(testsModule)],
  ];
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  console.log(`vscode-host: VS Code ${host.vscodeVersion} server on 127.0.0.1:${port}, workspace ${workspace}`);
  await page.goto(url, { waitUntil: 'domcontentloaded' });

  const results = await waitForResults(resultsFile, {
    onTick: () => takeRequestedScreenshots(page, shotRequests),
    isAlive: () => {
      if (server.exitCode !== null || server.signalCode !== null) return `the VS Code server exited (${server.exitCode ?? server.signalCode})`;
      if (crashed) return 'the browser page crashed';
      return undefined;
    },
    describeTimeout: () =>
      `session ${session.name}: no results from the tests module after ${timeoutMs / 1000} s (is ${path.relative(repoRoot, testsModule)} loadable? ` +
      `did a suite hang?)\n--- ${path.relative(repoRoot, serverLog)} (tail) ---\n${tail(serverLog, 30)}\n` +
      `--- extension host log (tail) ---\n${tail(findExtensionHostLog(dataDir), 30)}\n` +
      `--- ${path.relative(repoRoot, consoleLog)} (tail) ---\n${tail(consoleLog, 15)}`,
  });
  copyFileSync(resultsFile, resultsCopy);

  await takeScreenshot(page, session.show, screenshotFile);
  writeFileSync(ackFile, 'done\n');
  // Let the tests module see the acknowledgement and return before the server goes.
  await delay(500);
  const shutdown = await checkNoVmOutlivesEditor(workspace);
  if (shutdown) {
    results.tests.push(shutdown);
    if (shutdown.state === 'passed') results.passed++;
    else results.failed++;
  }
  return { ...results, resultsCopy };
}

/**
 * Warm kernel VMs must end with the editor. The kernel matrix suite writes the QEMU pids still running when it ends
 * into the workspace (VM_PIDS_FILE); once the tests are done the extension host goes (deactivation shuts the VMs
 * down; if the host dies first, their parent-death signal does), and every one of them must be gone within 20 s.
 */
async function checkNoVmOutlivesEditor(workspace) {
  const file = path.join(workspace, '.cilium-custom-warm-vms');
  if (!existsSync(file)) return undefined;
  const vms = readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  if (!vms.length) return undefined;
  const started = Date.now();
  while (vms.some(alive) && Date.now() - started < 20_000) await delay(100);
  const left = vms.filter(alive);
  const fullTitle = `harness: the ${vms.length} warm kernel VM(s) end with the editor`;
  console.log(`vscode-host: ${vms.length} warm VM(s) when the tests ended; ${left.length ? `${left.length} still running after 20 s` : `gone ${Date.now() - started} ms later`}`);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return left.length
    ? { fullTitle, state: 'failed', error: `QEMU ${left.join(', ')} outlived the editor by 20 s` }
    : { fullTitle, state: 'passed', durationMs: Date.now() - started };
}

/**
 * An extension with nothing in it, to be "under development" in --vsix mode: VS Code runs tests only for an
 * extension under development, and the repository itself would shadow the installed copy.
 */
function createRunnerExtension(dir) {
  mkdirSync(dir, { recursive: true });
  const manifest = { name: 'vsix-test-runner', publisher: 'cilium-custom-dev', version: '0.0.0', engines: { vscode: '^1.100.0' } };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  return dir;
}

function step(command, argv) {
  const result = spawnSync(command, argv, { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new HarnessError(`${command} ${argv.join(' ')} failed`);
}

function checkBuilt() {
  const missing = [extensionMain, testsModule].filter((file) => !existsSync(file));
  if (missing.length) {
    throw new HarnessError(
      `missing ${missing.map((f) => path.relative(repoRoot, f)).join(' and ')}: run \`npm run build && npx tsc -p .\` first (or pass --build)`,
    );
  }
  const stale = (output, ...sourceDirs) => {
    const built = statSync(output).mtimeMs;
    return sourceDirs.some((dir) => newestMtime(path.join(repoRoot, dir)) > built);
  };
  if (stale(extensionMain, 'src')) console.warn('vscode-host: warning: dist/extension.js is older than src/ (npm run build?)');
  if (stale(testsModule, 'test/vscode')) console.warn('vscode-host: warning: out/test/vscode is older than test/vscode/ (npx tsc -p .?)');
}

function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function startServer(serverMain, port, { dataDir, extensionsDir, logFile, resultsFile }) {
  const log = createWriteStream(logFile);
  const argv = [
    serverMain,
    '--host', '127.0.0.1',
    '--port', String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--user-data-dir', dataDir,
    '--server-data-dir', dataDir,
    '--extensions-dir', extensionsDir,
    '--disable-workspace-trust',
    '--disable-telemetry',
    '--force-disable-user-env',
  ];
  // Own process group, so that the server and everything it starts can be signalled together.
  const child = spawn(process.execPath, argv, {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The results path also goes through the workspace's run configuration; this is a second channel.
    // EXTENSIONS_GALLERY: code-server's hook for product.json's gallery; an empty one turns the Marketplace off, so
    // neither the server nor the workbench tries to reach open-vsx.org (this machine reaches no such host).
    env: { ...process.env, CILIUM_CUSTOM_TEST_RESULTS: resultsFile, EXTENSIONS_GALLERY: '{}' },
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return child;
}

async function waitForServer(port, server, serverLog) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new HarnessError(`the VS Code server exited during startup:\n${tail(serverLog, 30)}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/version`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new HarnessError(`the VS Code server did not answer within 60 s:\n${tail(serverLog, 30)}`);
    await delay(200);
  }
}

async function waitForResults(file, { isAlive, describeTimeout, onTick }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await onTick?.();
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        // Still being written.
      }
    }
    const dead = isAlive();
    if (dead) throw new HarnessError(`${dead} before the tests finished\n${describeTimeout()}`);
    if (Date.now() > deadline) throw new HarnessError(describeTimeout());
    await delay(250);
  }
}

/**
 * Pictures the suites asked for mid-run: NAME.request in the request folder becomes test-results/vscode-NAME.png
 * (vscode-vsix-NAME.png with --vsix).
 */
async function takeRequestedScreenshots(page, requestDir) {
  for (const file of readdirSync(requestDir).filter((f) => f.endsWith('.request'))) {
    const name = file.slice(0, -'.request'.length).replace(/[^A-Za-z0-9_-]/g, '_');
    const picture = path.join(resultsDir, `${outputName}-${name}.png`);
    try {
      await delay(500); // let the workbench render what the suite just showed
      await page.screenshot({ path: picture });
      console.log(`vscode-host: screenshot ${path.relative(process.cwd(), picture)}`);
    } catch (error) {
      console.error(`vscode-host: warning: no screenshot ${name}: ${error instanceof Error ? error.message : error}`);
    }
    rmSync(path.join(requestDir, file), { force: true });
    writeFileSync(path.join(requestDir, `${name}.done`), 'done\n');
  }
}

async function takeScreenshot(page, shownFile, screenshotFile) {
  // The tests module has opened the file and the Problems panel; wait until the browser has rendered them.
  const settle = async (selector) => page.locator(selector).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
  if (shownFile) await settle(`.tabs-container .tab[aria-label*="${path.basename(shownFile)}"]`);
  await settle('.markers-panel');
  try {
    await page.screenshot({ path: screenshotFile });
    console.log(`vscode-host: screenshot ${path.relative(process.cwd(), screenshotFile)}`);
  } catch (error) {
    console.error(`vscode-host: warning: no screenshot: ${error instanceof Error ? error.message : error}`);
  }
}

/** Prints every session's tests, then one closing line for the whole run: `N passed, N failed[, N skipped]`. */
function report(done, elapsedMs) {
  console.log('');
  const failures = [];
  const totals = { passed: 0, failed: 0, pending: 0, tests: 0 };
  let emptySession = false;
  for (const { session, results } of done) {
    if (done.length > 1) console.log(`  [${session.name}]`);
    for (const test of results.tests) {
      const time = typeof test.durationMs === 'number' && test.durationMs >= 100 ? ` (${test.durationMs} ms)` : '';
      if (test.state === 'passed') console.log(`  ✓ ${test.fullTitle}${time}`);
      else if (test.state === 'pending') console.log(`  - ${test.fullTitle} (pending)`);
      else {
        failures.push(test);
        console.log(`  ✗ ${test.fullTitle}`);
        console.log(indent(test.error ?? '(no message)', 6));
      }
    }
    totals.passed += results.passed;
    totals.failed += results.failed;
    totals.pending += results.pending;
    totals.tests += results.tests.length;
    // Without --grep every session must run something (a session with no suites is a broken build, not a pass).
    if (results.tests.length === 0 && !args.grep) {
      emptySession = true;
      console.log(`vscode-host: session ${session.name}: no tests ran`);
    }
  }
  if (failures.length) {
    console.log('\nFailures:');
    failures.forEach((test, i) => {
      console.log(`\n  ${i + 1}) ${test.fullTitle}`);
      console.log(indent(test.stack ?? test.error ?? '(no message)', 6));
    });
  }
  console.log('');
  for (const { session, results } of done) {
    for (const warning of results.warnings ?? []) console.log(`vscode-host: warning: ${session.name}: ${warning}`);
    console.log(
      `vscode-host: session ${session.name}: VS Code ${results.host?.vscodeVersion} (${results.host?.appHost}), ` +
        `${results.passed} passed, ${results.failed} failed; results in ${path.relative(process.cwd(), results.resultsCopy)}`,
    );
  }
  console.log(`vscode-host: ${(elapsedMs / 1000).toFixed(1)} s`);
  if (totals.tests === 0) console.log('vscode-host: no tests ran');
  const skipped = totals.pending > 0 ? `, ${totals.pending} skipped` : '';
  console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
  return totals.failed > 0 || totals.tests === 0 || emptySession ? 1 : 0;
}

/** SIGTERM to the server's process group and every descendant (some live in their own sessions), then SIGKILL. */
async function stopProcessTree(child, name) {
  if (child.pid === undefined) return;
  const pids = [child.pid, ...descendants(child.pid)];
  const signalAll = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is gone.
    }
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  };
  signalAll('SIGTERM');
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await delay(100);
  const left = pids.filter(alive);
  if (left.length) {
    console.error(`vscode-host: ${name}: ${left.length} process(es) ignored SIGTERM, sending SIGKILL`);
    signalAll('SIGKILL');
  }
}

/** Pids of all descendants of `root`, from /proc (Linux). */
function descendants(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent pid; the command name (field 2) may contain spaces and ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  const found = [];
  const queue = [root];
  while (queue.length) {
    for (const pid of children.get(queue.shift()) ?? []) {
      found.push(pid);
      queue.push(pid);
    }
  }
  return found;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    // A zombie is dead for our purposes.
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function findExtensionHostLog(dataDir) {
  const logs = path.join(dataDir, 'logs');
  if (!existsSync(logs)) return undefined;
  const candidates = readdirSync(logs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('remoteexthost.log'));
  return candidates.length ? path.join(logs, candidates.sort().at(-1)) : undefined;
}

function tail(file, lines) {
  if (!file || !existsSync(file)) return '(none)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function indent(text, spaces) {
  return String(text)
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n');
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out ${what}`)), ms))),
  ]);
}
