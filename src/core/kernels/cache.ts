// The per-user kernel cache: $XDG_CACHE_HOME/cilium-custom/kernels/<name>/{vmlinuz,meta.json} (~/.cache when
// XDG_CACHE_HOME is unset). Entries are written to a temporary folder beside the final one and renamed into place,
// so a fetch or add that dies half-way never leaves a kernel that looks usable.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kernelVersionOf, readBzImage } from './bzImage';

export interface KernelMeta {
  /** The cache name: a fetched series ("6.1") or the name given to `add`. */
  name: string;
  /** The upstream version the kernel reports, e.g. "6.1.176" (or the name, when the image does not say). */
  version: string;
  /** `uname -r` of the kernel, when its header names it. */
  release?: string;
  source: 'debian' | 'file';
  /** Debian: the package and the suite it came from. */
  package?: string;
  packageVersion?: string;
  suite?: string;
  /** `add`: the file it was copied from. */
  from?: string;
  size: number;
  sha256: string;
  addedAt: string;
}

export interface CachedKernel extends KernelMeta {
  dir: string;
  vmlinuz: string;
}

/** Names that select something else on the command line (`--kernel host`, `--kernels all`). */
const RESERVED = new Set(['host', 'all', 'local']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** Why a cache name is unusable, or undefined. */
export function checkKernelName(name: string): string | undefined {
  if (!NAME.test(name) || name.includes('..')) {
    return `invalid kernel name ${JSON.stringify(name)}: use letters, digits and . _ + - (up to 64, not starting with a symbol)`;
  }
  if (RESERVED.has(name)) return `"${name}" is reserved (it means something else to --kernel); choose another name`;
  return undefined;
}

export function kernelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'cilium-custom', 'kernels');
}

export class KernelCache {
  constructor(readonly root: string = kernelCacheDir()) {}

  list(): CachedKernel[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    return names
      .filter((name) => checkKernelName(name) === undefined)
      .map((name) => this.get(name))
      .filter((k): k is CachedKernel => k !== undefined)
      .sort((a, b) => compareVersions(a.version, b.version) || a.name.localeCompare(b.name));
  }

  get(name: string): CachedKernel | undefined {
    if (checkKernelName(name)) return undefined;
    const dir = path.join(this.root, name);
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as KernelMeta;
      const vmlinuz = path.join(dir, 'vmlinuz');
      if (!fs.statSync(vmlinuz).isFile() || meta.name !== name) return undefined;
      return { ...meta, dir, vmlinuz };
    } catch {
      return undefined;
    }
  }

  /**
   * Stores an image under `name` (replacing an entry of that name): copied, checked as a bzImage, its version read
   * from its header. Throws an Error saying why the file is refused.
   */
  store(name: string, image: string, meta: Omit<KernelMeta, 'name' | 'version' | 'size' | 'sha256' | 'addedAt' | 'release'> & { version?: string }): CachedKernel {
    const bad = checkKernelName(name);
    if (bad) throw new Error(bad);
    const facts = readBzImage(image);
    fs.mkdirSync(this.root, { recursive: true });
    const staging = fs.mkdtempSync(path.join(this.root, `.${name}.tmp-`));
    try {
      const vmlinuz = path.join(staging, 'vmlinuz');
      fs.copyFileSync(image, vmlinuz);
      const sha256 = crypto.createHash('sha256').update(fs.readFileSync(vmlinuz)).digest('hex');
      const full: KernelMeta = {
        name,
        version: meta.version ?? kernelVersionOf(facts) ?? name,
        ...(facts.release ? { release: facts.release } : {}),
        source: meta.source,
        ...(meta.package ? { package: meta.package } : {}),
        ...(meta.packageVersion ? { packageVersion: meta.packageVersion } : {}),
        ...(meta.suite ? { suite: meta.suite } : {}),
        ...(meta.from ? { from: meta.from } : {}),
        size: facts.size,
        sha256,
        addedAt: new Date().toISOString(),
      };
      fs.writeFileSync(path.join(staging, 'meta.json'), `${JSON.stringify(full, null, 2)}\n`);
      const dir = path.join(this.root, name);
      const old = fs.existsSync(dir) ? `${staging}.old` : undefined;
      if (old) fs.renameSync(dir, old);
      fs.renameSync(staging, dir);
      if (old) fs.rmSync(old, { recursive: true, force: true });
      return { ...full, dir, vmlinuz: path.join(dir, 'vmlinuz') };
    } catch (error) {
      fs.rmSync(staging, { recursive: true, force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new Error(`no space left in the kernel cache ${this.root} for ${name} (${(facts.size / 1e6).toFixed(0)} MB): free some space there, or set XDG_CACHE_HOME to a roomier disk; nothing was stored`);
      }
      throw error;
    }
  }

  /** Removes an entry; false when there was none. */
  remove(name: string): boolean {
    const bad = checkKernelName(name);
    if (bad) throw new Error(bad);
    const dir = path.join(this.root, name);
    if (!fs.existsSync(dir)) return false;
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
  }
}

/** Numeric comparison of dotted versions ("5.10.223" < "6.1.176" < "6.12.117"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[^0-9]+/).filter(Boolean).map(Number);
  const pb = b.split(/[^0-9]+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
