// cilium-custom: the extension's engine as a command-line tool, for terminals and CI pipelines.
import { runBuildCli } from './buildCli';
import { UsageError } from './args';
import { runExplainCli, runVerifyCli } from './verifyCli';
import { runSandboxCli } from './sandboxCli';
import { runAttachCli, runDetachCli, runEndpointsCli } from './attachCli';
import { runMapsCli } from './mapsCli';
import { runCleanupCli } from './cleanupCli';

const USAGE = `usage: cilium-custom <command> [options]

commands:
  build <header.h> [--make-dir DIR] [--name SECTION] [--sections] [--json]
      Build a custom-program header through a bpf/custom-style Makefile
      (the header's own folder, --make-dir, or the bundled SDK).

  verify <header.h|object.o> [--target NAME | --ssh [user@]host[:port]] [--sudo]
         [--bpftool PATH] [--bpffs DIR] [--identity FILE] [--ssh-option K=V]...
         [--make-dir DIR] [--log FILE] [--errors-only] [--timeout SEC] [--json]
      Build the header if its object is stale, load it with bpftool under temporary
      pins (removed afterwards) and report the verifier's verdict on the source line.
      --target reads targets from ~/.config/cilium-custom/targets.json (or --targets-file).
  explain <logfile|-> [--source DIR] [--json]
      Parse a verifier log from any kernel or loader and explain its error.
  attach <header.h|object.o> --endpoint ID --hook H [--hook H]... [--replace] [--name N]
         [--pin-prefix DIR] [--make-dir DIR] [--json] [target flags as for verify]
      Verify, load and pin the program under <bpffs>/cilium-custom/<name>/, and put it in the
      endpoint's custom-call slots (H: ipv4-ingress, ipv4-egress, ipv6-ingress, ipv6-egress).
      All or nothing; an occupied slot needs --replace.
  detach --endpoint ID --hook H [--hook H]... [--force] [--name N] [--json] [target flags]
      Empty the slots and remove our pins; a program we did not attach needs --force.
  endpoints [--cilium-command "argv words"] [--no-cilium] [--json] [target flags]
      Endpoints with a cilium_calls_custom_<ID> map, their four slots, and Cilium's view of them.
  maps [--dir D]... [--dump NAME|PATH] [--offset N] [--limit N] [--json] [target flags]
      Pinned maps (ours first, then Cilium's), or one map's entries with BTF-formatted values.
  cleanup [--dry-run] [--pin-prefix DIR] [--json] [target flags]
      Remove what earlier runs left: our programs in no endpoint slot, and temporary
      verify pins older than 10 minutes. Nothing else is touched.
  sandbox up|traffic|down|status [--endpoint ID] [--identity N] [--count N] [--size B] [--json]
      A local stand-in for a Cilium endpoint (root): a network namespace and veth pair,
      a mock datapath that tail-calls the four custom-call slots of the
      cilium_calls_custom_<ID> map it pins, and real traffic through it.

Exit codes: 0 success (built, accepted, explained), 1 the job failed or the program
was rejected, 2 bad usage.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  try {
    switch (command) {
      case 'build':
        return await runBuildCli(rest, abort.signal);
      case 'verify':
        return await runVerifyCli(rest, abort.signal);
      case 'explain':
        return await runExplainCli(rest);
      case 'sandbox':
        return await runSandboxCli(rest, abort.signal);
      case 'attach':
        return await runAttachCli(rest, abort.signal);
      case 'detach':
        return await runDetachCli(rest, abort.signal);
      case 'endpoints':
        return await runEndpointsCli(rest, abort.signal);
      case 'maps':
        return await runMapsCli(rest, abort.signal);
      case 'cleanup':
        return await runCleanupCli(rest, abort.signal);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`cilium-custom: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`cilium-custom: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

// `cilium-custom ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cilium-custom: internal error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
