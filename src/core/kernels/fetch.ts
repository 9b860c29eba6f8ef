// `kernels fetch`: the Debian cloud kernel of a release, from Debian's archive, through apt with a private state
// (its own sources.list, lists and cache in a temporary folder): the system's apt configuration is never read for
// sources nor written. The package names move with every point release, so they are looked up each time
// (apt-cache search), never hard-coded. Only /boot/vmlinuz-* of the package is kept.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess, type RunResult } from '../process';
import { compareVersions, type CachedKernel, type KernelCache } from './cache';

/** The series `fetch` knows, and the Debian release whose cloud kernel is that series. */
export const DEBIAN_SERIES: Readonly<Record<string, string>> = { '5.10': 'bullseye', '6.1': 'bookworm', '6.12': 'trixie' };
export const FETCHABLE = Object.keys(DEBIAN_SERIES);
const MIRROR = 'http://deb.debian.org/debian';

export class KernelFetchError extends Error {
  constructor(
    message: string,
    readonly fix = '',
  ) {
    super(message);
  }
}

export interface FetchProgress {
  series: string;
  phase: 'index' | 'download' | 'extract' | 'done';
  package?: string;
  bytes?: number;
  totalBytes?: number;
}

export interface FetchOptions {
  signal?: AbortSignal;
  onProgress?: (progress: FetchProgress) => void;
  /** Mirror base URL (tests and mirrors); default deb.debian.org. */
  mirror?: string;
}

export interface DebianPackage {
  name: string;
  version: string;
  size: number;
}

/** Fetches the given series (each of FETCHABLE) into the cache; one apt index update serves them all. */
export async function fetchKernels(cache: KernelCache, series: readonly string[], options: FetchOptions = {}): Promise<CachedKernel[]> {
  for (const s of series) if (!DEBIAN_SERIES[s]) throw new KernelFetchError(`cannot fetch "${s}": known series are ${FETCHABLE.join(', ')}`, 'A kernel image of your own can be added with: cilium-custom kernels add NAME VMLINUZ');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cilium-custom-kernel-fetch-'));
  try {
    const apt = privateAptState(work, [...new Set(series.map((s) => DEBIAN_SERIES[s]))], options.mirror ?? MIRROR);
    for (const s of series) options.onProgress?.({ series: s, phase: 'index' });
    const update = await runProcess(['apt-get', ...apt, '-q', 'update'], { signal: options.signal, timeoutMs: 10 * 60_000 });
    check(update, 'apt-get update (private state)');
    const search = await runProcess(['apt-cache', ...apt, 'search', '--names-only', '^linux-image-[0-9].*-cloud-amd64-unsigned$'], { signal: options.signal });
    check(search, 'apt-cache search');
    const names = search.stdout.split('\n').map((line) => line.split(' ')[0]).filter(Boolean);
    const fetched: CachedKernel[] = [];
    for (const s of series) {
      const name = latestPackage(names, s);
      if (!name) {
        const warnings = update.stdout.split('\n').concat(update.stderr.split('\n')).filter((l) => /^(W|E|Err):/.test(l.trim()));
        throw new KernelFetchError(
          `no cloud kernel package for ${s} in Debian ${DEBIAN_SERIES[s]}${warnings.length ? ` (apt-get update: ${warnings.at(-1)!.trim()})` : ''}`,
          'Check that deb.debian.org is reachable from this machine.',
        );
      }
      fetched.push(await fetchOne(cache, s, name, apt, work, options));
    }
    return fetched;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The newest `linux-image-<series>.*-cloud-amd64-unsigned` among package names (by the version in the name). */
export function latestPackage(names: readonly string[], series: string): string | undefined {
  // 5.10.0-32, 6.1.0-50, 6.12.117+deb13: the series, a patch level, an ABI or Debian suffix.
  const pattern = new RegExp(`^linux-image-(${series.replace('.', '\\.')}\\.[0-9]+(?:[-+][0-9A-Za-z.+-]*?)?)-cloud-amd64-unsigned$`);
  return names
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((x): x is { name: string; match: RegExpExecArray } => x.match !== null)
    .sort((a, b) => compareVersions(b.match[1], a.match[1]))[0]?.name;
}

/** Version and size from `apt-cache show --no-all-versions`. */
export function parseAptShow(text: string): DebianPackage | undefined {
  const field = (key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(text)?.[1]?.trim();
  const name = field('Package');
  const version = field('Version');
  if (!name || !version) return undefined;
  return { name, version, size: Number(field('Size') ?? 0) || 0 };
}

/** apt options for a state of our own under `work`: sources, lists, cache; nothing of the system's but dpkg's status. */
export function privateAptState(work: string, suites: readonly string[], mirror: string): string[] {
  fs.mkdirSync(path.join(work, 'lists', 'partial'), { recursive: true });
  fs.mkdirSync(path.join(work, 'cache', 'archives', 'partial'), { recursive: true });
  fs.writeFileSync(path.join(work, 'sources.list'), suites.map((suite) => `deb ${mirror} ${suite} main\n`).join(''));
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return [
    '-o', `Dir::Etc::SourceList=${path.join(work, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${path.join(work, 'lists')}`,
    '-o', `Dir::Cache=${path.join(work, 'cache')}`,
    '-o', 'Acquire::Languages=none',
    // Root's apt drops to the _apt user, who cannot enter our private (0700) folder; there is nothing to protect.
    ...(asRoot ? ['-o', 'APT::Sandbox::User=root'] : []),
  ];
}

async function fetchOne(cache: KernelCache, series: string, name: string, apt: string[], work: string, options: FetchOptions): Promise<CachedKernel> {
  const show = await runProcess(['apt-cache', ...apt, 'show', '--no-all-versions', name], { signal: options.signal });
  check(show, 'apt-cache show');
  const pkg = parseAptShow(show.stdout);
  if (!pkg) throw new KernelFetchError(`apt-cache show ${name} gave no version`);
  const downloads = path.join(work, `download-${series}`);
  fs.mkdirSync(downloads);
  const report = () => options.onProgress?.({ series, phase: 'download', package: name, bytes: dirBytes(downloads), totalBytes: pkg.size });
  report();
  const timer = setInterval(report, 500);
  let download: RunResult;
  try {
    download = await runProcess(['apt-get', ...apt, '-q', 'download', `${name}=${pkg.version}`], { cwd: downloads, signal: options.signal, timeoutMs: 30 * 60_000 });
  } finally {
    clearInterval(timer);
  }
  check(download, `apt-get download ${name}`);
  const deb = fs.readdirSync(downloads).find((f) => f.endsWith('.deb'));
  if (!deb) throw new KernelFetchError(`apt-get download ${name} left no .deb file`);
  options.onProgress?.({ series, phase: 'extract', package: name, bytes: pkg.size, totalBytes: pkg.size });
  const root = path.join(work, `root-${series}`);
  const extract = await runProcess(['dpkg-deb', '-x', path.join(downloads, deb), root], { signal: options.signal, timeoutMs: 5 * 60_000 });
  check(extract, 'dpkg-deb -x');
  const boot = path.join(root, 'boot');
  const vmlinuz = fs.existsSync(boot) ? fs.readdirSync(boot).find((f) => f.startsWith('vmlinuz-')) : undefined;
  if (!vmlinuz) throw new KernelFetchError(`${name} has no /boot/vmlinuz-*`);
  const stored = cache.store(series, path.join(boot, vmlinuz), {
    source: 'debian',
    package: name,
    packageVersion: pkg.version,
    suite: DEBIAN_SERIES[series],
    version: pkg.version.replace(/-[^-]*$/, ''),
  });
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(downloads, { recursive: true, force: true });
  options.onProgress?.({ series, phase: 'done', package: name, bytes: pkg.size, totalBytes: pkg.size });
  return stored;
}

function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) total += fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0;
    }
  };
  try {
    walk(dir);
  } catch {
    // a partial file renamed under us
  }
  return total;
}

function check(result: RunResult, what: string): void {
  if (result.exitCode === 0 && !result.spawnError && !result.cancelled && !result.timedOut) return;
  if (result.cancelled) throw new KernelFetchError(`${what}: cancelled`);
  if (result.spawnError?.code === 'ENOENT') {
    throw new KernelFetchError(
      `${result.argv[0]} is not installed: fetching Debian's kernels needs apt-get and dpkg-deb (a Debian or Ubuntu machine)`,
      'On another system, add a kernel image of your own: cilium-custom kernels add NAME /path/to/vmlinuz',
    );
  }
  if (result.timedOut) throw new KernelFetchError(`${what} timed out`);
  const lines = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trim()).filter((l) => /^(E|Err|W):/.test(l));
  const detail = lines.at(-1) ?? result.stderr.trim().split('\n').at(-1) ?? `exit code ${result.exitCode}`;
  throw new KernelFetchError(`${what} failed: ${detail}`, 'Check that deb.debian.org is reachable (a proxy can be set in the environment: http_proxy).');
}
