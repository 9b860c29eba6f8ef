// Whether a program is on PATH, without spawning a shell.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function isOnPath(program: string, envPath = process.env.PATH ?? ''): boolean {
  if (program.includes('/')) return isExecutable(program);
  return envPath.split(path.delimiter).some((dir) => dir !== '' && isExecutable(path.join(dir, program)));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
