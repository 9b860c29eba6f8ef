// cilium-custom sandbox up|traffic|down|status: a local endpoint (netns + veth + mock datapath) to try custom programs on.
import { DEFAULT_ENDPOINT_ID, DEFAULT_IDENTITY, SandboxError, validateEndpointId } from '../core/sandbox/names';
import { sandboxDown, sandboxStatus, sandboxTraffic, sandboxUp, type TrafficFamily } from '../core/sandbox/sandbox';
import { bundledSdkDir, parseCommandArgs, printJson, UsageError } from './args';

export const SANDBOX_USAGE = `usage: cilium-custom sandbox <up|traffic|down|status> [options]
  up      [--endpoint ID] [--identity N] [--return-code N] [--verbose] [--json]
  traffic [--endpoint ID] [--count N] [--size BYTES] [--family ipv4|ipv6|both] [--json]
  down    [--endpoint ID] [--json]
  status  [--endpoint ID] [--json]
Defaults: --endpoint ${DEFAULT_ENDPOINT_ID}, --identity ${DEFAULT_IDENTITY}. Needs root.`;

export async function runSandboxCli(args: string[], signal: AbortSignal): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommandArgs(rest, {
    endpoint: { type: 'string' },
    identity: { type: 'string' },
    'return-code': { type: 'string' },
    count: { type: 'string' },
    size: { type: 'string' },
    family: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length) throw new UsageError(`sandbox ${sub ?? ''}: unexpected argument ${positionals[0]}\n${SANDBOX_USAGE}`);
  const onCommand = values.verbose ? (argv: readonly string[]) => process.stderr.write(`+ ${argv.join(' ')}\n`) : undefined;
  try {
    const endpointId = values.endpoint !== undefined ? validateEndpointId(values.endpoint) : DEFAULT_ENDPOINT_ID;
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
        const r = await sandboxDown({ endpointId, signal, onCommand });
        if (values.json) printJson({ endpointId, wasUp: r.wasUp });
        else process.stdout.write(r.wasUp ? `sandbox ${endpointId} removed\n` : `sandbox ${endpointId} was not up: nothing to do\n`);
        return 0;
      }
      case 'status': {
        const list = await sandboxStatus({ endpointId: values.endpoint !== undefined ? endpointId : undefined, signal, onCommand });
        if (values.json) printJson(list);
        else if (!list.length) process.stdout.write('no sandbox is up\n');
        else {
          for (const s of list) {
            const healthy = s.complete && s.netnsPresent && s.hostIfPresent && s.callsMapPresent;
            process.stdout.write(
              `${s.endpointId}: ${healthy ? 'up' : 'BROKEN (run sandbox down)'}, identity ${s.identity}, ${s.netns}/${s.hostIf}, ` +
                `${s.callsMapPin} slots [${s.occupiedSlots.join(', ')}]\n`,
            );
          }
        }
        return 0;
      }
      default:
        throw new UsageError(sub === undefined ? SANDBOX_USAGE : `unknown sandbox command: ${sub}\n${SANDBOX_USAGE}`);
    }
  } catch (error) {
    if (!(error instanceof SandboxError)) throw error;
    if (values.json) printJson({ error: error.message });
    process.stderr.write(`cilium-custom: ${error.message}\n`);
    return 1;
  }
}

function parseIntStrict(text: string, what: string): number {
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(text)) throw new UsageError(`${what} must be a non-negative integer, not ${JSON.stringify(text)}`);
  return Number(text);
}
