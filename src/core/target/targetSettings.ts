// The one description of a target that users write: an entry of the `ciliumCustom.targets` setting, or of the CLI's
// targets file. Validated here so the editor and the CLI accept and refuse the same things.
import type { TargetConfig } from './index';
import { parseSshSpec } from './sshSpec';

export interface TargetSetting {
  name: string;
  /** `[user@]host[:port]` or an ~/.ssh/config alias; absent: this machine. */
  host?: string;
  sudo?: boolean;
  bpftool?: string;
  bpffsRoot?: string;
  identityFile?: string;
  /** Extra ssh `-o` options, `Key=value`. */
  sshOptions?: string[];
  connectTimeoutSec?: number;
  /** How long the SSH connection stays up when idle, seconds (ControlPersist); default 300. */
  controlPersistSec?: number;
}

export const LOCAL_TARGET_NAME = 'local';

export function targetConfigFromSetting(raw: unknown): TargetConfig {
  if (typeof raw !== 'object' || raw === null) throw new Error('a target must be an object with a "name"');
  const entry = raw as Record<string, unknown>;
  const name = requireString(entry, 'name');
  if (name === undefined || name.trim() === '') throw new Error('a target needs a non-empty "name"');
  const host = requireString(entry, 'host');
  const sudo = requireBoolean(entry, 'sudo');
  const bpftool = requireString(entry, 'bpftool');
  const bpffsRoot = requireString(entry, 'bpffsRoot');
  if (bpffsRoot !== undefined && !bpffsRoot.startsWith('/')) throw new Error(`target ${name}: "bpffsRoot" must be an absolute path`);
  if (host === undefined || host === '') return { kind: 'local', sudo, bpftool, bpffsRoot };
  const spec = parseSshSpec(host);
  const sshOptions = entry.sshOptions;
  if (sshOptions !== undefined && (!Array.isArray(sshOptions) || sshOptions.some((o) => typeof o !== 'string'))) {
    throw new Error(`target ${name}: "sshOptions" must be a list of strings`);
  }
  const connectTimeoutSec = entry.connectTimeoutSec;
  if (connectTimeoutSec !== undefined && (typeof connectTimeoutSec !== 'number' || connectTimeoutSec <= 0)) {
    throw new Error(`target ${name}: "connectTimeoutSec" must be a positive number`);
  }
  const controlPersistSec = entry.controlPersistSec;
  if (controlPersistSec !== undefined && controlPersistSec !== null && (typeof controlPersistSec !== 'number' || !(controlPersistSec >= 1))) {
    throw new Error(`target ${name}: "controlPersistSec" must be a number of seconds >= 1`);
  }
  return {
    kind: 'ssh',
    name,
    destination: spec.destination,
    ...(spec.port !== undefined ? { port: spec.port } : {}),
    identityFile: requireString(entry, 'identityFile'),
    extraOptions: sshOptions as string[] | undefined,
    sudo,
    bpftool,
    bpffsRoot,
    connectTimeoutSec: connectTimeoutSec as number | undefined,
    ...(typeof controlPersistSec === 'number' ? { controlPersistSec } : {}),
  };
}

function requireString(entry: Record<string, unknown>, key: string): string | undefined {
  const value = entry[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Error(`target field "${key}" must be a string`);
  return value;
}

function requireBoolean(entry: Record<string, unknown>, key: string): boolean | undefined {
  const value = entry[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new Error(`target field "${key}" must be true or false`);
  return value;
}

/** The CLI flags that select the same target (for tasks, which run the CLI). */
export function cliFlagsForTarget(setting: TargetSetting): string[] {
  const flags: string[] = [];
  // `--flag=value`: a value starting with '-' must not be read as another flag.
  if (setting.host) flags.push(`--ssh=${setting.host}`);
  if (setting.identityFile) flags.push(`--identity=${setting.identityFile}`);
  for (const option of setting.sshOptions ?? []) flags.push(`--ssh-option=${option}`);
  if (setting.sudo) flags.push('--sudo');
  if (setting.bpftool) flags.push(`--bpftool=${setting.bpftool}`);
  if (setting.bpffsRoot) flags.push(`--bpffs=${setting.bpffsRoot}`);
  return flags;
}
