// The kernel matrix: one header (or object) verified on several kernels at once, each in its own VM (at most
// MAX_VMS at a time) or on the host target, with the same verify job as everywhere else (verifyHeaderOrObject:
// the verify script, the parser, the locator). The header is built once, before any kernel is asked.
import * as os from 'node:os';
import * as path from 'node:path';
import { buildHeader } from '../build/build';
import { buildSettingsOf } from '../build/settings';
import type { Target } from '../target/target';
import { verifyHeaderOrObject, type VerifyRequest, type VerifyResult } from '../verify/verifyHeader';
import { VerifyProblem } from '../verify/verifyErrors';
import { compareVersions, type CachedKernel, type KernelCache } from './cache';
import { DEBIAN_SERIES, FETCHABLE, fetchKernels, type FetchOptions } from './fetch';
import { KernelTarget, type KernelTargetConfig } from './kernelTarget';

export interface MatrixKernel {
  /** The version shown, e.g. "6.1.176". */
  kernel: string;
  target: Target;
}

export interface MatrixEntry extends MatrixKernel {
  /** One entry per input, in the order given. */
  results: Array<{ input: string; result?: VerifyResult; problem?: VerifyProblem }>;
}

export class KernelNotAvailable extends Error {}

/** The upstream version of a `uname -r` ("6.18.44-fc-v857" gives "6.18.44"). */
export function upstreamVersion(release: string): string {
  return /^([0-9]+\.[0-9]+(?:\.[0-9]+)?)/.exec(release)?.[1] ?? release;
}

/** The version of the host target's kernel: this machine's, or asked with `uname -r` on a remote target. */
export async function hostKernelVersion(target: Target, signal?: AbortSignal): Promise<string> {
  if (!target.isRemote) return upstreamVersion(os.release());
  const run = await target.run(['uname', '-r'], { timeoutMs: 30_000, ...(signal ? { signal } : {}) });
  return run.exitCode === 0 ? upstreamVersion(run.stdout.trim()) : target.name;
}

/**
 * The cached kernels named by `refs` (cache names such as "6.1", or versions such as "6.1.176"; "all": the fetchable
 * series and every other cached kernel). A fetchable series that is not cached is fetched first when `fetch` is
 * given, else a KernelNotAvailable error says how to get it. "host" is left to the caller (returned as true).
 */
export async function resolveKernelRefs(
  cache: KernelCache,
  refs: readonly string[],
  fetch?: FetchOptions,
): Promise<{ kernels: CachedKernel[]; host: boolean }> {
  const wanted: string[] = [];
  let host = false;
  for (const ref of refs) {
    if (ref === 'host' || ref === 'local') host = true;
    else if (ref === 'all') {
      host = true;
      wanted.push(...FETCHABLE, ...cache.list().map((k) => k.name));
    } else wanted.push(ref);
  }
  const unique = [...new Set(wanted)];
  const missing = unique.filter((ref) => !findKernel(cache, ref));
  const fetchable = missing.filter((ref) => DEBIAN_SERIES[ref]);
  const unknown = missing.filter((ref) => !DEBIAN_SERIES[ref]);
  if (unknown.length) {
    const have = cache.list().map((k) => k.name);
    throw new KernelNotAvailable(
      `no kernel ${unknown.map((u) => JSON.stringify(u)).join(', ')} in the cache (${have.length ? `it has ${have.join(', ')}` : 'it is empty'}); ` +
        `fetch one of ${FETCHABLE.join(', ')} (cilium-custom kernels fetch 6.1) or add an image (cilium-custom kernels add NAME VMLINUZ)`,
    );
  }
  if (fetchable.length) {
    if (!fetch) throw new KernelNotAvailable(`kernel ${fetchable.join(', ')} is not in the cache: cilium-custom kernels fetch ${fetchable.join(' ')}`);
    await fetchKernels(cache, fetchable, fetch);
  }
  const kernels = unique.map((ref) => findKernel(cache, ref)!).filter((k, i, all) => all.findIndex((o) => o.name === k.name) === i);
  kernels.sort((a, b) => compareVersions(a.version, b.version));
  return { kernels, host };
}

function findKernel(cache: KernelCache, ref: string): CachedKernel | undefined {
  return cache.get(ref) ?? cache.list().find((k) => k.version === ref);
}

export function kernelTargets(kernels: readonly CachedKernel[], config: Omit<KernelTargetConfig, 'kernel'> = {}): KernelTarget[] {
  return kernels.map((kernel) => new KernelTarget({ ...config, kernel }));
}

export type MatrixRequest = Omit<VerifyRequest, 'input' | 'target' | 'logFile'>;

/**
 * Verifies every input on every kernel. Inputs on one VM kernel run in one boot; kernels run in parallel (VMs at
 * most MAX_VMS at once). A problem (build, VM, loader) is kept per entry, never thrown, except a failed build,
 * which is every kernel's problem and is thrown before any kernel is asked.
 */
export async function verifyMatrix(inputs: readonly string[], kernels: readonly MatrixKernel[], request: MatrixRequest): Promise<MatrixEntry[]> {
  for (const input of inputs) {
    if (!input.endsWith('.h')) continue;
    // Built once here (make decides whether anything is stale), so that the kernels do not build it in parallel.
    const build = await buildHeader({
      headerPath: input,
      ...buildSettingsOf(request),
      signal: request.signal,
      onOutput: request.onOutput,
    });
    if (!build.ok) {
      if (build.cancelled) throw new VerifyProblem('cancelled', 'Verification cancelled.', '');
      const first = build.failureKind === 'compile' ? build.diagnostics.find((d) => d.severity === 'error') : undefined;
      const where = first ? ` (${path.basename(first.file)}:${first.line}: ${first.message})` : '';
      const problem = new VerifyProblem('build-failed', `The header does not build: ${build.failure ?? 'build failed'}${where}.`, build.fix ?? (first ? 'Fix the compiler errors first.' : ''));
      throw Object.assign(problem, { build });
    }
  }
  return Promise.all(
    kernels.map(async (k) => ({
      ...k,
      results: await Promise.all(
        inputs.map(async (input) => {
          try {
            return { input, result: await verifyHeaderOrObject({ ...request, input, target: k.target }) };
          } catch (error) {
            if (error instanceof VerifyProblem) return { input, problem: error };
            throw error;
          }
        }),
      ),
    })),
  );
}
