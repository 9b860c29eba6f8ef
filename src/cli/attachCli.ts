// cilium-custom attach | detach | endpoints
import { attach, detach, type AttachRecord, type DetachResult } from '../core/attach/attach';
import { discoverEndpoints, type DiscoveryResult } from '../core/endpoints/discover';
import { ValidationError } from '../core/ids';
import { CustomCallsProblem } from '../core/problem';
import { parseCommandArgs, printJson, UsageError } from './args';
import { BUILD_OPTIONS, buildSettingsFromFlags } from './buildCli';
import { TARGET_OPTIONS, targetFromFlags } from './targetArgs';
import { checkLocalPrivilege } from './privilege';
import { pauseAt } from './testPause';
import { describeJournal, type Recovery } from '../core/attach/journal';

const PIN_OPTIONS = {
  'pin-prefix': { type: 'string' },
  name: { type: 'string' },
} as const;

/** Problems and invalid input become a message and exit code 1 (2 for invalid input, like any usage error). */
async function guarded(json: boolean, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message);
    if (!(error instanceof CustomCallsProblem)) throw error;
    if (json) printJson({ ok: false, problem: error.kind, message: error.message, fix: error.fix, rollbackFailures: error.rollbackFailures });
    else process.stderr.write(`cilium-custom: ${error.full}\n`);
    return 1;
  }
}

export async function runAttachCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    ...PIN_OPTIONS,
    endpoint: { type: 'string' },
    hook: { type: 'string', multiple: true },
    replace: { type: 'boolean', default: false },
    ...BUILD_OPTIONS,
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('attach takes exactly one header or object file');
  if (values.endpoint === undefined) throw new UsageError('attach needs --endpoint ID');
  if (!values.hook?.length) throw new UsageError('attach needs at least one --hook (ipv4-ingress, ipv4-egress, ipv6-ingress, ipv6-egress)');
  const settings = buildSettingsFromFlags(values);
  const target = targetFromFlags(values);
  checkLocalPrivilege('attach', target);
  try {
    return await guarded(values.json, async () => {
      const record = await attach({
        target,
        input: positionals[0],
        endpointId: values.endpoint!,
        hooks: values.hook!,
        replace: values.replace,
        pinPrefix: values['pin-prefix'],
        pinName: values.name,
        ...settings,
        signal,
        onStep: stepReporter(values.json, signal),
      });
      if (values.json) printJson({ ok: true, ...record });
      else printAttach(record);
      return 0;
    });
  } finally {
    await target.dispose();
  }
}

/** Progress lines on stderr (not with --json), and the test pause hook. */
function stepReporter(json: boolean, signal: AbortSignal): (step: string) => Promise<void> {
  return async (step) => {
    if (!json) process.stderr.write(`  ${step}...\n`);
    await pauseAt(step, signal);
  };
}

function printRecovery(recovery: Recovery | undefined): void {
  if (!recovery) return;
  process.stdout.write(`finished the rollback of ${describeJournal(recovery.journal)} first:\n`);
  for (const a of recovery.actions) process.stdout.write(`  ${a}\n`);
}

function printAttach(r: AttachRecord): void {
  printRecovery(r.recovered);
  const how = r.reused ? ', the one already loaded for this endpoint: its maps are shared' : '';
  process.stdout.write(`attached ${r.prog.name} (program ${r.prog.id}, tag ${r.prog.tag}${how}) to endpoint ${r.endpointId}\n`);
  for (const h of r.hooks) process.stdout.write(`  ${h.hook} (slot ${h.key})${h.previousProgId !== null ? `, replacing program ${h.previousProgId}` : ''}\n`);
  process.stdout.write(`  pinned at ${r.progPin}\n`);
  for (const m of r.maps) process.stdout.write(`  map ${r.mapsDir}/${m}\n`);
  for (const d of r.removedPins) process.stdout.write(`  removed the replaced program's pins ${d}\n`);
}

export async function runDetachCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    ...PIN_OPTIONS,
    endpoint: { type: 'string' },
    hook: { type: 'string', multiple: true },
    force: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 0) throw new UsageError('detach takes no positional arguments');
  if (values.endpoint === undefined) throw new UsageError('detach needs --endpoint ID');
  if (!values.hook?.length) throw new UsageError('detach needs at least one --hook');
  const target = targetFromFlags(values);
  checkLocalPrivilege('detach', target);
  try {
    return await guarded(values.json, async () => {
      const result = await detach({
        target,
        endpointId: values.endpoint!,
        hooks: values.hook!,
        force: values.force,
        pinPrefix: values['pin-prefix'],
        pinName: values.name,
        signal,
        onStep: stepReporter(values.json, signal),
      });
      if (values.json) printJson({ ok: true, ...result });
      else printDetach(result);
      return result.leftovers.length ? 1 : 0;
    });
  } finally {
    await target.dispose();
  }
}

function printDetach(r: DetachResult): void {
  printRecovery(r.recovered);
  for (const h of r.hooks) {
    const what = h.progId === null ? 'was empty' : `program ${h.progId}${h.ours ? ` (${h.ours})` : ' (not ours, forced)'} detached`;
    process.stdout.write(`endpoint ${r.endpointId} ${h.hook}: ${what}\n`);
  }
  for (const d of r.removedPins) process.stdout.write(`  removed ${d}\n`);
  for (const d of r.keptPins) process.stdout.write(`  kept ${d} (still attached elsewhere)\n`);
  for (const d of r.leftovers) process.stderr.write(`cilium-custom: could not remove ${d}\n`);
}

export async function runEndpointsCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    'pin-prefix': { type: 'string' },
    'cilium-command': { type: 'string' },
    'no-cilium': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 0) throw new UsageError('endpoints takes no positional arguments');
  const ciliumCommand = values['cilium-command']?.trim().split(/\s+/).filter((a) => a !== '');
  const target = targetFromFlags(values);
  checkLocalPrivilege('endpoints', target);
  try {
    return await guarded(values.json, async () => {
      const result = await discoverEndpoints(target, {
        ciliumCommand: ciliumCommand?.length ? ciliumCommand : undefined,
        skipCilium: values['no-cilium'],
        pinPrefix: values['pin-prefix'],
        signal,
      });
      if (values.json) printJson(result);
      else printEndpoints(result);
      return result.endpoints.length ? 0 : 1;
    });
  } finally {
    await target.dispose();
  }
}

function printEndpoints(r: DiscoveryResult): void {
  if (r.reason) process.stdout.write(`${r.reason}\n`);
  for (const e of r.endpoints) {
    const c = e.cilium;
    const who = c ? ` ${c.namespace ?? ''}${c.namespace ? '/' : ''}${c.podName ?? ''} identity ${c.identity ?? '?'} ${[...c.ipv4, ...c.ipv6].join(' ')} ${c.state ?? ''}`.trimEnd() : '';
    process.stdout.write(`endpoint ${e.id}${who}\n  ${e.mapPath}${e.problem ? `: ${e.problem}` : ''}\n`);
    for (const s of e.slots) {
      const prog = s.progId === null ? '-' : `program ${s.progId}${s.prog ? ` ${s.prog.name} (${s.prog.type}, tag ${s.prog.tag})` : ''}${s.ours ? ` [ours: ${s.ours}]` : ''}`;
      process.stdout.write(`    ${s.key} ${s.hook.padEnd(12)} ${prog}\n`);
    }
  }
  if (!r.cilium.available && r.cilium.reason) process.stdout.write(`(no Cilium endpoint details: ${r.cilium.reason})\n`);
}
