// Targets: where BPF commands run. createTarget() builds one from plain configuration (settings, CLI flags).
import type { RunResult } from '../process';
import { describeFailure as describeProcessFailure } from '../process';
import { LocalTarget, type LocalTargetConfig } from './localTarget';
import { SshTarget, type SshTargetConfig } from './sshTarget';
import type { Target } from './target';

export type { Target, TargetRunOptions } from './target';
export { LocalTarget, type LocalTargetConfig } from './localTarget';
export { SshTarget, type SshTargetConfig, type SshRunResult } from './sshTarget';
export { shellQuote } from './shellQuote';
export { parseSshSpec, checkDestination, validateDestination, type SshSpec } from './sshSpec';
export { describeSshFailure, describeSudoFailure } from './failures';

export type TargetConfig = ({ kind: 'local' } & LocalTargetConfig) | ({ kind: 'ssh' } & SshTargetConfig);

/** Builds a target. Throws an Error with a clear message on an invalid configuration (e.g. a bad destination). */
export function createTarget(config: TargetConfig): Target {
  // The configs are plain objects; the extra `kind` member is ignored by the constructors.
  switch (config.kind) {
    case 'local':
      return new LocalTarget(config);
    case 'ssh':
      return new SshTarget(config);
  }
}

/** The target's own description of a failed run when it has one, else the generic process description. */
export function describeTargetFailure(target: Target, result: RunResult): string {
  return target.describeFailure?.(result) ?? describeProcessFailure(result);
}
