// Argument parsing shared by the CLI's subcommands.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { MAX_ENDPOINT_ID, MIN_ENDPOINT_ID } from '../core/ids';

/** Bad usage: main.ts prints its first line and a pointer to `<command> --help`, and exits with 2. */
export class UsageError extends Error {}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's messages span lines ("argument is ambiguous.\nDid you forget ..."): one line, as main.ts prints one.
    throw new UsageError((error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' '));
  }
}

export interface NumberRange {
  min: number;
  max: number;
  /** Also accept 0x-prefixed hexadecimal (identities are often written in hex). */
  hex?: boolean;
  /** A byte count: accepts K, M, G, T suffixes (binary multiples, optional "i"/"iB"/"B": 64M = 64MiB = 64 * 2^20). */
  bytes?: boolean;
  /** Said after the range in the message, e.g. "seconds". */
  unit?: string;
}

export const ENDPOINT_ID_RANGE: NumberRange = { min: MIN_ENDPOINT_ID, max: MAX_ENDPOINT_ID };
/** Node's timers hold at most 2^31-1 ms; a longer --timeout would fire at once (TimeoutOverflowWarning). */
export const TIMEOUT_SECONDS_RANGE: NumberRange = { min: 1, max: Math.floor((2 ** 31 - 1) / 1000), unit: 'seconds' };

const SUFFIX: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * The one validator of every numeric option of every command: `text` undefined (option not given) gives undefined,
 * anything else must be a plain non-negative integer in [min, max] (no sign, spaces, exponent or fraction), or a
 * UsageError (exit 2) names the option, the range and the value.
 */
export function numberOption(option: string, text: string | undefined, range: NumberRange): number | undefined {
  if (text === undefined) return undefined;
  const value = parseNumber(text, range);
  if (value !== undefined && value >= range.min && value <= range.max) return value;
  const kind = range.bytes ? 'a byte count (suffixes K, M, G, T)' : 'an integer';
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  throw new UsageError(`--${option} must be ${kind} from ${range.min} to ${range.max}${range.unit ? ` ${range.unit}` : ''}, not ${JSON.stringify(shown)}`);
}

function parseNumber(text: string, range: NumberRange): number | undefined {
  let n: number;
  const bytes = /^([0-9]+)(?:([kmgt])(?:i?b)?|b)?$/i.exec(text);
  if (/^[0-9]+$/.test(text)) n = Number(text);
  else if (range.hex && /^0x[0-9a-f]+$/i.test(text)) n = Number(text);
  else if (range.bytes && bytes) n = Number(bytes[1]) * SUFFIX[(bytes[2] ?? '').toLowerCase()];
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A string option that must not be empty or blank when given (`--ssh ''` must not quietly mean "local"). */
export function nonEmptyOption(option: string, text: string | undefined): string | undefined {
  if (text !== undefined && text.trim() === '') throw new UsageError(`--${option} must not be empty`);
  return text;
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
