// Which target a CLI command runs on: --ssh [user@]host[:port], --target NAME from the targets file, or local.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTarget, type Target, type TargetConfig } from '../core/target';
import { LOCAL_TARGET_NAME, targetConfigFromSetting } from '../core/target/targetSettings';
import { nonEmptyOption, UsageError } from './args';

export const TARGET_OPTIONS = {
  target: { type: 'string' },
  ssh: { type: 'string' },
  sudo: { type: 'boolean', default: false },
  bpftool: { type: 'string' },
  bpffs: { type: 'string' },
  identity: { type: 'string' },
  'ssh-option': { type: 'string', multiple: true },
  'ssh-persist': { type: 'string' },
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
  'ssh-persist'?: string;
  'targets-file'?: string;
}

/** The file --target NAME reads: a JSON list shaped like the ciliumCustom.targets setting. */
export function defaultTargetsFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'cilium-custom', 'targets.json');
}

/** Targets whose privileged runs go through `sudo -n` (checkLocalPrivilege lets them pass). */
const SUDO_TARGETS = new WeakSet<object>();

export function targetUsesSudo(target: object): boolean {
  return SUDO_TARGETS.has(target);
}

export function targetFromFlags(flags: TargetFlags): Target {
  // An empty value would otherwise quietly fall back to the default (`--ssh ''` ran locally).
  for (const option of ['target', 'ssh', 'bpftool', 'bpffs', 'identity', 'targets-file'] as const) nonEmptyOption(option, flags[option]);
  for (const option of flags['ssh-option'] ?? []) nonEmptyOption('ssh-option', option);
  if (flags.target !== undefined && flags.ssh !== undefined) throw new UsageError('give either --target or --ssh, not both');
  let target: Target;
  let sudo: boolean | undefined;
  try {
    const config: TargetConfig = flags.ssh
      ? targetConfigFromSetting({ name: flags.ssh, host: flags.ssh, identityFile: flags.identity, sshOptions: flags['ssh-option'] })
      : flags.target && flags.target !== LOCAL_TARGET_NAME
        ? namedTarget(flags.target, flags['targets-file'] ?? defaultTargetsFile())
        : { kind: 'local' };
    if (flags.sudo) config.sudo = true;
    if (flags.bpftool) config.bpftool = flags.bpftool;
    if (flags.bpffs) config.bpffsRoot = flags.bpffs;
    if (config.kind === 'ssh') {
      // The connection outlives this run (ControlPersist) so that the next one skips the handshake.
      const persist = flags['ssh-persist'] !== undefined ? sshPersistSeconds(flags['ssh-persist']) : (config.controlPersistSec ?? 300);
      if (persist > 0) config.controlPersistSec = persist;
      config.keepConnection = persist > 0;
    } else if (flags['ssh-persist'] !== undefined) {
      sshPersistSeconds(flags['ssh-persist']);
    }
    sudo = config.sudo;
    target = createTarget(config);
  } catch (error) {
    // An invalid destination, option or targets-file entry is bad usage, like any other bad flag.
    throw error instanceof UsageError ? error : new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (sudo) SUDO_TARGETS.add(target);
  return target;
}

/** --ssh-persist SEC: whole seconds, 0 (close at exit) to 86400. */
function sshPersistSeconds(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) > 86_400) throw new UsageError(`--ssh-persist: expected seconds from 0 to 86400, got ${JSON.stringify(value)}`);
  return Number(value);
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
