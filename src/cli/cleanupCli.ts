// cilium-custom cleanup: finds (and removes) what earlier runs left: our programs in no endpoint slot, and the
// temporary pins of verifies that died.
import { findOrphans, removeOrphans } from '../core/attach/orphans';
import { CustomCallsProblem } from '../core/problem';
import { ValidationError } from '../core/ids';
import { parseCommandArgs, printJson, UsageError } from './args';
import { TARGET_OPTIONS, targetFromFlags } from './targetArgs';
import { checkLocalPrivilege } from './privilege';

export async function runCleanupCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    'pin-prefix': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length) throw new UsageError('cleanup takes no arguments');
  const target = targetFromFlags(values);
  checkLocalPrivilege('cleanup', target);
  try {
    const orphans = await findOrphans(target, { pinPrefix: values['pin-prefix'], signal });
    const failures = values['dry-run'] || orphans.length === 0 ? [] : await removeOrphans(target, orphans, values['pin-prefix'], signal);
    if (values.json) printJson({ orphans, removed: !values['dry-run'], failures });
    else {
      if (orphans.length === 0) process.stdout.write('nothing to clean up\n');
      for (const o of orphans) {
        const verb = o.kind === 'interrupted' ? (values['dry-run'] ? 'would roll back' : 'rolled back') : values['dry-run'] ? 'would remove' : 'removed';
        if (!failures.some((f) => f.includes(o.path))) process.stdout.write(`${verb} ${o.path}  (${o.detail})\n`);
      }
      for (const f of failures) process.stderr.write(`cilium-custom: ${f}\n`);
    }
    return failures.length ? 1 : 0;
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message);
    if (!(error instanceof CustomCallsProblem)) throw error;
    process.stderr.write(`cilium-custom: ${error.full}\n`);
    return 1;
  } finally {
    await target.dispose();
  }
}
