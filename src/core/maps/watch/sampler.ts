// Watch Map's sampler: dumps one pinned map every N ms through a Target (local or SSH) and feeds the numbers into a
// SampleStore. Periodic samples come from one long run on the target (dumpLoop.ts: a shell loop that runs
// `bpftool -j map dump pinned P` for each line this side writes, once per interval), read as it streams (DumpReader): an entry is parsed, reduced to its numbers and
// dropped; only a key seen for the first time is formatted (its BTF label, as the Pinned Maps view writes it).
// `map show` and the BTF type names are read once, when the sampler opens.
import { PassThrough } from 'node:stream';
import type { RunResult } from '../../process';
import type { Target } from '../../target/target';
import { trimRoot, defaultPinPrefix } from '../../ids';
import { CustomCallsProblem } from '../../problem';
import { bpftoolJson, showPinnedMap } from '../bpftool';
import { parseDumpEntry, type HexEntry } from '../bpftoolJson';
import { mapTypeNames } from '../btfTypes';
import { formatMapValue, type MapTypeNames } from '../format';
import { isPerCpu, mapOwner, toMapEntry, type PinnedMap } from '../maps';
import { runErrorText, throwEnvironmentProblem } from '../runProblems';
import type { DecodedElement } from './dumpElement';
import { dumpLoopArgv, SAMPLE_REQUEST, SAMPLE_SEPARATOR } from './dumpLoop';
import { DumpReader } from './dumpReader';
import { SampleStore } from './sampleStore';

export const MIN_INTERVAL_MS = 100;

export interface SampleResult {
  /** When the dump's output began (ms since the epoch): the sample's time. */
  timeMs: number;
  /** From the dump's first output to its end. */
  durationMs: number;
  /** Entries in the dump (0 on failure). */
  entries: number;
  /** Why the sample failed, or what it skipped; the sampler keeps going (a map refilled, a connection back). */
  error?: string;
}

export interface MapSamplerOptions {
  intervalMs: number;
  /** Samples kept per key (see SampleStore). */
  capacity?: number;
  cellBudget?: number;
  pinPrefix?: string;
  /** One dump (sampleOnce); default 30 s. */
  timeoutMs?: number;
  onSample?: (result: SampleResult) => void;
}

export class MapSampler {
  readonly store: SampleStore;
  /** The map as `map show` described it (set by open()). */
  map: PinnedMap | undefined;
  typeNames: MapTypeNames = {};
  private intervalMs: number;
  /** The dump loop under way, if sampling. */
  private loop: AbortController | undefined;
  /** Settles when the loop's process has ended. */
  private loopEnd: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly target: Target,
    readonly pinPath: string,
    private readonly options: MapSamplerOptions,
  ) {
    if (!pinPath.startsWith(`${trimRoot(target.bpffsRoot)}/`) || /[\x00-\x1f]/.test(pinPath)) {
      throw new CustomCallsProblem('target', `invalid map path ${JSON.stringify(pinPath)}: expected a pin under ${target.bpffsRoot}`);
    }
    this.intervalMs = clampInterval(options.intervalMs);
    this.store = new SampleStore(options.capacity, options.cellBudget);
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** True while samples are being taken (between start() and stop()). */
  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Reads what the map is (type, per-CPU, BTF type names); throws a CustomCallsProblem when it is no readable map. */
  async open(signal?: AbortSignal): Promise<PinnedMap> {
    const { run, info } = await showPinnedMap(this.target, this.pinPath, signal);
    throwEnvironmentProblem(this.target, run, `Reading ${this.pinPath}`);
    if (!info.ok) throw new CustomCallsProblem('not-found', `${this.pinPath} is not a readable pinned map: ${info.error}.`);
    const pinPrefix = this.options.pinPrefix ?? defaultPinPrefix(this.target.bpffsRoot);
    this.map = { ...info.value, pinName: this.pinPath.split('/').pop() ?? this.pinPath, path: this.pinPath, owner: mapOwner(this.pinPath, pinPrefix), perCpu: isPerCpu(info.value.type) };
    this.typeNames = await mapTypeNames(this.target, this.map, signal);
    return this.map;
  }

  /** Takes one sample now, with one bpftool run (open() first). Never throws: a failure is the result's error. */
  async sampleOnce(signal?: AbortSignal): Promise<SampleResult> {
    const requested = Date.now();
    if (this.loop) return { timeMs: requested, durationMs: 0, entries: 0, error: 'already sampling' };
    const reader = this.reader();
    let run: RunResult;
    try {
      run = await bpftoolJson(this.target, ['map', 'dump', 'pinned', this.pinPath], { signal, timeoutMs: this.options.timeoutMs ?? 30_000, onStdout: (chunk) => reader.push(chunk) });
      throwEnvironmentProblem(this.target, run, `Dumping ${this.pinPath}`);
    } catch (error) {
      reader.finish('failed');
      return { timeMs: requested, durationMs: Date.now() - requested, entries: 0, error: error instanceof Error ? error.message : String(error) };
    }
    const failed = run.exitCode !== 0 ? `Dumping ${this.pinPath} failed: ${runErrorText(this.target, run)}.` : undefined;
    return this.record(reader, failed);
  }

  /** Samples now and then every interval until stop(); does nothing if already running. */
  start(): void {
    if (this.loop || this.disposed) return;
    const controller = new AbortController();
    this.loop = controller;
    // One line per sample: the next is written an interval after the last was asked for (never before it ended).
    const requests = new PassThrough();
    let askedAt = Date.now();
    const ask = () => {
      this.tickTimer = undefined;
      askedAt = Date.now();
      requests.write(SAMPLE_REQUEST);
    };
    let reader = this.reader();
    let stderrTail = '';
    controller.signal.addEventListener('abort', () => {
      clearTimeout(this.tickTimer);
      this.tickTimer = undefined;
      requests.end();
      // A dump cut short by stop() is not recorded.
      reader.finish('stopped');
    });
    const onStdout = (chunk: string) => {
      if (controller.signal.aborted) return;
      let rest = chunk;
      for (let at = rest.indexOf(SAMPLE_SEPARATOR); at >= 0; at = rest.indexOf(SAMPLE_SEPARATOR)) {
        reader.push(rest.slice(0, at));
        const problem = reader.startedAt === undefined && stderrTail.trim() ? `bpftool printed nothing: ${lastLine(stderrTail)}` : undefined;
        const result = this.record(reader, problem);
        reader = this.reader();
        stderrTail = '';
        rest = rest.slice(at + 1);
        if (controller.signal.aborted) return;
        this.options.onSample?.(result);
        this.tickTimer = setTimeout(ask, Math.max(0, askedAt + this.intervalMs - Date.now()));
      }
      reader.push(rest);
    };
    this.loopEnd = this.target
      .run(dumpLoopArgv(this.target.bpftool, this.pinPath), {
        privileged: true,
        signal: controller.signal,
        input: requests,
        onStdout,
        onStderr: (chunk) => (stderrTail = (stderrTail + chunk).slice(-2048)),
        // Only a short tail is kept (for an error message): the loop's output is read as it streams.
        maxBuffer: 4096,
      })
      .then((run) => this.loopEnded(controller, run));
    ask();
  }

  /** Stops sampling: the loop on the target is killed, a dump under way is not recorded; settles once it has ended. */
  stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.loop?.abort();
    this.loop = undefined;
    return this.loopEnd;
  }

  /** A new interval, from the next sample on. */
  setInterval(ms: number): void {
    this.intervalMs = clampInterval(ms);
  }

  dispose(): void {
    this.disposed = true;
    void this.stop();
  }

  /** The loop should never end by itself: say why it did and start it again after an interval. */
  private loopEnded(controller: AbortController, run: RunResult): void {
    if (controller.signal.aborted || this.loop !== controller) return;
    this.loop = undefined;
    let error: string;
    try {
      throwEnvironmentProblem(this.target, run, `Watching ${this.pinPath}`);
      error = `Watching ${this.pinPath} stopped: ${runErrorText(this.target, run)}.`;
    } catch (problem) {
      error = problem instanceof Error ? problem.message : String(problem);
    }
    this.options.onSample?.({ timeMs: Date.now(), durationMs: 0, entries: 0, error });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.disposed && !this.loop) this.start();
    }, Math.max(this.intervalMs, 1000));
  }

  private reader(): DumpReader {
    return new DumpReader(this.store, (decoded, raw) => this.keyLabel(decoded, raw));
  }

  /** Ends a dump: in the store if it was complete, else abandoned (a failed dump records nothing). */
  private record(reader: DumpReader, failure?: string): SampleResult {
    const timeMs = reader.startedAt ?? Date.now();
    const durationMs = Date.now() - timeMs;
    const problem = reader.finish(failure);
    if (problem) return { timeMs, durationMs, entries: 0, error: problem };
    const result: SampleResult = { timeMs, durationMs, entries: reader.entries };
    if (reader.skipped) result.error = `${reader.skipped} entries could not be read`;
    return result;
  }

  /** A key as the Pinned Maps view writes it: by BTF, else its bytes in hex with the integer. */
  private keyLabel(decoded: DecodedElement & { entry?: HexEntry }, raw: unknown): string {
    let entry = decoded.entry;
    if (!entry) {
      const parsed = parseDumpEntry(raw);
      if (!parsed.ok) return decoded.id;
      entry = parsed.value;
    }
    const { key, formatted } = entry;
    return formatMapValue(toMapEntry({ key, ...(formatted ? { formatted: { key: formatted.key } } : {}) }, 0).key, this.typeNames.key);
  }
}

export function clampInterval(ms: number): number {
  return Number.isFinite(ms) ? Math.min(3_600_000, Math.max(MIN_INTERVAL_MS, Math.round(ms))) : 1000;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
