// The node-wide lock under which every change to slots and our pins happens (attach, detach, cleanup, the rollback of
// an interrupted run). One lock for the node, not one per endpoint: whether a program's pins may go depends on every
// endpoint's slots, so a detach on one endpoint and an attach on another must not interleave either. Each holder works
// for milliseconds to seconds (a load), so waiting for it costs little.
import { NodeLockBusy, NodeLockFailed, withNodeLock } from '../target/nodeLock';
import type { Target } from '../target/target';
import { CustomCallsProblem } from '../problem';

export const PINS_LOCK = 'pins';

/** Runs fn under the pins lock; a lock that cannot be had becomes a CustomCallsProblem saying nothing was changed. */
export async function withPinsLock<T>(target: Target, what: string, fn: () => Promise<T>, options: { signal?: AbortSignal; waitMs?: number } = {}): Promise<T> {
  const { signal, waitMs } = options;
  try {
    return await withNodeLock(target, PINS_LOCK, fn, { signal, waitMs });
  } catch (error) {
    if (error instanceof NodeLockBusy) {
      throw new CustomCallsProblem(
        'busy',
        `${what}: ${target.name === 'local' ? 'this node' : target.name} is busy (another cilium-custom attach, detach or cleanup is running there).`,
        'Try again when it has finished.',
      ).withState('unchanged');
    }
    if (error instanceof NodeLockFailed) {
      throw new CustomCallsProblem(signal?.aborted ? 'cancelled' : 'target', `${what}: ${error.message}.`).withState('unchanged');
    }
    throw error;
  }
}
