// cilium-custom targets [--close] [--json]: the SSH connections that commands over --ssh/--target kept up for the
// next run (ControlPersist), listed or closed. They live in the user's private control-socket directory.
import { closeKeptConnections, controlSocketDirectory, listKeptConnections, type KeptConnection } from '../core/target/controlSocket';
import { parseCommandArgs, printJson, UsageError } from './args';

function describe(connection: KeptConnection): string {
  const info = connection.info;
  if (!info) return `${connection.socket} (unknown target)`;
  const where = info.port !== undefined ? `${info.destination} port ${info.port}` : info.destination;
  const name = info.name !== info.destination && info.name !== `${info.destination}:${info.port}` ? `${info.name}: ` : '';
  return `${name}${where} (since ${info.startedAt}, idle limit ${info.persistSec} s)`;
}

export async function runTargetsCli(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    close: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length) throw new UsageError('targets takes no arguments');
  const directory = controlSocketDirectory();
  if (!values.close) {
    const connections = await listKeptConnections(directory);
    if (values.json) printJson({ directory, connections });
    else if (connections.length === 0) process.stdout.write('no kept SSH connections\n');
    else for (const c of connections) process.stdout.write(`${c.state === 'alive' ? 'open ' : 'stale'}  ${describe(c)}\n`);
    return 0;
  }
  const { closed, removed, failed } = await closeKeptConnections(directory);
  if (values.json) printJson({ directory, closed, removed, failed });
  else {
    if (closed.length + removed.length + failed.length === 0) process.stdout.write('no kept SSH connections\n');
    for (const c of closed) process.stdout.write(`closed ${describe(c)}\n`);
    for (const c of removed) process.stdout.write(`removed stale ${describe(c)}\n`);
    for (const c of failed) process.stderr.write(`cilium-custom: could not close ${describe(c)}\n`);
  }
  return failed.length ? 1 : 0;
}
