// Where our pins may live. The pin prefix (default <bpffs>/cilium-custom) is the root of everything attach makes and
// detach or cleanup may remove, so it is checked before any command runs: it must be a folder of its own inside the
// bpffs, outside what Cilium and iproute2 own, and not one of a verify's temporary folders.
import { defaultPinPrefix, parsePinPrefix, trimRoot, ValidationError } from '../ids';
import type { Target } from '../target/target';
import { VERIFY_SCRIPT_NAME } from '../verify/verifyScript';

/**
 * Top-level bpffs folders that belong to others: Cilium's maps and programs (tc/globals, and cilium/ since 1.15),
 * and iproute2's pinning roots (tc, ip, xdp), which Cilium also uses.
 */
export const FOREIGN_TOP_DIRS = ['tc', 'ip', 'xdp', 'cilium'] as const;

/** A pin directory name of ours: one path component, the alphabet of sanitizePinName. */
export function isPinName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name);
}

/** The pin prefix to use on `target` (the default when none is given), or a ValidationError saying why not. */
export function resolvePinPrefix(target: Pick<Target, 'bpffsRoot'>, pinPrefix: string | undefined): string {
  const root = trimRoot(target.bpffsRoot);
  const prefix = parsePinPrefix(pinPrefix ?? defaultPinPrefix(root));
  if (prefix === root || !prefix.startsWith(root === '/' ? '/' : `${root}/`)) {
    throw new ValidationError(`invalid pin prefix ${prefix}: it must be a folder of its own inside the bpffs at ${root}`);
  }
  const top = prefix.slice(root.length).replace(/^\//, '').split('/')[0];
  if ((FOREIGN_TOP_DIRS as readonly string[]).includes(top)) {
    throw new ValidationError(`invalid pin prefix ${prefix}: ${root}/${top} belongs to Cilium (or iproute2); use a folder of your own such as ${defaultPinPrefix(root)}`);
  }
  if (top.startsWith(`${VERIFY_SCRIPT_NAME}-`)) {
    throw new ValidationError(`invalid pin prefix ${prefix}: ${root}/${top} is a verify's temporary folder`);
  }
  return prefix;
}
