// Which target a CLI command runs on: --ssh [user@]host[:port], --target NAME from the targets file, or local.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTarget, type Target, type TargetConfig } from '../core/target';
import { LOCAL_TARGET_NAME, targetConfigFromSetting } from '../core/target/targetSettings';
import { UsageError } from './args';

export const TARGET_OPTIONS = {
  target: { type: 'string' },
  ssh: { type: 'string' },
  sudo: { type: 'boolean', default: false },
  bpftool: { type: 'string' },
  bpffs: { type: 'string' },
  identity: { type: 'string' },
  'ssh-option': { type: 'string', multiple: true },
  'targets-file': { type: 'string' },
} as const;

export interface TargetFlags {
  target?: string;
  ssh?: string;
  sudo?: boolean;
  bpftool?: string;
  bpffs?: string;
  identity?: string;
  'ssh-option'?: string[];
  'targets-file'?: string;
}

/** The file --target NAME reads: a JSON list shaped like the ciliumCustom.targets setting. */
export function defaultTargetsFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'cilium-custom', 'targets.json');
}

export function targetFromFlags(flags: TargetFlags): Target {
  if (flags.target && flags.ssh) throw new UsageError('give either --target or --ssh, not both');
  let config: TargetConfig;
  if (flags.ssh) {
    config = targetConfigFromSetting({ name: flags.ssh, host: flags.ssh, identityFile: flags.identity, sshOptions: flags['ssh-option'] });
  } else if (flags.target && flags.target !== LOCAL_TARGET_NAME) {
    config = namedTarget(flags.target, flags['targets-file'] ?? defaultTargetsFile());
  } else {
    config = { kind: 'local' };
  }
  if (flags.sudo) config.sudo = true;
  if (flags.bpftool) config.bpftool = flags.bpftool;
  if (flags.bpffs) config.bpffsRoot = flags.bpffs;
  return createTarget(config);
}

function namedTarget(name: string, file: string): TargetConfig {
  let entries: unknown;
  try {
    entries = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--target ${name}: cannot read the targets file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(entries)) throw new UsageError(`${file} must hold a JSON list of targets`);
  const entry = entries.find((e) => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === name);
  if (!entry) throw new UsageError(`no target named ${JSON.stringify(name)} in ${file}`);
  return targetConfigFromSetting(entry);
}
