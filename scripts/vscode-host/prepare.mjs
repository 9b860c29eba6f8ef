// Prepares the VS Code server shipped inside the `code-server` npm package so that the VS Code host tests can run it
// without downloading anything (see test/vscode/README.md and shared DESIGN.md, "Running the extension in a real
// VS Code host without a download").
//
// code-server is a devDependency installed with `npm ci --ignore-scripts`: its own postinstall refuses root and
// downloads ripgrep. This script does by hand what that postinstall would do, offline except for the npm registry:
//   1. `npm install --omit=dev --ignore-scripts` in node_modules/code-server/lib/vscode (`npm ci` refuses: the
//      npm-shrinkwrap.json that code-server ships is not in sync with its package.json);
//   2. node-gyp builds of the native modules the server loads, against the local Node headers;
//   3. a link from Debian's `rg` to where @vscode/ripgrep's download would have put it;
//   4. `node_modules.asar -> node_modules`, where VS Code looks for its bundled modules.
// A stamp file keyed by the code-server version, the Node ABI and the platform marks the work as done; each run
// still checks that the outputs exist (cheap), so a wiped node_modules is prepared again.
//
// Usage: node scripts/vscode-host/prepare.mjs [--force]
// Library: import { prepareVscodeServer } from './prepare.mjs'

import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Native modules of the VS Code server that have to be compiled on Linux, with the file each build produces. */
const NATIVE_MODULES = [
  { name: '@vscode/spdlog', output: 'build/Release/spdlog.node' },
  { name: 'native-watchdog', output: 'build/Release/watchdog.node' },
  { name: 'kerberos', output: 'build/Release/kerberos.node' },
  { name: 'node-pty', output: 'build/Release/pty.node' },
];
/** Modules that ship prebuilt binaries through optional dependencies; built from source only if loading fails. */
const PREBUILT_MODULES = ['@parcel/watcher'];

const STAMP_DIR = path.join(repoRoot, 'node_modules', '.cache', 'cilium-custom-vscode-host');

/**
 * Locates code-server and makes its VS Code server runnable. Fast when already prepared.
 * @param {{ force?: boolean, log?: (line: string) => void }} [options]
 * @returns {Promise<{ vscodeDir: string, serverMain: string, codeServerVersion: string, vscodeVersion: string, prepared: boolean }>}
 */
export async function prepareVscodeServer(options = {}) {
  const log = options.log ?? ((line) => console.error(line));
  const codeServerDir = locateCodeServer();
  const codeServerVersion = readJson(path.join(codeServerDir, 'package.json')).version;
  if (codeServerVersion !== CODE_SERVER_VERSION) {
    log(`vscode-host: warning: code-server ${codeServerVersion} is installed, the harness is pinned to ${CODE_SERVER_VERSION}`);
  }
  const vscodeDir = path.join(codeServerDir, 'lib', 'vscode');
  const serverMain = path.join(vscodeDir, 'out', 'server-main.js');
  const vscodeVersion = readJson(path.join(vscodeDir, 'package.json')).version;
  const key = `code-server-${codeServerVersion}-node-abi${process.versions.modules}-${process.platform}-${process.arch}`;
  const stamp = path.join(STAMP_DIR, `${key}.json`);
  const result = { vscodeDir, serverMain, codeServerVersion, vscodeVersion, prepared: false };

  if (!options.force && existsSync(stamp) && outputsPresent(vscodeDir)) return result;

  await withLock(path.join(STAMP_DIR, 'prepare.lock'), log, async () => {
    // Another run may have finished the work while this one waited for the lock.
    if (!options.force && existsSync(stamp) && outputsPresent(vscodeDir)) return;
    const started = Date.now();
    log(`vscode-host: preparing the VS Code ${vscodeVersion} server from code-server ${codeServerVersion} (one-time, ~1 min)`);
    rmSync(stamp, { force: true });

    log('vscode-host:   npm install --omit=dev --ignore-scripts (lib/vscode)');
    await run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: vscodeDir });

    const gyp = nodeGypArgs();
    for (const mod of NATIVE_MODULES) {
      log(`vscode-host:   node-gyp rebuild ${mod.name}`);
      await run(process.execPath, [...gyp, 'rebuild'], { cwd: path.join(vscodeDir, 'node_modules', mod.name) });
      if (!existsSync(path.join(vscodeDir, 'node_modules', mod.name, mod.output))) {
        throw new Error(`building ${mod.name} did not produce ${mod.output}`);
      }
    }
    for (const name of PREBUILT_MODULES) {
      if (!(await loads(vscodeDir, name))) {
        log(`vscode-host:   ${name}: no usable prebuilt binary, building from source`);
        await run(process.execPath, [...gyp, 'rebuild'], { cwd: path.join(vscodeDir, 'node_modules', name) });
      }
    }
    for (const name of [...NATIVE_MODULES.map((m) => m.name), ...PREBUILT_MODULES]) {
      if (!(await loads(vscodeDir, name))) throw new Error(`${name} was built but does not load in Node ${process.version}`);
    }

    const rg = findOnPath('rg');
    if (!rg) throw new Error('ripgrep (`rg`) is not on PATH: apt-get install ripgrep');
    const rgLink = path.join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
    mkdirSync(path.dirname(rgLink), { recursive: true });
    replaceWithSymlink(rg, rgLink);
    replaceWithSymlink('node_modules', path.join(vscodeDir, 'node_modules.asar'));

    if (!outputsPresent(vscodeDir)) throw new Error('preparation finished but some outputs are missing');
    mkdirSync(STAMP_DIR, { recursive: true });
    writeFileSync(stamp, JSON.stringify({ key, node: process.version, preparedAt: new Date().toISOString() }, null, 2) + '\n');
    log(`vscode-host: prepared in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
  return { ...result, prepared: true };
}

function locateCodeServer() {
  const require = createRequire(path.join(repoRoot, 'package.json'));
  try {
    return path.dirname(require.resolve('code-server/package.json'));
  } catch {
    throw new Error(
      `code-server is not installed. Run \`npm ci --ignore-scripts\` in ${repoRoot} (code-server ${CODE_SERVER_VERSION} is a devDependency).`,
    );
  }
}

function outputsPresent(vscodeDir) {
  const nm = path.join(vscodeDir, 'node_modules');
  return (
    existsSync(path.join(vscodeDir, 'out', 'server-main.js')) &&
    NATIVE_MODULES.every((m) => existsSync(path.join(nm, m.name, m.output))) &&
    PREBUILT_MODULES.every((name) => existsSync(path.join(nm, name, 'package.json'))) &&
    existsSync(path.join(nm, '@vscode', 'ripgrep', 'bin', 'rg')) &&
    existsSync(path.join(vscodeDir, 'node_modules.asar'))
  );
}

/** node-gyp as bundled with npm, pointed at local Node headers when there are any (node-gyp would download them). */
function nodeGypArgs() {
  const candidates = [process.env.npm_config_node_gyp];
  const npm = findOnPath('npm');
  if (npm) candidates.push(path.join(path.dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const script = candidates.find((c) => c && existsSync(c));
  if (!script) throw new Error('cannot find node-gyp (it ships with npm)');
  const args = [script, `--jobs=${Math.max(1, Math.min(4, availableParallelism()))}`];
  const nodedir = localNodeHeaders();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  return args;
}

/** A directory holding include/node/ headers of exactly the running Node version, or undefined. */
function localNodeHeaders() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')];
  for (const dir of candidates) {
    if (!dir) continue;
    const header = path.join(dir, 'include', 'node', 'node_version.h');
    if (!existsSync(header)) continue;
    const text = readFileSync(header, 'utf8');
    const part = (name) => text.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
    if (`v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}` === process.version) return dir;
  }
  return undefined;
}

async function loads(vscodeDir, name) {
  try {
    await run(process.execPath, ['-e', `require(${JSON.stringify(name)})`], { cwd: vscodeDir, quiet: true });
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function replaceWithSymlink(target, linkPath) {
  let current;
  try {
    current = lstatSync(linkPath).isSymbolicLink() ? readlinkSync(linkPath) : null;
  } catch {
    current = undefined;
  }
  if (current === target) return;
  if (current !== undefined) rmSync(linkPath, { recursive: true, force: true });
  symlinkSync(target, linkPath);
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * Runs argv (no shell); output is kept and shown only when the command fails.
 * @param {string} command @param {string[]} args @param {{ cwd: string, quiet?: boolean }} options
 */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    const keep = (chunk) => {
      if (output.length < 1_000_000) output += chunk;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(output);
      const lines = output.trimEnd().split('\n');
      const shown = lines.length > 60 ? [...lines.slice(0, 20), '[...]', ...lines.slice(-40)] : lines;
      const tail = options.quiet ? '' : `\n${shown.join('\n')}`;
      reject(new Error(`${command} ${args.join(' ')} (in ${options.cwd}) failed with ${signal ?? `exit code ${code}`}${tail}`));
    });
  });
}

/** Serialises preparation between concurrent runs in the same tree: mkdir is atomic; a dead owner's lock is taken over. */
async function withLock(lockDir, log, body) {
  mkdirSync(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch {
        // The owner has created the directory but not yet written its pid.
      }
      if (Number.isInteger(owner) && !alive(owner)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir} (held by pid ${owner})`);
      if (!told) log(`vscode-host: waiting for another run (pid ${owner}) to finish preparing`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    await body();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  prepareVscodeServer({ force: process.argv.includes('--force') }).then(
    (r) => console.log(`VS Code ${r.vscodeVersion} server ready: ${r.serverMain}${r.prepared ? '' : ' (already prepared)'}`),
    (error) => {
      console.error(`vscode-host: prepare failed: ${error instanceof Error ? error.message : error}`);
      process.exitCode = 1;
    },
  );
}
