// "Ours" is whatever is pinned under the pin prefix (<bpffs>/cilium-custom by default): one directory per loaded
// program, holding `prog` and `maps/`. The bpffs is the record: no state file can disagree with the kernel.
import type { Target } from '../target/target';
import { mapLimited, showPinnedProg } from '../maps/bpftool';
import type { BpfProgInfo } from '../maps/bpftoolJson';
import { throwEnvironmentProblem } from '../maps/runProblems';
import { isPinName } from './pinScope';

export interface OurProgram {
  /** The pin directory's name (derived from the header's base name). */
  name: string;
  dir: string;
  progPin: string;
  mapsDir: string;
  /** null when the directory holds no readable program pin (a leftover). */
  prog: BpfProgInfo | null;
}

export function pinLayout(pinPrefix: string, name: string): { dir: string; progPin: string; mapsDir: string } {
  const dir = `${pinPrefix}/${name}`;
  return { dir, progPin: `${dir}/prog`, mapsDir: `${dir}/maps` };
}

/** Names directly under `dir` (empty when it does not exist). */
export async function listDir(target: Target, dir: string, signal?: AbortSignal): Promise<{ exists: boolean; names: string[] }> {
  const run = await target.run(['ls', '-1A', '--', dir], { privileged: true, signal, timeoutMs: 30_000 });
  if (run.exitCode !== 0) {
    throwEnvironmentProblem(target, run, `Listing ${dir}`);
    if (/No such file or directory/i.test(run.stderr)) return { exists: false, names: [] };
    if (/Not a directory/i.test(run.stderr)) return { exists: false, names: [] };
  }
  return { exists: run.exitCode === 0, names: run.stdout.split('\n').filter((n) => n !== '') };
}

export async function listOurPrograms(target: Target, pinPrefix: string, signal?: AbortSignal): Promise<OurProgram[]> {
  const { names } = await listDir(target, pinPrefix, signal);
  return mapLimited(names.filter(isPinName).sort(), 8, async (name) => {
    const layout = pinLayout(pinPrefix, name);
    const { info } = await showPinnedProg(target, layout.progPin, signal);
    return { name, ...layout, prog: info.ok ? info.value : null };
  });
}
