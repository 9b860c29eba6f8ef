// The one place where endpoint ids, hook names and pin names are validated. Everything that reaches a command line
// (a map path, a slot key, a pin directory) is built here from a value that passed these checks.

export const HOOKS = ['ipv4-ingress', 'ipv4-egress', 'ipv6-ingress', 'ipv6-egress'] as const;
export type Hook = (typeof HOOKS)[number];
/** The slot key of each hook in cilium_calls_custom_<id> (Cilium's CILIUM_CALL_* order for custom calls). */
export type SlotKey = 0 | 1 | 2 | 3;

/** Thrown for invalid user input; never after a command ran. */
export class ValidationError extends Error {}

export const MIN_ENDPOINT_ID = 1;
export const MAX_ENDPOINT_ID = 65535;

/** Accepts a plain decimal endpoint id 1..65535 (a number or its exact decimal text, no signs, spaces or hex). */
export function parseEndpointId(value: unknown): number {
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else if (typeof value === 'string' && /^[0-9]{1,5}$/.test(value)) {
    n = Number(value);
  } else {
    throw new ValidationError(`invalid endpoint id ${JSON.stringify(value)}: expected a decimal number from ${MIN_ENDPOINT_ID} to ${MAX_ENDPOINT_ID}`);
  }
  if (!Number.isInteger(n) || n < MIN_ENDPOINT_ID || n > MAX_ENDPOINT_ID) {
    throw new ValidationError(`invalid endpoint id ${JSON.stringify(value)}: expected a decimal number from ${MIN_ENDPOINT_ID} to ${MAX_ENDPOINT_ID}`);
  }
  return n;
}

export function isHook(value: unknown): value is Hook {
  return typeof value === 'string' && (HOOKS as readonly string[]).includes(value);
}

export function parseHook(value: unknown): Hook {
  if (isHook(value)) return value;
  throw new ValidationError(`invalid hook ${JSON.stringify(value)}: expected one of ${HOOKS.join(', ')}`);
}

/** Parses a list of hooks, rejecting an empty list and duplicates. */
export function parseHooks(values: readonly unknown[]): Hook[] {
  if (values.length === 0) throw new ValidationError(`no hook given: expected one or more of ${HOOKS.join(', ')}`);
  const hooks = values.map(parseHook);
  const duplicate = hooks.find((h, i) => hooks.indexOf(h) !== i);
  if (duplicate) throw new ValidationError(`hook ${duplicate} given twice`);
  return hooks;
}

export function hookKey(hook: Hook): SlotKey {
  const key = HOOKS.indexOf(parseHook(hook));
  return key as SlotKey;
}

export function keyHook(key: number): Hook {
  const hook = HOOKS[key];
  if (!Number.isInteger(key) || hook === undefined) throw new ValidationError(`invalid slot key ${key}: the custom-calls map has keys 0 to 3`);
  return hook;
}

/** Checks a slot key (0..3) before it reaches bpftool: key 4 and above would only get E2BIG from the kernel. */
export function checkSlotKey(key: number): SlotKey {
  keyHook(key);
  return key as SlotKey;
}

/** bpftool's little-endian 4-byte key argv for a slot: ['0', '0', '0', '0'] ... ['3', '0', '0', '0']. */
export function slotKeyArgv(key: number): string[] {
  return [String(checkSlotKey(key)), '0', '0', '0'];
}

export const CALLS_MAP_PREFIX = 'cilium_calls_custom_';
const CALLS_MAP_RE = /^cilium_calls_custom_([0-9]{5})$/;

export function callsMapName(endpointId: number): string {
  return `${CALLS_MAP_PREFIX}${String(parseEndpointId(endpointId)).padStart(5, '0')}`;
}

/** The endpoint id of a pin named like Cilium's custom-calls map, or undefined. */
export function endpointIdOfMapName(name: string): number | undefined {
  const match = CALLS_MAP_RE.exec(name);
  if (!match) return undefined;
  const id = Number(match[1]);
  return id >= MIN_ENDPOINT_ID && id <= MAX_ENDPOINT_ID ? id : undefined;
}

export function trimRoot(bpffsRoot: string): string {
  const trimmed = bpffsRoot.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** Where Cilium pins its per-endpoint maps. */
export function globalsDir(bpffsRoot: string): string {
  return `${trimRoot(bpffsRoot)}/tc/globals`;
}

export function callsMapPath(bpffsRoot: string, endpointId: number): string {
  return `${globalsDir(bpffsRoot)}/${callsMapName(endpointId)}`;
}

/** Default parent of our pins: <bpffs>/cilium-custom. */
export function defaultPinPrefix(bpffsRoot: string): string {
  return `${trimRoot(bpffsRoot)}/cilium-custom`;
}

/**
 * A pin directory name from a header or object name: the base name without .h/.o, reduced to [A-Za-z0-9_.-],
 * never starting with '.' or '-', at most 64 characters.
 */
export function sanitizePinName(fileOrName: string): string {
  const base = fileOrName.split('/').pop() ?? '';
  const stem = base.replace(/\.(h|o)$/, '');
  let name = stem.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[.-]+/, '').slice(0, 64);
  if (name === '' || name === '_') name = 'custom';
  return name;
}

/** Validates a pin name given explicitly (a setting or --name): same alphabet as sanitizePinName, or an error. */
export function parsePinName(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(value)) {
    throw new ValidationError(`invalid pin name ${JSON.stringify(value)}: use 1-64 characters of A-Z a-z 0-9 _ . - not starting with . or -`);
  }
  return value;
}

/** Validates an absolute bpffs path prefix (a setting): absolute, no '..', no whitespace or control characters. */
export function parsePinPrefix(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /(^|\/)\.\.?(\/|$)/.test(value) || /[\s\x00-\x1f\x7f]/.test(value) || value.length > 512) {
    throw new ValidationError(`invalid pin prefix ${JSON.stringify(value)}: expected an absolute path on the bpffs without '..'`);
  }
  return value.replace(/\/+$/, '') || '/';
}
