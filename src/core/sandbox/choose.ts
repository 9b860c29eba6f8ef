// Which sandbox a command acts on, and how each one stands: shared by the CLI's `sandbox status` and the editor's
// sandbox commands (which pick among the sandboxes that are up). Pure functions.
import type { SandboxStatus } from './sandbox';

export type SandboxCondition = 'up' | 'being-removed' | 'incomplete' | 'broken';

/** How a sandbox stands, from its state file and the live checks of sandboxStatus. */
export function sandboxCondition(s: SandboxStatus): SandboxCondition {
  if (s.removing) return 'being-removed';
  if (!s.complete) return 'incomplete';
  return s.netnsPresent && s.hostIfPresent && s.callsMapPresent ? 'up' : 'broken';
}

/** Words for a condition, as the status and the editor's pick list show it. */
export function describeCondition(condition: SandboxCondition): string {
  switch (condition) {
    case 'up':
      return 'up';
    case 'being-removed':
      return 'being removed (or a removal that failed)';
    case 'incomplete':
      return 'incomplete (being created, or a creation that died)';
    case 'broken':
      return 'broken (parts are missing)';
  }
}

/**
 * The endpoint id a command was invoked on: `{ endpointId }` (another command, a test, a keybinding's args), a row of
 * the Endpoints view (`{ kind: 'endpoint', endpoint: { id } }`), or a bare number. Undefined when none was given;
 * anything that is not a valid id is undefined too (the command then asks).
 */
export function sandboxIdFromArgument(arg: unknown): number | undefined {
  const valid = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : undefined);
  if (typeof arg === 'number') return valid(arg);
  if (typeof arg !== 'object' || arg === null) return undefined;
  const record = arg as { endpointId?: unknown; kind?: unknown; endpoint?: { id?: unknown } };
  if (record.endpointId !== undefined) return valid(record.endpointId);
  if (record.kind === 'endpoint' && typeof record.endpoint === 'object' && record.endpoint !== null) return valid(record.endpoint.id);
  return undefined;
}

/** The first id from `from` upwards that no sandbox uses and no calls map occupies (the editor's default for a new one). */
export function firstFreeSandboxId(from: number, taken: (id: number) => boolean): number {
  for (let id = from; id <= 65535; id++) if (!taken(id)) return id;
  for (let id = 1; id < from; id++) if (!taken(id)) return id;
  return from;
}
