// The one way this tool deletes anything on a target. It runs as root on nodes that hold Cilium's own state, so a
// path is removed only when it is provably ours:
//   - pins: a directory <pin prefix>/<name> (or a verify's <bpffs>/cilium-custom-verify-*) on the bpffs, holding
//     nothing but our layout: a `prog` pin and a `maps/` folder of pins;
//   - uploads: a verify's /tmp/cilium-custom-verify-* folder holding only regular files.
// The pin prefix itself must lie inside the bpffs and outside what Cilium and iproute2 own (pinScope.ts). The layout
// is checked on the node, right before `rm`, by one constant script with every path as a positional parameter.
import type { Target } from '../target/target';
import { BPFFS_MAGIC_HEX } from '../target/bpffs';
import { trimRoot } from '../ids';
import { UPLOAD_ROOT, VERIFY_SCRIPT_NAME } from '../verify/verifyScript';
import { isPinName } from '../pins/pinScope';

export type RemovalKind = 'pins' | 'upload';

export interface RemovalRequest {
  kind: RemovalKind;
  path: string;
}

export interface RemovalReport {
  removed: string[];
  /** Paths that were already gone. */
  gone: string[];
  /** "path: why" for each path refused as not ours (nothing was done to it). */
  refused: string[];
  /** "path: error" for each path whose removal failed. */
  failed: string[];
}

const REMOVER_NAME = 'cilium-custom-remove';
// Lines: "@removed P", "@gone P", "@ok P" (check mode), "@refused P: why", "@failed P: error".
const REMOVER_SCRIPT = `mode=$1
shift
foreign() {
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    case \${e##*/} in
    prog) { [ -f "$e" ] && [ ! -L "$e" ]; } || { echo "$e"; return; } ;;
    maps)
      { [ -d "$e" ] && [ ! -L "$e" ]; } || { echo "$e"; return; }
      bad=$(find "$e" -mindepth 1 ! -type f -print | head -n 1)
      [ -z "$bad" ] || { echo "$bad"; return; }
      ;;
    *) echo "$e"; return ;;
    esac
  done
}
while [ $# -ge 2 ]; do
  kind=$1 p=$2
  shift 2
  if [ -L "$p" ]; then echo "@refused $p: a symbolic link"; continue; fi
  if [ ! -e "$p" ]; then echo "@gone $p"; continue; fi
  if [ ! -d "$p" ]; then echo "@refused $p: not a directory"; continue; fi
  case $kind in
  pins)
    magic=$(stat -f -c %t -- "$p" 2>/dev/null)
    if [ "$magic" != ${BPFFS_MAGIC_HEX} ]; then echo "@refused $p: not on the bpffs"; continue; fi
    bad=$(foreign "$p")
    if [ -n "$bad" ]; then echo "@refused $p: holds $bad, which is not a program or map pin of ours"; continue; fi
    ;;
  upload)
    bad=$(find "$p" -mindepth 1 ! -type f -print | head -n 1)
    if [ -n "$bad" ]; then echo "@refused $p: holds $bad, which is not an uploaded object"; continue; fi
    ;;
  *) echo "@refused $p: unknown kind"; continue ;;
  esac
  if [ "$mode" = check ]; then echo "@ok $p"; continue; fi
  if err=$(rm -rf -- "$p" 2>&1); then echo "@removed $p"; else echo "@failed $p: $err"; fi
done
`;

/** Why `request` may not be removed at all (before anything runs), or undefined when its place is ours. */
export function misplaced(target: Target, request: RemovalRequest, pinPrefix: string): string | undefined {
  const root = trimRoot(target.bpffsRoot);
  const parent = request.path.slice(0, request.path.lastIndexOf('/'));
  const name = request.path.slice(request.path.lastIndexOf('/') + 1);
  const verifyName = new RegExp(`^${VERIFY_SCRIPT_NAME}-[0-9]+-[0-9a-f]+$`);
  if (request.kind === 'upload') return parent === UPLOAD_ROOT && verifyName.test(name) ? undefined : `not one of ours (not a verify upload under ${UPLOAD_ROOT})`;
  if (parent === root && verifyName.test(name)) return undefined;
  if (parent === pinPrefix && isPinName(name)) return undefined;
  return `not one of ours (not a pin directory under ${pinPrefix})`;
}

/** Removes (or, with check, only inspects) the given directories, refusing whatever is not provably ours. */
export async function removeOurDirs(
  target: Target,
  requests: readonly RemovalRequest[],
  pinPrefix: string,
  options: { check?: boolean; signal?: AbortSignal } = {},
): Promise<RemovalReport> {
  const report: RemovalReport = { removed: [], gone: [], refused: [], failed: [] };
  const allowed: RemovalRequest[] = [];
  for (const request of requests) {
    const why = misplaced(target, request, pinPrefix);
    if (why) report.refused.push(`${request.path}: ${why}`);
    else allowed.push(request);
  }
  if (!allowed.length) return report;
  const argv = ['sh', '-c', REMOVER_SCRIPT, REMOVER_NAME, options.check ? 'check' : 'remove', ...allowed.flatMap((r) => [r.kind, r.path])];
  const run = await target.run(argv, { privileged: true, signal: options.signal, timeoutMs: 60_000 });
  const seen = new Set<string>();
  for (const line of run.stdout.split('\n')) {
    const match = /^@(removed|gone|ok|refused|failed) (.*)$/.exec(line);
    if (!match) continue;
    const [, verdict, rest] = match;
    const path = allowed.find((r) => rest === r.path || rest.startsWith(`${r.path}: `))?.path;
    if (!path) continue;
    seen.add(path);
    if (verdict === 'removed' || verdict === 'ok') report.removed.push(path);
    else if (verdict === 'gone') report.gone.push(path);
    else if (verdict === 'refused') report.refused.push(rest);
    else report.failed.push(rest);
  }
  const what = run.stderr.trim().split('\n').at(-1) || `exit code ${run.exitCode}`;
  for (const r of allowed) if (!seen.has(r.path)) report.failed.push(`${r.path}: ${what}`);
  return report;
}

/** Removes our pin directories; returns one line for each that could not be removed or was refused. */
export async function removePinDirs(target: Target, dirs: readonly string[], pinPrefix: string): Promise<string[]> {
  if (!dirs.length) return [];
  const report = await removeOurDirs(target, dirs.map((path) => ({ kind: 'pins' as const, path })), pinPrefix);
  return [...report.refused.map((r) => `refused to remove ${r}`), ...report.failed.map((f) => `could not remove ${f}`)];
}

/** Removes the pin prefix when nothing is left in it (it is ours alone); never fails. */
export async function removePrefixIfEmpty(target: Target, pinPrefix: string): Promise<void> {
  await target.run(['rmdir', '--', pinPrefix], { privileged: true, timeoutMs: 30_000 });
}
