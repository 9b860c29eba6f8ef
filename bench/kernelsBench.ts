// The kernel matrix's cost against a local verify of the same object (bytecount.o): a verify on a kernel VM that
// boots first (cold), the same on the VM kept warm (the editor's case: issue 14 wants <= 0.5 s), and the whole
// 4-kernel matrix (5.10, 6.1, 6.12 and the host) cold and warm. Skipped, with the reason, when QEMU or the fetched
// kernels are missing. Standalone: node out/bench/kernelsBench.js [OBJECT] [--runs N].
import * as path from 'node:path';
import { KernelCache, KernelTarget, VmPool, type CachedKernel } from '../src/core/kernels';
import { verifyMatrix, type MatrixKernel } from '../src/core/kernels/matrix';
import { LocalTarget } from '../src/core/target';
import type { Target } from '../src/core/target/target';
import { verifyHeaderOrObject } from '../src/core/verify/verifyHeader';
import { SDK_DIR } from '../test/system/helpers/fixtures';
import { hasCommand } from '../test/system/helpers/require';
import { formatTable, type Row } from './table';
import { median } from './verifyBench';

const NODE_KERNELS = ['5.10', '6.1', '6.12'];

export interface KernelsBenchResult {
  kernel: string;
  accel: string;
  bootMs: number;
  coldMs: number;
  warmMs: number[];
  warmMedianMs: number;
  localMs: number[];
  localMedianMs: number;
  matrixColdMs: number;
  matrixWarmMs: number;
}

async function verifyOn(object: string, target: Target): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await verifyHeaderOrObject({ input: object, target, bundledSdkDir: SDK_DIR, logLevel: 'verbose' });
  if (result.log.verdict !== 'accepted') throw new Error(`${object} on ${target.name}: ${result.log.verdict}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function matrixMs(object: string, kernels: readonly CachedKernel[], pool: VmPool): Promise<number> {
  const targets: MatrixKernel[] = kernels.map((k) => ({ kernel: k.version, target: new KernelTarget({ kernel: k, pool }) }));
  targets.push({ kernel: 'host', target: new LocalTarget() });
  const started = process.hrtime.bigint();
  const entries = await verifyMatrix([object], targets, { bundledSdkDir: SDK_DIR, logLevel: 'verbose' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  for (const e of entries) if (e.results[0].result?.log.verdict !== 'accepted') throw new Error(`matrix: ${e.kernel} did not accept ${object}`);
  return ms;
}

/** Undefined with a reason printed when the VMs cannot run here. */
export async function kernelsBench(object: string, runs: number): Promise<KernelsBenchResult | undefined> {
  const cache = new KernelCache();
  const kernels = NODE_KERNELS.map((name) => cache.get(name));
  if (!hasCommand('qemu-system-x86_64') || kernels.some((k) => !k)) {
    console.error(`bench: kernel VMs skipped: ${hasCommand('qemu-system-x86_64') ? `fetch the kernels first (cilium-custom kernels fetch all)` : 'QEMU is not installed'}`);
    return undefined;
  }
  const node = kernels as CachedKernel[];
  const pool = new VmPool({ idleMs: 600_000 });
  try {
    const target = new KernelTarget({ kernel: node[1], pool });
    const local = new LocalTarget();
    await verifyOn(object, local); // warm the host's caches, as the VM's first run is not counted as warm either
    const coldMs = await verifyOn(object, target);
    const warmMs: number[] = [];
    const localMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      warmMs.push(await verifyOn(object, target));
      localMs.push(await verifyOn(object, local));
    }
    await pool.closeAll();
    const matrixColdMs = await matrixMs(object, node, pool);
    const matrixWarmMs = await matrixMs(object, node, pool);
    const boot = target.boots[0];
    return {
      kernel: node[1].version,
      accel: boot?.accel ?? '?',
      bootMs: boot?.bootMs ?? NaN,
      coldMs,
      warmMs,
      warmMedianMs: median(warmMs),
      localMs,
      localMedianMs: median(localMs),
      matrixColdMs,
      matrixWarmMs,
    };
  } finally {
    await pool.closeAll();
  }
}

export function kernelsRows(r: KernelsBenchResult): Row[] {
  const local = { baseline: r.localMedianMs, baselineName: 'local verify' };
  return [
    { name: `verify on kernel ${r.kernel} VM, cold: boot ${r.bootMs.toFixed(0)} ms (${r.accel}) + verify (ms)`, ours: r.coldMs, ...local, ratio: r.coldMs / r.localMedianMs },
    { name: `verify on kernel ${r.kernel} VM, warm, median of ${r.warmMs.length} (ms; goal <= 500)`, ours: r.warmMedianMs, ...local, ratio: r.warmMedianMs / r.localMedianMs },
    { name: 'matrix 5.10 + 6.1 + 6.12 + host, cold (ms)', ours: r.matrixColdMs, ...local, ratio: r.matrixColdMs / r.localMedianMs },
    { name: 'matrix 5.10 + 6.1 + 6.12 + host, warm (ms)', ours: r.matrixWarmMs, ...local, ratio: r.matrixWarmMs / r.localMedianMs },
  ];
}

if (require.main === module) {
  void (async () => {
    const runsAt = process.argv.indexOf('--runs');
    const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 9;
    const object = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : path.join(SDK_DIR, 'examples', 'bytecount.o');
    const result = await kernelsBench(object, runs);
    if (result) console.log(formatTable(kernelsRows(result)));
  })();
}
