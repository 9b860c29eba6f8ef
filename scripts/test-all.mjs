// Runs every test tier in turn, passes their output through, and ends with one line for the whole run:
// `tests: N passed, N failed, N skipped`. Exits non-zero if any tier failed, or skipped anything under CI=true.
import { spawn } from 'node:child_process';

const tiers = [
  { name: 'unit', argv: ['npx', 'mocha', '--config', 'test/unit/.mocharc.json'] },
  { name: 'system', argv: ['npx', 'mocha', '--config', 'test/system/.mocharc.json'] },
  // Real Cilium trees (../shared/cilium): every example and snippet through each tree's own bpf/custom Makefile.
  { name: 'cilium', argv: ['npx', 'mocha', '--config', 'test/cilium/.mocharc.json'] },
  { name: 'vscode', argv: ['node', 'scripts/vscode-host/run.mjs'] },
  // The packaged .vsix, installed into a VS Code host and used from there.
  { name: 'vsix', argv: ['npm', 'run', '--silent', 'test:vsix'] },
];
const only = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };
const broken = [];

for (const tier of tiers.filter((t) => only.length === 0 || only.includes(t.name))) {
  console.log(`\n=== ${tier.name} tests ===`);
  const { code, output } = await run(tier.argv);
  const counts = countResults(output);
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  if (code !== 0 || counts.failed > 0) broken.push(`${tier.name} (exit ${code})`);
  if (counts.passed + counts.failed === 0) broken.push(`${tier.name} ran no test`);
}

if (broken.length) console.log(`\nfailed tiers: ${broken.join(', ')}`);
if (process.env.CI === 'true' && totals.skipped > 0) console.log(`\n${totals.skipped} skipped tests count as failures under CI=true`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = broken.length || (process.env.CI === 'true' && totals.skipped > 0) ? 1 : 0;

function run(argv) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      output += chunk;
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
    child.on('error', (error) => resolve({ code: 127, output: String(error) }));
  });
}

function countResults(output) {
  const last = (re) => {
    const all = [...output.matchAll(re)];
    return all.length ? Number(all.at(-1)[1]) : 0;
  };
  // mocha's spec reporter, or the VS Code harness's closing line.
  const harness = [...output.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)].at(-1);
  if (harness) return { passed: Number(harness[1]), failed: Number(harness[2]), skipped: Number(harness[3] ?? 0) };
  return { passed: last(/^\s+(\d+) passing/gm), failed: last(/^\s+(\d+) failing/gm), skipped: last(/^\s+(\d+) pending/gm) };
}
