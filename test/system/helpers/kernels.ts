// The node kernels (Debian's 5.10, 6.1, 6.12) for the suites that boot them: taken from the per-user cache, fetched
// into it once when missing (about 30 s, timed), or the suite is skipped with the reason (a failure under CI=true).
import { KernelCache, type CachedKernel } from '../../../src/core/kernels';
import { runCli } from './cli';
import { hasCommand, requireOrSkip } from './require';

export const NODE_KERNELS = ['5.10', '6.1', '6.12'];

export async function requireKernels(ctx: Mocha.Context, names: readonly string[] = NODE_KERNELS): Promise<CachedKernel[]> {
  for (const tool of ['qemu-system-x86_64', 'busybox', 'bpftool']) {
    requireOrSkip(ctx, hasCommand(tool), `${tool} is not installed (scripts/setup.sh installs qemu-system-x86, busybox-static, bpftool)`);
  }
  const cache = new KernelCache();
  const missing = names.filter((name) => !cache.get(name));
  if (missing.length) {
    const started = Date.now();
    const fetched = await runCli(['kernels', 'fetch', ...missing]);
    console.log(`      kernels fetch ${missing.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s (exit ${fetched.code})`);
    requireOrSkip(ctx, fetched.code === 0, `cilium-custom kernels fetch ${missing.join(' ')} failed (no network to deb.debian.org?): ${fetched.stderr.trim().split('\n').at(-1)}`);
  } else {
    console.log(`      kernels ${names.join(', ')}: already in ${cache.root}`);
  }
  const kernels = names.map((name) => cache.get(name));
  requireOrSkip(ctx, kernels.every((k) => k !== undefined), 'a fetched kernel is missing from the cache');
  return kernels as CachedKernel[];
}
