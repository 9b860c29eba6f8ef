// cilium-custom: the extension's engine as a command-line tool, for terminals and CI pipelines.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installOutputGuards, outputFailed } from './output';
import { USAGE } from './usage';

// Only the command names: their code is in commands.ts, loaded once a command is to run. `--help` and `--version`
// load nothing more than this file, the help texts and the output guards.
const COMMAND_NAMES = new Set(['build', 'verify', 'explain', 'sandbox', 'attach', 'detach', 'endpoints', 'maps', 'cleanup', 'kernels', 'targets', 'test']);

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
  if (!COMMAND_NAMES.has(command)) {
    process.stderr.write(`cilium-custom: unknown command: ${command} (see cilium-custom --help)\n`);
    return 2;
  }
  // V8's code cache for the commands bundle, where node has one (22.1+; node 20 compiles lazily, which the bundle
  // split above already keeps cheap). Best effort: a cache it cannot write is no error.
  (module as unknown as { constructor: { enableCompileCache?: () => unknown } }).constructor.enableCompileCache?.();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./commands') as typeof import('./commands')).runCommand(command, rest);
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
