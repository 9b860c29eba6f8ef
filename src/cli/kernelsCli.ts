// cilium-custom kernels list|fetch|add|remove, and the kernel matrix of `cilium-custom verify --kernel ...`.
import * as path from 'node:path';
import type { BuildResult } from '../core/build/build';
import { formatDiagnostic } from '../core/build/clangDiagnostics';
import { buildSettingsOf, type BuildSettings } from '../core/build/settings';
import { fetchKernels, FETCHABLE, KernelCache, KernelFetchError, type FetchProgress } from '../core/kernels';
import { hostKernelVersion, KernelNotAvailable, kernelTargets, resolveKernelRefs, verifyMatrix, type MatrixEntry, type MatrixKernel } from '../core/kernels/matrix';
import type { Target } from '../core/target/target';
import { toExplainJson, type ExplainJson } from '../core/verifier/explainJson';
import { VerifyProblem } from '../core/verify/verifyErrors';
import { parseCommandArgs, printJson, UsageError } from './args';

export const KERNELS_USAGE = `usage: cilium-custom kernels list|fetch|add|remove [options]
Kernels to verify on besides this machine's, cached per user in
$XDG_CACHE_HOME/cilium-custom/kernels (~/.cache/cilium-custom/kernels), booted under QEMU.
  list                   the cached kernels (--json: one JSON object)
  fetch <${FETCHABLE.join('|')}|all>...
                         download Debian's cloud kernel of that series (bullseye, bookworm, trixie)
                         with a private apt state; only the vmlinuz is kept
  add <name> <vmlinuz>   add a kernel image of your own (an x86-64 bzImage, e.g. a node's /boot/vmlinuz-*)
  remove <name>          remove a cached kernel
Use them with: cilium-custom verify <header.h> --kernel 5.10 --kernel 6.1 --kernel host (or --kernels all).
Exit codes: 0 done, 1 failed, 2 bad usage.`;

export async function runKernelsCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
  const [sub, ...rest] = positionals;
  const cache = new KernelCache();
  switch (sub) {
    case 'list': {
      if (rest.length) throw new UsageError('kernels list takes no arguments');
      const kernels = cache.list();
      if (values.json) {
        printJson({ cache: cache.root, kernels: kernels.map(({ dir: _dir, ...k }) => k) });
        return 0;
      }
      if (!kernels.length) {
        process.stdout.write(`no kernels in ${cache.root} (cilium-custom kernels fetch all)\n`);
        return 0;
      }
      for (const k of kernels) {
        const from = k.source === 'debian' ? `${k.package} (${k.suite})` : `added from ${k.from ?? 'a file'}`;
        process.stdout.write(`${k.name.padEnd(8)} ${k.version.padEnd(10)} ${(k.size / 2 ** 20).toFixed(1).padStart(5)} MB  ${from}\n`);
      }
      return 0;
    }
    case 'fetch': {
      if (!rest.length) throw new UsageError(`kernels fetch needs a series: ${FETCHABLE.join(', ')} or all`);
      const series = rest.includes('all') ? [...FETCHABLE] : rest;
      for (const s of series) if (!FETCHABLE.includes(s)) throw new UsageError(`kernels fetch: unknown series ${JSON.stringify(s)} (known: ${FETCHABLE.join(', ')}, all)`);
      const started = Date.now();
      try {
        const fetched = await fetchKernels(cache, [...new Set(series)], { signal, onProgress: progressPrinter() });
        for (const k of fetched) process.stdout.write(`${k.name}: ${k.version} (${k.package}) -> ${k.vmlinuz}\n`);
        process.stderr.write(`fetched in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        return 0;
      } catch (error) {
        if (!(error instanceof KernelFetchError)) throw error;
        process.stderr.write(`cilium-custom: ${error.message}${error.fix ? ` ${error.fix}` : ''}\n`);
        return 1;
      }
    }
    case 'add': {
      if (rest.length !== 2) throw new UsageError('kernels add takes a name and a kernel image: kernels add NAME VMLINUZ');
      const [name, image] = rest;
      try {
        const k = cache.store(name, image, { source: 'file', from: path.resolve(image) });
        process.stdout.write(`${k.name}: ${k.version}${k.release ? ` (${k.release})` : ''} -> ${k.vmlinuz}\n`);
        return 0;
      } catch (error) {
        process.stderr.write(`cilium-custom: kernels add: ${error instanceof Error ? error.message : String(error)}\n`);
        return 1;
      }
    }
    case 'remove': {
      if (rest.length !== 1) throw new UsageError('kernels remove takes one name');
      let removed: boolean;
      try {
        removed = cache.remove(rest[0]);
      } catch (error) {
        throw new UsageError(error instanceof Error ? error.message : String(error));
      }
      if (!removed) {
        process.stderr.write(`cilium-custom: no kernel ${JSON.stringify(rest[0])} in ${cache.root}\n`);
        return 1;
      }
      process.stdout.write(`removed ${rest[0]}\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('kernels needs a subcommand: list, fetch, add or remove');
    default:
      throw new UsageError(`kernels: unknown subcommand ${JSON.stringify(sub)} (list, fetch, add, remove)`);
  }
}

/** A download progress line on stderr: rewritten in place on a terminal, a few lines otherwise. */
function progressPrinter(): (p: FetchProgress) => void {
  const tty = process.stderr.isTTY === true;
  const shown = new Map<string, number>();
  return (p) => {
    const mb = (n: number | undefined) => ((n ?? 0) / 2 ** 20).toFixed(1);
    let line: string;
    if (p.phase === 'index') line = `${p.series}: reading Debian's package index`;
    else if (p.phase === 'download') {
      const pct = p.totalBytes ? Math.min(100, Math.floor((100 * (p.bytes ?? 0)) / p.totalBytes)) : 0;
      line = `${p.series}: downloading ${p.package}  ${mb(p.bytes)} of ${mb(p.totalBytes)} MB (${pct}%)`;
      const step = Math.floor(pct / 25);
      if (!tty && shown.get(p.series) === step) return;
      shown.set(p.series, step);
    } else if (p.phase === 'extract') line = `${p.series}: extracting the vmlinuz`;
    else line = `${p.series}: done (${p.package}, ${mb(p.totalBytes)} MB)`;
    process.stderr.write(tty ? `\r\x1b[K${line}${p.phase === 'done' ? '\n' : ''}` : `${line}\n`);
  };
}

export interface MatrixFlags {
  kernel?: string[];
  kernels?: string;
}

/** Whether verify was asked for a matrix (--kernel or --kernels). */
export function wantsMatrix(flags: MatrixFlags): boolean {
  return (flags.kernel?.length ?? 0) > 0 || flags.kernels !== undefined;
}

export interface MatrixCliRequest extends BuildSettings {
  inputs: string[];
  flags: MatrixFlags;
  /** The host target (--ssh, --target, or this machine): used when "host" is among the kernels. */
  hostTarget: () => Target;
  json: boolean;
  logLevel: 'verbose' | 'errors-only';
  signal: AbortSignal;
}

type MatrixJsonEntry = { kernel: string; target: string; input?: string } & ExplainJson & { problem?: string };

/** verify --kernel A --kernel B ...: every kernel at once, one line (or JSON entry) per kernel; 1 if any rejects. */
export async function runVerifyMatrix(request: MatrixCliRequest): Promise<number> {
  const refs = [...(request.flags.kernel ?? []), ...(request.flags.kernels ? request.flags.kernels.split(',') : [])].map((r) => r.trim());
  if (refs.some((r) => r === '')) throw new UsageError('--kernel must not be empty');
  const cache = new KernelCache();
  let resolved;
  try {
    resolved = await resolveKernelRefs(cache, refs, { signal: request.signal, onProgress: request.json ? undefined : progressPrinter() });
  } catch (error) {
    if (error instanceof KernelNotAvailable) throw new UsageError(error.message);
    if (error instanceof KernelFetchError) {
      process.stderr.write(`cilium-custom: fetching a kernel failed: ${error.message}${error.fix ? ` ${error.fix}` : ''}\n`);
      return 1;
    }
    throw error;
  }
  // Progress on stderr (a matrix takes seconds per kernel): when each VM is up, and when each kernel is done.
  const started = Date.now();
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const vms = kernelTargets(resolved.kernels, {
    onBoot: (t, bootMs, accel) => process.stderr.write(`cilium-custom: ${t.label} booted in ${seconds(bootMs)} (${accel})\n`),
  });
  const kernels: MatrixKernel[] = vms.map((t) => ({ kernel: t.kernelVersion, target: t }));
  let host: Target | undefined;
  if (resolved.host) {
    host = request.hostTarget();
    kernels.push({ kernel: await hostKernelVersion(host, request.signal), target: host });
  }
  try {
    let entries: MatrixEntry[];
    try {
      entries = await verifyMatrix(request.inputs, kernels, {
        ...buildSettingsOf(request),
        logLevel: request.logLevel,
        signal: request.signal,
      });
    } catch (error) {
      if (!(error instanceof VerifyProblem)) throw error;
      const build = (error as { build?: BuildResult }).build;
      if (build && !request.json) for (const d of build.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      if (request.json) printJson({ matrix: [], problem: error.kind, error: { message: error.message, hint: error.fix } });
      else process.stderr.write(`cilium-custom: ${error.full}\n`);
      return 1;
    }
    process.stderr.write(`cilium-custom: ${kernels.length} kernel${kernels.length === 1 ? '' : 's'} in ${seconds(Date.now() - started)}\n`);
    const many = request.inputs.length > 1;
    const json: MatrixJsonEntry[] = [];
    let allAccepted = true;
    for (const entry of entries) {
      for (const r of entry.results) {
        const e = matrixJson(entry, r, many);
        json.push(e);
        if (e.verdict !== 'accepted') allAccepted = false;
        if (!request.json) process.stdout.write(`${humanLine(e, r.input, many)}\n`);
        const left = r.result?.leftovers ?? [];
        if (left.length) process.stderr.write(`cilium-custom: could not remove temporary pins on ${entry.target.name}: ${left.join(', ')}\n`);
      }
    }
    if (request.json) printJson({ matrix: json });
    return allAccepted ? 0 : 1;
  } finally {
    await Promise.all([...vms.map((t) => t.dispose()), host?.dispose()]);
  }
}

function matrixJson(entry: MatrixEntry, r: MatrixEntry['results'][number], many: boolean): MatrixJsonEntry {
  const base = { kernel: entry.kernel, target: entry.target.name, ...(many ? { input: path.resolve(r.input) } : {}) };
  if (r.problem) {
    return { ...base, verdict: 'unknown', error: { message: r.problem.message, insn: null, file: null, line: null, hint: r.problem.fix }, stats: null, truncated: false, problem: r.problem.kind };
  }
  const result = r.result!;
  const explained = toExplainJson(result.log);
  const located = result.located?.error;
  if (explained.error && located) Object.assign(explained.error, { file: located.file, line: located.line });
  return { ...base, ...explained };
}

/** "6.1.176  rejected  bytecount.h:27: R0 invalid mem access 'map_value_or_null'" */
function humanLine(e: MatrixJsonEntry, input: string, many: boolean): string {
  const what = many ? `${path.basename(input)}  ` : '';
  const kernel = e.kernel.padEnd(9);
  if (e.verdict === 'accepted') {
    const insns = e.stats?.insnsProcessed != null ? `  (${e.stats.insnsProcessed} insns)` : '';
    return `${kernel} ${what}accepted${insns}`;
  }
  const err = e.error;
  if (e.problem) return `${kernel} ${what}failed    ${err?.message ?? ''}`;
  const where = err?.file ? `${path.basename(err.file)}${err.line != null ? `:${err.line}` : ''}: ` : '';
  return `${kernel} ${what}${e.verdict.padEnd(9)} ${where}${err?.message ?? '(no verifier error line)'}`;
}
