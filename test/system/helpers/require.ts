// Preconditions of system tests. A missing precondition skips the test loudly on a developer's machine, but under
// CI=true it fails: CI must run the real thing.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export function requireOrSkip(ctx: Mocha.Context, ok: boolean, reason: string): void {
  if (ok) return;
  if (process.env.CI === 'true') throw new Error(`system test precondition failed under CI=true: ${reason}`);
  console.warn(`\n  !!! SKIPPED: ${reason}\n`);
  ctx.skip();
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function bpffsMounted(root = '/sys/fs/bpf'): boolean {
  try {
    const mounts = fs.readFileSync('/proc/mounts', 'utf8');
    return mounts.split('\n').some((line) => {
      const [, mountPoint, type] = line.split(' ');
      return mountPoint === root && type === 'bpf';
    });
  } catch {
    return false;
  }
}

/** Skips (or fails under CI) unless clang and make are installed. */
export function requireToolchain(ctx: Mocha.Context): void {
  for (const tool of ['make', 'clang']) requireOrSkip(ctx, hasCommand(tool), `${tool} is not installed (apt-get install clang llvm make)`);
}

/** Skips (or fails under CI) unless this process can load BPF programs through bpftool. */
export function requireBpf(ctx: Mocha.Context): void {
  requireToolchain(ctx);
  requireOrSkip(ctx, hasCommand('bpftool'), 'bpftool is not installed (apt-get install bpftool)');
  requireOrSkip(ctx, isRoot(), 'loading BPF programs needs root');
  requireOrSkip(ctx, bpffsMounted(), 'bpffs is not mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)');
}
