// Temporary folders named `<prefix><pid>-<random>` that a process of ours left when it was killed outright (no
// chance to clean up): the next run removes those whose owner is dead. Only the user's own folders go: another
// user's folder in a shared /tmp is not ours to remove.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Whether a process exists (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function removeDeadOwnersDirs(base: string, prefix: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(base).filter((name) => name.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    try {
      const stat = fs.lstatSync(path.join(base, name));
      if (stat.isDirectory() && stat.uid === process.getuid?.()) fs.rmSync(path.join(base, name), { recursive: true, force: true });
    } catch {
      // Gone meanwhile.
    }
  }
}
