// A failed bpftool (or other) run on a target, as the problem attach, detach, discovery and map dumps report: its own
// error text, and the environment problems (no bpftool, no permission, cancelled, connection) that have a fix.
import { describeTargetFailure } from '../target';
import type { RunResult } from '../process';
import type { Target } from '../target/target';
import { classifyRunProblem } from '../verify/verifyErrors';
import { CustomCallsProblem } from '../problem';
import { bpftoolError } from './bpftoolJson';

/** bpftool's own error text for a failed run (its -j {"error"} object, else the last stderr line). */
export function runErrorText(target: Target, run: RunResult): string {
  const json = bpftoolError(run.stdout);
  if (json) return json;
  const lines = run.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const error = lines.find((l) => l.startsWith('Error:'));
  if (error) return error.slice('Error:'.length).trim();
  const line = lines.filter((l) => !l.startsWith('Warning:') && !/--legacy option/.test(l)).pop();
  return line ?? describeTargetFailure(target, run);
}

/** Throws the environment problem a failed run shows (no bpftool, no permission, cancelled, connection), if any. */
export function throwEnvironmentProblem(target: Target, run: RunResult, what: string): void {
  if (run.exitCode === 0) return;
  if (run.cancelled) throw new CustomCallsProblem('cancelled', `${what}: cancelled.`);
  const known = classifyRunProblem(run, target, what);
  if (known && known.kind !== 'cancelled') {
    const kind = known.kind === 'bpftool-missing' || known.kind === 'not-permitted' || known.kind === 'timeout' ? known.kind : 'target';
    throw new CustomCallsProblem(kind, known.message, known.fix);
  }
  const remote = run as { phase?: string; connectionLost?: boolean };
  if (target.isRemote && (remote.phase === 'connect' || remote.connectionLost || run.exitCode === 255) && !bpftoolError(run.stdout)) {
    throw new CustomCallsProblem('connection', `${what} failed: ${describeTargetFailure(target, run)}`, 'Check that the target is reachable.');
  }
}
