// Parsers for the Cilium agent's CLI (`cilium-dbg endpoint list -o json`, `cilium-dbg version`). Pure; never throw.
import type { Parsed } from '../maps/bpftoolJson';

export interface CiliumEndpoint {
  id: number;
  podName: string | null;
  namespace: string | null;
  identity: number | null;
  labels: string[];
  ipv4: string[];
  ipv6: string[];
  state: string | null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** `cilium-dbg endpoint list -o json`: entries that are not objects with a numeric id are skipped. */
export function parseCiliumEndpoints(text: string): Parsed<CiliumEndpoint[]> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `cilium endpoint list: not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!Array.isArray(value)) return { ok: false, error: 'cilium endpoint list: expected a JSON array' };
  const endpoints: CiliumEndpoint[] = [];
  for (const item of value) {
    if (!isObject(item) || typeof item.id !== 'number' || !Number.isInteger(item.id)) continue;
    const status = isObject(item.status) ? item.status : {};
    const identity = isObject(status.identity) ? status.identity : {};
    const external = isObject(status['external-identifiers']) ? status['external-identifiers'] : {};
    const networking = isObject(status.networking) ? status.networking : {};
    const addressing = Array.isArray(networking.addressing) ? networking.addressing.filter(isObject) : [];
    endpoints.push({
      id: item.id,
      podName: str(external['k8s-pod-name']) ?? str(external['pod-name']),
      namespace: str(external['k8s-namespace']),
      identity: typeof identity.id === 'number' ? identity.id : null,
      labels: Array.isArray(identity.labels) ? identity.labels.filter((l): l is string => typeof l === 'string') : [],
      ipv4: addressing.map((a) => str(a.ipv4)).filter((a): a is string => a !== null),
      ipv6: addressing.map((a) => str(a.ipv6)).filter((a): a is string => a !== null),
      state: str(status.state),
    });
  }
  return { ok: true, value: endpoints };
}

export interface CiliumVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** The first x.y.z in `cilium-dbg version` output (the client line comes first). */
export function parseCiliumVersion(text: string): Parsed<CiliumVersion> {
  const match = /(?:^|[^0-9.])v?(\d{1,3})\.(\d{1,3})\.(\d{1,3})/.exec(typeof text === 'string' ? text : '');
  if (!match) return { ok: false, error: 'no version number in the output' };
  return { ok: true, value: { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), text: `${match[1]}.${match[2]}.${match[3]}` } };
}

/** Cilium 1.19 removed custom calls. */
export function removedCustomCalls(version: CiliumVersion): boolean {
  return version.major > 1 || (version.major === 1 && version.minor >= 19);
}
