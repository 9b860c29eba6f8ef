// Argument parsing shared by the CLI's subcommands.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The SDK shipped beside the CLI: dist/cli.js and out/src/cli/*.js both find the package's bpf/ folder. */
export function bundledSdkDir(): string {
  const override = process.env.CILIUM_CUSTOM_SDK;
  if (override) return path.resolve(override);
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bpf', 'bpf_custom.c'))) return path.join(dir, 'bpf');
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the bundled SDK (bpf/ beside the package); set CILIUM_CUSTOM_SDK');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
