// The CLI's commands, run by main.ts once it knows the command line names one. A separate bundle (dist/cli-commands.js,
// see scripts/esbuild.mjs) so that `cilium-custom --help` and `--version` load none of it; inside it each command's
// module still initialises only when that command runs (require() at the call).
import { UsageError } from './args';

type Run = (args: string[], signal: AbortSignal) => Promise<number>;

/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, () => Run> = {
  build: () => (require('./buildCli') as typeof import('./buildCli')).runBuildCli,
  verify: () => (require('./verifyCli') as typeof import('./verifyCli')).runVerifyCli,
  explain: () => {
    const { runExplainCli } = require('./verifyCli') as typeof import('./verifyCli');
    return (args) => runExplainCli(args);
  },
  sandbox: () => (require('./sandboxCli') as typeof import('./sandboxCli')).runSandboxCli,
  attach: () => (require('./attachCli') as typeof import('./attachCli')).runAttachCli,
  detach: () => (require('./attachCli') as typeof import('./attachCli')).runDetachCli,
  endpoints: () => (require('./attachCli') as typeof import('./attachCli')).runEndpointsCli,
  maps: () => (require('./mapsCli') as typeof import('./mapsCli')).runMapsCli,
  cleanup: () => (require('./cleanupCli') as typeof import('./cleanupCli')).runCleanupCli,
  kernels: () => (require('./kernelsCli') as typeof import('./kernelsCli')).runKernelsCli,
  targets: () => (require('./targetsCli') as typeof import('./targetsCli')).runTargetsCli,
  test: () => (require('./testCli') as typeof import('./testCli')).runTestCli,
};
export const commandUsage = (command: string): string => (require('./usage') as typeof import('./usage')).COMMAND_USAGE[command];
const isPrivilegeError = (error: unknown): boolean => error instanceof (require('./privilege') as typeof import('./privilege')).PrivilegeError;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Commands with nothing to roll back: a signal ends them at once (explain of an endless stream must stop). */
const EXIT_ON_SIGNAL = new Set(['explain']);

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

/** Runs `command` (a key of COMMANDS) with its arguments; its exit code. */
export async function runCommand(command: string, rest: string[]): Promise<number> {
  const load = COMMANDS[command];
  if (wantsHelp(rest)) {
    process.stdout.write(`${commandUsage(command)}\n`);
    return 0;
  }
  const abort = new AbortController();
  handleSignals(command, abort);
  try {
    const run = load();
    return await run(rest, abort.signal);
  } catch (error) {
    if (error instanceof UsageError) {
      // One line; the usage is for --help (a sandbox error may carry its usage after the first line).
      process.stderr.write(`cilium-custom: ${error.message.split('\n')[0]} (see cilium-custom ${command} --help)\n`);
      return 2;
    }
    // "cilium-custom verify needs root ..." names the command itself.
    if (isPrivilegeError(error)) process.stderr.write(`${(error as Error).message}\n`);
    else process.stderr.write(`cilium-custom: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
