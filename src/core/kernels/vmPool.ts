// Warm VMs: one running VM per kernel (and memory, accelerator, QEMU binary), kept after a job so that the next
// verify on that kernel skips the boot. A VM with no work shuts down after `idleMs`; at most `maxWarm` are kept,
// the least recently used idle one going first; `closeAll` ends every one (the CLI at exit, the extension on
// deactivation). Whatever else happens, QEMU dies with this process (parent-death signal, see vm.ts).
import * as fs from 'node:fs';
import { emptyJobResult, Vm, type VmFacts, type VmJobResult, type VmJobRun, type VmOptions } from './vm';

export type VmSpec = Omit<VmOptions, 'signal'>;

export interface VmPoolOptions {
  /** How long a VM may wait for its next job; 0 shuts it down as soon as its queue is empty. Default 5 minutes. */
  idleMs?: number;
  /** How many VMs may be kept running at once (idle ones beyond it are shut down). Default 4. */
  maxWarm?: number;
}

interface Entry {
  key: string;
  start: Promise<{ vm?: Vm; failure?: VmJobResult['failure']; cancelled?: boolean }>;
  vm?: Vm;
  busy: number;
  lastUsed: number;
  idleTimer?: NodeJS.Timeout;
}

export class VmPool {
  private readonly entries = new Map<string, Entry>();
  private closing = new AbortController();

  constructor(private readonly options: VmPoolOptions = {}) {}

  /** Changes the idle timeout for VMs that go idle from now on. */
  setIdleMs(idleMs: number): void {
    this.options.idleMs = idleMs;
  }

  /** Whether a VM of this spec runs now (a cleanup run has something to clean only then). */
  hasLive(spec: VmSpec): boolean {
    return this.entries.get(specKey(spec))?.vm?.alive === true;
  }

  /** How many VMs run or boot now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs a job on the VM of `spec`, booting one if none runs (`onBoot` hears of it). A job that never began because
   * its VM went away for another job's sake (a timeout, a crash) is run once more on a fresh VM.
   */
  async run(spec: VmSpec, job: VmJobRun, onBoot?: (facts: VmFacts) => void): Promise<VmJobResult> {
    const closing = this.closing.signal;
    for (let attempt = 0; ; attempt++) {
      const entry = this.entryFor(spec, onBoot);
      entry.busy++;
      clearTimeout(entry.idleTimer);
      try {
        const started = await raceAbort(entry.start, job.signal);
        if (!started) return { ...emptyJobResult(), cancelled: true };
        if (!started.vm) return { ...emptyJobResult(), ...(started.cancelled ? { cancelled: true } : {}), ...(started.failure ? { failure: started.failure } : {}) };
        const result = await started.vm.run(job);
        const innocent = result.failure !== undefined && result.pid === undefined && !job.signal?.aborted;
        if (attempt === 0 && innocent && !closing.aborted) continue;
        return result;
      } finally {
        entry.busy--;
        entry.lastUsed = Date.now();
        this.scheduleIdle(entry);
      }
    }
  }

  /** Shuts every VM down and waits for QEMU to end. The pool can be used again afterwards. */
  async closeAll(): Promise<void> {
    this.closing.abort();
    this.closing = new AbortController();
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      entries.map(async (e) => {
        clearTimeout(e.idleTimer);
        const started = await e.start;
        await started.vm?.close();
      }),
    );
  }

  private entryFor(spec: VmSpec, onBoot?: (facts: VmFacts) => void): Entry {
    const key = specKey(spec);
    const existing = this.entries.get(key);
    if (existing && (!existing.vm || existing.vm.alive)) return existing;
    this.evictBeyond((this.options.maxWarm ?? 4) - 1);
    const entry: Entry = { key, busy: 0, lastUsed: Date.now(), start: Promise.resolve({}) };
    entry.start = Vm.start({ ...spec, signal: this.closing.signal }).then((started) => {
      if ('failure' in started) {
        this.forget(entry);
        return started;
      }
      entry.vm = started.vm;
      started.vm.onExitDo(() => this.forget(entry));
      if (started.vm.facts) onBoot?.(started.vm.facts);
      return { vm: started.vm };
    });
    this.entries.set(key, entry);
    return entry;
  }

  private forget(entry: Entry): void {
    clearTimeout(entry.idleTimer);
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
  }

  private scheduleIdle(entry: Entry): void {
    if (entry.busy > 0 || this.entries.get(entry.key) !== entry) return;
    clearTimeout(entry.idleTimer);
    const idleMs = this.options.idleMs ?? 5 * 60_000;
    const shut = () => {
      this.forget(entry);
      void entry.start.then((s) => s.vm?.close());
    };
    if (idleMs <= 0) return shut();
    entry.idleTimer = setTimeout(shut, idleMs);
    // An idle VM alone must not keep a process alive (the CLI closes its pool; the timer is for the editor).
    entry.idleTimer.unref();
  }

  private evictBeyond(keep: number): void {
    const idle = [...this.entries.values()].filter((e) => e.busy === 0 && e.vm).sort((a, b) => a.lastUsed - b.lastUsed);
    const excess = this.entries.size - Math.max(0, keep);
    for (const entry of idle.slice(0, Math.max(0, excess))) {
      this.forget(entry);
      void entry.vm?.close();
    }
  }
}

/** A VM is reusable for the same image file (same inode, size and time), memory, accelerator and QEMU. */
function specKey(spec: VmSpec): string {
  let identity = '';
  try {
    const st = fs.statSync(spec.vmlinuz);
    identity = `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    // a missing image fails at boot, with QEMU's words
  }
  return JSON.stringify([spec.vmlinuz, identity, spec.memoryMb ?? 512, spec.accel ?? '', spec.qemu ?? '', spec.bootTimeoutMs ?? '']);
}

/** The promise's value, or undefined once the signal aborts first. */
function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}
