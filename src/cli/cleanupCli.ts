// cilium-custom cleanup: finds (and removes) what earlier runs left: our programs in no endpoint slot, and the
// temporary pins of verifies that died.
import { findOrphans, removeOrphans } from '../core/attach/orphans';
import { CustomCallsProblem } from '../core/endpoints/problem';
import { parseCommandArgs, printJson, UsageError } from './args';
import { TARGET_OPTIONS, targetFromFlags } from './targetArgs';

export async function runCleanupCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    'pin-prefix': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length) throw new UsageError('cleanup takes no arguments');
  const target = targetFromFlags(values);
  try {
    const orphans = await findOrphans(target, { pinPrefix: values['pin-prefix'], signal });
    const failures = values['dry-run'] ? [] : await removeOrphans(target, orphans, values['pin-prefix']);
    if (values.json) printJson({ orphans, removed: !values['dry-run'], failures });
    else {
      if (orphans.length === 0) process.stdout.write('nothing to clean up\n');
      for (const o of orphans) process.stdout.write(`${values['dry-run'] ? 'would remove' : 'removed'} ${o.path}  (${o.detail})\n`);
      for (const f of failures) process.stderr.write(`cilium-custom: ${f}\n`);
    }
    return failures.length ? 1 : 0;
  } catch (error) {
    if (!(error instanceof CustomCallsProblem)) throw error;
    process.stderr.write(`cilium-custom: ${error.full}\n`);
    return 1;
  } finally {
    await target.dispose();
  }
}
