// cilium-custom: the extension's engine as a command-line tool, for terminals and CI pipelines.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runBuildCli } from './buildCli';
import { UsageError } from './args';
import { installOutputGuards, outputFailed } from './output';
import { PrivilegeError } from './privilege';
import { runExplainCli, runVerifyCli } from './verifyCli';
import { runSandboxCli } from './sandboxCli';
import { runAttachCli, runDetachCli, runEndpointsCli } from './attachCli';
import { runMapsCli } from './mapsCli';
import { runCleanupCli } from './cleanupCli';
import { runKernelsCli } from './kernelsCli';
import { COMMAND_USAGE, USAGE } from './usage';

type Run = (args: string[], signal: AbortSignal) => Promise<number>;

const COMMANDS: Record<string, Run> = {
  build: runBuildCli,
  verify: runVerifyCli,
  explain: (args) => runExplainCli(args),
  sandbox: runSandboxCli,
  attach: runAttachCli,
  detach: runDetachCli,
  endpoints: runEndpointsCli,
  maps: runMapsCli,
  cleanup: runCleanupCli,
  kernels: runKernelsCli,
};

/** Commands with nothing to roll back: a signal ends them at once (explain of an endless stream must stop). */
const EXIT_ON_SIGNAL = new Set(['explain']);

// esbuild defines this from package.json (scripts/esbuild.mjs); the tsc build (tests) reads package.json instead.
declare const __CILIUM_CUSTOM_VERSION__: string | undefined;

function version(): string {
  if (typeof __CILIUM_CUSTOM_VERSION__ === 'string') return __CILIUM_CUSTOM_VERSION__;
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // not here: one level up
    }
  }
  return 'unknown';
}

/** `--help` anywhere before `--` asks for help, whatever else is on the line. */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * The first SIGINT/SIGTERM aborts the command, which then cancels its processes and rolls back what it did. Later
 * signals are ignored (with one warning): a second Ctrl-C during an attach's rollback would otherwise leave the
 * endpoint half attached. SIGKILL still ends it. Commands without a rollback exit at once (128 + signal number).
 */
function handleSignals(command: string, abort: AbortController): void {
  let warned = false;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (EXIT_ON_SIGNAL.has(command)) {
      process.stderr.write(`cilium-custom: interrupted (${signal})\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    if (!abort.signal.aborted) {
      abort.abort();
      return;
    }
    if (warned) return;
    warned = true;
    process.stderr.write('cilium-custom: finishing the rollback (or cleanup) first; interrupting it could leave an endpoint half attached (SIGKILL to force)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(argv: string[]): Promise<number> {
  let [command, ...rest] = argv;
  if (command === 'help' && rest.length) [command, rest] = [rest[0], ['--help']];
  if (command === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`cilium-custom ${version()}\n`);
    return 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`cilium-custom: unknown command: ${command} (see cilium-custom --help)\n`);
    return 2;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(`${COMMAND_USAGE[command]}\n`);
    return 0;
  }
  const abort = new AbortController();
  handleSignals(command, abort);
  try {
    return await run(rest, abort.signal);
  } catch (error) {
    if (error instanceof UsageError) {
      // One line; the usage is for --help (a sandbox error may carry its usage after the first line).
      process.stderr.write(`cilium-custom: ${error.message.split('\n')[0]} (see cilium-custom ${command} --help)\n`);
      return 2;
    }
    // "cilium-custom verify needs root ..." names the command itself.
    if (error instanceof PrivilegeError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`cilium-custom: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

installOutputGuards();

main(process.argv.slice(2)).then(
  (code) => {
    // Output that could not be written is a failure, whatever the command thought.
    process.exitCode = outputFailed() && code === 0 ? 1 : code;
  },
  (error: unknown) => {
    process.stderr.write(`cilium-custom: internal error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
