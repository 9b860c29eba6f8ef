// Commands that load programs, read pinned maps or make namespaces fail in confusing ways without privilege (raw
// EACCES, "Permission denied", or worse: every slot shown empty and exit code 0). On a local target they stop first,
// with one line that says what is missing. A remote target checks on its own side (sudo, ssh user).
import * as fs from 'node:fs';
import { targetUsesSudo } from './targetArgs';

export class PrivilegeError extends Error {}

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

/** From the CapEff line of /proc/<pid>/status (hex): CAP_NET_ADMIN, and CAP_BPF or (before Linux 5.8) CAP_SYS_ADMIN. */
export function capabilitiesSuffice(capEffHex: string): boolean {
  if (!/^[0-9a-f]{1,16}$/i.test(capEffHex)) return false;
  const caps = BigInt(`0x${capEffHex}`);
  const has = (bit: bigint) => ((caps >> bit) & 1n) === 1n;
  return has(CAP_NET_ADMIN) && (has(CAP_BPF) || has(CAP_SYS_ADMIN));
}

/** Effective capabilities decide (root in a container may lack CAP_BPF); without /proc, euid 0 is taken as enough. */
export function hasBpfPrivilege(): boolean {
  let status: string | undefined;
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    status = undefined;
  }
  const capEff = status && /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status)?.[1];
  if (capEff) return capabilitiesSuffice(capEff);
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/**
 * Throws a PrivilegeError (one line, exit 1) when `command` would run on this machine without the privilege it
 * needs. A local target configured with --sudo escalates by itself (`sudo -n`), so it passes.
 */
export function checkLocalPrivilege(command: string, target: { isRemote: boolean }): void {
  if (target.isRemote || targetUsesSudo(target)) return;
  if (hasBpfPrivilege()) return;
  throw new PrivilegeError(`cilium-custom ${command} needs root (or CAP_BPF and CAP_NET_ADMIN)`);
}
