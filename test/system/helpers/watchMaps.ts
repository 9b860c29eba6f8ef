// Real pinned maps for the Watch Map tests and bench: a private folder on the bpffs (removed with everything in
// it), maps made by `bpftool map create` (no BTF) or loaded from a tiny object built with clang -g (BTF keys and
// values), and filled through `bpftool batch`. Also the CPU time this process and its reaped children used.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const BPFFS = '/sys/fs/bpf';

export function bpftoolSync(...args: string[]): string {
  return execFileSync('bpftool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** A fresh folder of our own on the bpffs; remove() deletes it with every pin in it (programs and maps freed). */
export function privateBpffsDir(prefix = 'ccp-watch-'): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(BPFFS, prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A map with BTF key and value types: `declarations` is C that defines one map named `name` in SEC(".maps"). */
export function loadBtfMap(work: string, pinDir: string, name: string, declarations: string): string {
  const source = path.join(work, `${name}.c`);
  const object = path.join(work, `${name}.o`);
  fs.writeFileSync(
    source,
    `typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
${declarations}
SEC("tc") int ${name}_prog(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`,
  );
  execFileSync('clang', ['--target=bpf', '-O2', '-g', '-c', source, '-o', object], { stdio: 'pipe' });
  bpftoolSync('prog', 'loadall', object, path.join(pinDir, 'progs'), 'type', 'classifier', 'pinmaps', path.join(pinDir, 'maps'));
  return path.join(pinDir, 'maps', name);
}

/** Little-endian hex bytes of n (up to 2^53), `bytes` long, as `bpftool ... hex` takes them. */
export function leHex(n: number, bytes: number): string {
  const out: string[] = [];
  let v = BigInt(n);
  for (let i = 0; i < bytes; i++, v >>= 8n) out.push((v & 0xffn).toString(16).padStart(2, '0'));
  return out.join(' ');
}

/** Runs `map update pinned PIN key hex K value hex V` for every [key, value] through one `bpftool batch`. */
export function updateMap(work: string, pin: string, entries: readonly (readonly [string, string])[]): void {
  const batch = path.join(work, 'update.batch');
  fs.writeFileSync(batch, entries.map(([k, v]) => `map update pinned ${pin} key hex ${k} value hex ${v}\n`).join(''));
  bpftoolSync('batch', 'file', batch);
}

let ticks: number | undefined;

/** CPU time (ms) used so far by this process and by its children that have been waited for (bpftool runs). */
export function cpuTimeMs(): { self: number; children: number } {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const usage = process.cpuUsage();
  // /proc/self/stat fields 16 and 17 (cutime, cstime): after the ")" of the command name, they are the 14th and 15th.
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const children = ((Number(fields[13]) + Number(fields[14])) * 1000) / ticks;
  return { self: (usage.user + usage.system) / 1000, children };
}
