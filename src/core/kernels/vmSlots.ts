// How many VMs may be busy (booting or running a job) at once in this process: a TCG VM takes a whole core while it
// works, and next to nothing while it waits for a job, so warm idle VMs hold no slot.

/** $CILIUM_CUSTOM_MAX_VMS, or 2. */
export const MAX_VMS = Math.max(1, Number(process.env.CILIUM_CUSTOM_MAX_VMS) || 2);

export class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  /** Resolves to a release function once a slot is free; rejects when the signal aborts first. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new Error('cancelled');
    if (this.running >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new Error('cancelled'));
        };
        this.waiting.push(go);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiting.shift()?.();
    };
  }
}

export const vmSlots = new Semaphore(MAX_VMS);
