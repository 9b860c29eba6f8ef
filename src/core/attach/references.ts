// Which programs the endpoints' slots hold, across every custom-calls map on the node: a program of ours that no
// slot references is unused, and its pins may go.
import { endpointIdOfMapName, globalsDir } from '../ids';
import { readSlots } from '../endpoints/slots';
import type { Target } from '../target/target';
import { listDir } from '../pins/ours';

/** Every calls map's slots on the target: program id -> number of slots holding it. */
export async function slotReferences(target: Target, signal?: AbortSignal): Promise<Map<number, number>> {
  const dir = globalsDir(target.bpffsRoot);
  const refs = new Map<number, number>();
  const { names } = await listDir(target, dir, signal);
  for (const name of names) {
    if (endpointIdOfMapName(name) === undefined) continue;
    let slots: Map<number, number>;
    try {
      slots = await readSlots(target, `${dir}/${name}`, signal);
    } catch {
      continue; // Not a prog_array (someone else's map with that name): it references nothing.
    }
    for (const id of slots.values()) refs.set(id, (refs.get(id) ?? 0) + 1);
  }
  return refs;
}
