// cilium-custom sandbox up|traffic|down|status: a local endpoint (netns + veth + mock datapath) to try custom programs on.
import { describeCondition, sandboxCondition } from '../core/sandbox/choose';
import { DEFAULT_ENDPOINT_ID, DEFAULT_IDENTITY, SandboxError, validateEndpointId } from '../core/sandbox/names';
import { sandboxDown, sandboxStatus, sandboxTraffic, sandboxUp, type SandboxDownResult, type TrafficFamily } from '../core/sandbox/sandbox';
import { bundledSdkDir, parseCommandArgs, printJson, UsageError } from './args';
import { checkLocalPrivilege, PrivilegeError } from './privilege';

export const SANDBOX_USAGE = `usage: cilium-custom sandbox <up|traffic|down|status> [options]
  up      [--endpoint ID] [--identity N] [--return-code N] [--verbose] [--json]
  traffic [--endpoint ID] [--count N] [--size BYTES] [--family ipv4|ipv6|both] [--json]
  down    [--endpoint ID] [--force] [--pin-prefix DIR] [--verbose] [--json]
          (takes out and unpins the programs cilium-custom attached to its slots; refuses,
          naming them, when others are there, unless --force)
  status  [--endpoint ID] [--json]
Defaults: --endpoint ${DEFAULT_ENDPOINT_ID}, --identity ${DEFAULT_IDENTITY}. Needs root (or CAP_BPF and CAP_NET_ADMIN).`;

export async function runSandboxCli(args: string[], signal: AbortSignal): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommandArgs(rest, {
    endpoint: { type: 'string' },
    identity: { type: 'string' },
    'return-code': { type: 'string' },
    count: { type: 'string' },
    size: { type: 'string' },
    family: { type: 'string' },
    force: { type: 'boolean', default: false },
    'pin-prefix': { type: 'string' },
    verbose: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length) throw new UsageError(`sandbox ${sub ?? ''}: unexpected argument ${positionals[0]}\n${SANDBOX_USAGE}`);
  if (sub === undefined || !['up', 'traffic', 'down', 'status'].includes(sub)) {
    throw new UsageError(sub === undefined ? SANDBOX_USAGE : `unknown sandbox command: ${sub}\n${SANDBOX_USAGE}`);
  }
  const onCommand = values.verbose ? (argv: readonly string[]) => process.stderr.write(`+ ${argv.join(' ')}\n`) : undefined;
  let endpointId = DEFAULT_ENDPOINT_ID;
  try {
    endpointId = values.endpoint !== undefined ? validateEndpointId(values.endpoint) : DEFAULT_ENDPOINT_ID;
    // One clear line before anything runs, instead of an EACCES from deep inside.
    checkLocalPrivilege('sandbox', { isRemote: false });
    switch (sub) {
      case 'up': {
        const r = await sandboxUp({
          endpointId,
          identity: values.identity !== undefined ? parseIntStrict(values.identity, 'identity') : DEFAULT_IDENTITY,
          returnCode: values['return-code'] !== undefined ? parseIntStrict(values['return-code'], 'return code') : 0,
          sdkDir: bundledSdkDir(),
          signal,
          onCommand,
        });
        if (values.json) printJson({ state: r.state, stateFile: r.stateFile });
        else {
          const n = r.state.names;
          process.stdout.write(
            `sandbox ${endpointId} is up: namespace ${n.netns}, host side ${n.hostIf} (${n.hostV4}, ${n.hostV6}), ` +
              `namespace side eth0 (${n.nsV4}, ${n.nsV6}), identity ${r.state.identity}\n` +
              `attach custom programs to ${n.callsMapPin} (keys 0 IPv4 ingress, 1 IPv4 egress, 2 IPv6 ingress, 3 IPv6 egress)\n`,
          );
        }
        return 0;
      }
      case 'traffic': {
        const family = (values.family ?? 'both') as TrafficFamily;
        if (!['ipv4', 'ipv6', 'both'].includes(family)) throw new UsageError(`--family must be ipv4, ipv6 or both`);
        const r = await sandboxTraffic({
          endpointId,
          count: values.count !== undefined ? parseIntStrict(values.count, 'count') : 10,
          size: values.size !== undefined ? parseIntStrict(values.size, 'size') : 64,
          family,
          signal,
          onCommand,
        });
        if (values.json) printJson({ families: r.families, packetsSent: r.packetsSent, bytesSent: r.bytesSent });
        else {
          for (const f of r.families) {
            process.stdout.write(`${f.family}: ${f.sent} datagrams to the pod (endpoint ingress, ${f.toPodBytes} B), ${f.echoed} echoes from it (endpoint egress, ${f.fromPodBytes} B), ${f.frameBytes} B each at tc\n`);
          }
        }
        return r.families.every((f) => f.echoed === f.sent) ? 0 : 1;
      }
      case 'down': {
        const r = await sandboxDown({ endpointId, force: values.force, pinPrefix: values['pin-prefix'], signal, onCommand });
        if (values.json) {
          printJson({ endpointId, wasUp: r.wasUp, detached: r.detached, removedPins: r.removedPins, keptPins: r.keptPins, leftoverPins: r.leftoverPins });
        } else {
          for (const line of releaseLines(r)) process.stdout.write(`${line}\n`);
          process.stdout.write(r.wasUp ? `sandbox ${endpointId} removed\n` : `sandbox ${endpointId} was not up: nothing to do\n`);
        }
        return r.leftoverPins.length ? 1 : 0;
      }
      case 'status': {
        const list = await sandboxStatus({ endpointId: values.endpoint !== undefined ? endpointId : undefined, signal, onCommand });
        if (values.json) printJson(list);
        else if (!list.length) process.stdout.write(values.endpoint !== undefined ? `sandbox ${endpointId} is not up\n` : 'no sandbox is up\n');
        else {
          for (const s of list) {
            const condition = sandboxCondition(s);
            const endpoint = s.endpointId === DEFAULT_ENDPOINT_ID ? '' : ` --endpoint ${s.endpointId}`;
            const shown = condition === 'up' ? 'up' : `${describeCondition(condition)}; unless another process is working on it, run "cilium-custom sandbox down${endpoint}"`;
            process.stdout.write(`${s.endpointId}: ${shown}, identity ${s.identity}, ${s.netns}/${s.hostIf}, ${s.callsMapPin} slots [${s.occupiedSlots.join(', ')}]\n`);
          }
        }
        return 0;
      }
    }
    return 2;
  } catch (error) {
    if (error instanceof PrivilegeError || (error instanceof SandboxError && error.kind === 'needs-root')) {
      // Exactly one line, as every command that needs root says it.
      if (values.json) printJson({ error: error.message });
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    if (!(error instanceof SandboxError)) throw error;
    if (error.kind === 'invalid') throw new UsageError(error.message);
    const message = `${error.message}${nextStep(error, endpointId)}`;
    if (values.json) printJson({ error: message, kind: error.kind });
    process.stderr.write(`cilium-custom: ${message}\n`);
    return 1;
  }
}

/** What to run next, in CLI words (the editor has its own). */
function nextStep(error: SandboxError, id: number): string {
  const endpoint = id === DEFAULT_ENDPOINT_ID ? '' : ` --endpoint ${id}`;
  switch (error.kind) {
    case 'not-up':
      return `; run "cilium-custom sandbox up${endpoint}" first`;
    case 'already-up':
      return `; use it, or run "cilium-custom sandbox down${endpoint}" first`;
    case 'busy':
      return '; try again once it has finished';
    case 'foreign-programs': {
      const hooks = error.hooks;
      const [it, its] = hooks.length > 1 ? ['them', 'their'] : ['it', 'its'];
      const hookFlags = hooks.length ? hooks.map((h) => ` --hook ${h}`).join('') : ' --hook H';
      return ` Detach ${it} first (cilium-custom detach --endpoint ${id}${hookFlags} --force), or remove the sandbox anyway with "cilium-custom sandbox down${endpoint} --force" (takes ${it} out of the slots and keeps ${its} pins).`;
    }
    default:
      return '';
  }
}

/** What `down` did to the programs in the sandbox's slots, one line per program. */
function releaseLines(r: SandboxDownResult): string[] {
  const byProg = new Map<number, { ours: string | null; hooks: string[] }>();
  for (const d of r.detached) {
    const entry = byProg.get(d.progId) ?? { ours: d.ours, hooks: [] };
    entry.hooks.push(d.hook);
    byProg.set(d.progId, entry);
  }
  const lines: string[] = [];
  for (const [progId, { ours, hooks }] of byProg) {
    if (ours) {
      const dir = [...r.removedPins, ...r.keptPins, ...r.leftoverPins].find((p) => p.split('/').pop() === ours);
      const fate = dir === undefined ? '' : r.removedPins.includes(dir) ? `; removed its pins ${dir}` : r.keptPins.includes(dir) ? `; kept its pins ${dir} (another endpoint uses it)` : `; could not remove its pins ${dir}`;
      lines.push(`detached ${ours} (program ${progId}) from ${hooks.join(', ')}${fate}`);
    } else {
      lines.push(`took program ${progId} out of ${hooks.join(', ')} (--force; not attached by cilium-custom, its pins are kept)`);
    }
  }
  return lines;
}

function parseIntStrict(text: string, what: string): number {
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(text)) throw new UsageError(`${what} must be a non-negative integer, not ${JSON.stringify(text)}`);
  return Number(text);
}
