// bpftool invocations shared by endpoint discovery, attach/detach and the map views: argv arrays only, always
// privileged (the bpffs and the bpf() syscall need root), with JSON output parsed by bpftoolJson.
import type { RunResult } from '../process';
import type { Target } from '../target/target';
import { parseMapShow, parseProgShow, type BpfMapInfo, type BpfProgInfo, type Parsed } from './bpftoolJson';

export const BPFTOOL_TIMEOUT_MS = 30_000;

export interface BpftoolRunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  onStdout?: (chunk: string) => void;
}

/** `<bpftool> -j ARGS...` on the target. */
const STREAMED_TAIL_CHARS = 64 * 1024;

export function bpftoolJson(target: Target, args: readonly string[], options: BpftoolRunOptions = {}): Promise<RunResult> {
  return target.run([target.bpftool, '-j', ...args], {
    privileged: true,
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? BPFTOOL_TIMEOUT_MS,
    ...(options.onStdout ? { onStdout: options.onStdout } : {}),
    // A streamed dump keeps only a tail in memory (bpftool's own -j error object, if any, comes last).
    ...(options.onStdout ? { maxBuffer: STREAMED_TAIL_CHARS } : {}),
  });
}

export async function showPinnedMap(target: Target, pinPath: string, signal?: AbortSignal): Promise<{ run: RunResult; info: Parsed<BpfMapInfo> }> {
  const run = await bpftoolJson(target, ['map', 'show', 'pinned', pinPath], { signal });
  return { run, info: parseMapShow(run.stdout) };
}

export async function showProgById(target: Target, id: number, signal?: AbortSignal): Promise<{ run: RunResult; info: Parsed<BpfProgInfo> }> {
  const run = await bpftoolJson(target, ['prog', 'show', 'id', String(id)], { signal });
  return { run, info: parseProgShow(run.stdout) };
}

export async function showPinnedProg(target: Target, pinPath: string, signal?: AbortSignal): Promise<{ run: RunResult; info: Parsed<BpfProgInfo> }> {
  const run = await bpftoolJson(target, ['prog', 'show', 'pinned', pinPath], { signal });
  return { run, info: parseProgShow(run.stdout) };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of results. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
