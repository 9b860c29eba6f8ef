// The CLI's help texts: `cilium-custom --help` (every command in short) and `cilium-custom <command> --help`.
// Errors never print these; they point to them (main.ts).
// The sandbox and kernels texts live with their commands and load only when asked for (`cilium-custom --help` must
// not load those commands' modules).
/* eslint-disable @typescript-eslint/no-require-imports */
const sandboxUsage = (): string => (require('./sandboxCli') as typeof import('./sandboxCli')).SANDBOX_USAGE;
const kernelsUsage = (): string => (require('./kernelsCli') as typeof import('./kernelsCli')).KERNELS_USAGE;
/* eslint-enable @typescript-eslint/no-require-imports */

const TARGET_FLAGS = `target (default: this machine, which needs root or CAP_BPF and CAP_NET_ADMIN):
  --ssh [user@]host[:port]  run on a node over the system ssh (BatchMode)
  --target NAME             a target from ~/.config/cilium-custom/targets.json (or --targets-file FILE)
  --sudo                    run bpftool through sudo -n
  --bpftool PATH            the bpftool executable on the target
  --bpffs DIR               where bpffs is mounted on the target (default /sys/fs/bpf)
  --identity FILE           ssh identity file
  --ssh-option K=V          extra ssh option (repeatable)
  --ssh-persist SEC         keep the SSH connection up SEC idle seconds for the next run (default 300;
                            0 closes it at exit; cilium-custom targets --close closes them all)`;

const BUILD_FLAGS = `  --make-dir DIR   the directory of the Makefile (relative: from the current directory)
  --make-var N=V   one more make variable (repeatable), e.g. --make-var EXTRA_CFLAGS=-DDEBUG
  --make CMD       the make command (default make)
  --timeout SEC    give up on the build, and on the verifier, after SEC seconds (1 to 2147483)`;

export const COMMAND_USAGE: Record<string, string> = {
  build: `usage: cilium-custom build <header.h> [options]
Build a custom-program header through a bpf/custom-style Makefile (the header's own folder,
--make-dir, or the bundled SDK). Prints the object's path.
${BUILD_FLAGS}
  --name SECTION   the ELF section name (default: the header's base name)
  --sections       also list the program sections and the build time
  --json           one JSON object on stdout
  -v, --verbose    make's output on stderr
Exit codes: 0 built, 1 the build failed, 2 bad usage.`,
  verify: `usage: cilium-custom verify <header.h|object.o> [options]
Build the header if its object is stale, load it with bpftool under temporary pins (removed
afterwards) and report the verifier's verdict on the source line.
${BUILD_FLAGS}
  --log FILE       also write the whole verifier log to FILE (never a source, header, object or Makefile)
  --errors-only    collect the log only when the load fails (no statistics)
  --detail         what the verifier saw (level-2 log): instructions processed per source line,
                   the path to the error, the registers there and where the failing one came from
                   (--json: path, lines, registers, origin)
  --json           one JSON object on stdout
  --kernel K       verify on kernel K in a VM (repeatable): a cached kernel (5.10, 6.1, 6.12 are
                   fetched when missing) or host (the target below); several headers may be given
  --kernels all    5.10, 6.1, 6.12, every cached kernel and host; one line (--json: {"matrix": [...]})
                   per kernel, exit 1 if any rejects (see cilium-custom kernels --help)
${TARGET_FLAGS}
Exit codes: 0 accepted, 1 rejected or failed, 2 bad usage.`,
  explain: `usage: cilium-custom explain <logfile|-> [options]
Parse a verifier log from any kernel or loader (- reads standard input) and explain its error.
  --source DIR     look up the log's source files in DIR
  --max-bytes N    refuse a log larger than N bytes (default 4G; suffixes K, M, G, T)
  --detail         from a level-2 log: instructions processed per source line, the path to the
                   error, the registers there and where the failing one came from
                   (--json: path, lines, registers, origin)
  --json           one JSON object on stdout
Input that is not text (a NUL byte, or mostly invalid UTF-8 and control bytes) is refused.
Exit codes: 0 explained, 1 no verdict found, unreadable, too large or not text, 2 bad usage.`,
  attach: `usage: cilium-custom attach <header.h|object.o> --endpoint ID --hook H [--hook H]... [options]
Verify, load and pin the program under <bpffs>/cilium-custom/<name>/, and put it in the endpoint's
custom-call slots (H: ipv4-ingress, ipv4-egress, ipv6-ingress, ipv6-egress). All or nothing.
  --endpoint ID       the endpoint (1 to 65535)
  --hook H            a slot to fill (repeatable)
  --replace           replace a program already in a slot
  --name N            pin name (default: the header's base name)
  --pin-prefix DIR    where to pin (default <bpffs>/cilium-custom)
${BUILD_FLAGS}
  --json              one JSON object on stdout
${TARGET_FLAGS}
Exit codes: 0 attached, 1 failed (rolled back), 2 bad usage.`,
  detach: `usage: cilium-custom detach --endpoint ID --hook H [--hook H]... [options]
Empty the slots and remove our pins; a program we did not attach needs --force.
  --endpoint ID       the endpoint (1 to 65535)
  --hook H            a slot to empty (repeatable)
  --force             also detach a program this tool did not attach
  --name N, --pin-prefix DIR, --json
${TARGET_FLAGS}
Exit codes: 0 detached, 1 failed or pins left over, 2 bad usage.`,
  endpoints: `usage: cilium-custom endpoints [options]
Endpoints with a cilium_calls_custom_<ID> map, their four slots, and Cilium's view of them.
  --cilium-command "argv words"  how to run cilium-dbg endpoint list -o json
  --no-cilium                    do not ask Cilium
  --pin-prefix DIR, --json
${TARGET_FLAGS}
Exit codes: 0 endpoints found, 1 none or failed, 2 bad usage.`,
  maps: `usage: cilium-custom maps [options]
Pinned maps (ours first, then Cilium's), or one map's entries with BTF-formatted values.
  --dir D             a bpffs directory to list (repeatable; a missing one is an error)
  --dump NAME|PATH    dump one map's entries
  --offset N          first entry of the page (default 0)
  --limit N           entries per page (1 to 10000, default 100)
  --pin-prefix DIR, --json
${TARGET_FLAGS}
Exit codes: 0 listed, 1 failed or a --dir is missing, 2 bad usage.`,
  cleanup: `usage: cilium-custom cleanup [options]
Remove what earlier runs left: our programs in no endpoint slot, and temporary verify pins older
than 10 minutes. Nothing else is touched.
  --dry-run           only say what would be removed
  --pin-prefix DIR, --json
${TARGET_FLAGS}
Exit codes: 0 clean, 1 something could not be removed, 2 bad usage.`,
  get kernels() {
    return kernelsUsage();
  },
  get sandbox() {
    return `${sandboxUsage()}
A local stand-in for a Cilium endpoint: a network namespace and veth pair, a mock datapath that
tail-calls the four custom-call slots of the cilium_calls_custom_<ID> map it pins, and real traffic.
Exit codes: 0 done, 1 failed, 2 bad usage.`;
  },
  test: `usage: cilium-custom test <header.h|header.test.json> [options]
Run the header's packet test cases (header.test.json beside it) in the kernel: build and verify as
verify does, then for each case load the program afresh, seed its maps, run the packet through
BPF_PROG_TEST_RUN (bpftool prog run) with the identity and the datapath's return code in the cb meta
word, and compare the return code and the maps. Temporary pins are removed afterwards.
  --case NAME      run only this case (repeatable)
  --bench          also time each case: the median of several rounds of --repeat runs, in ns/packet
  --repeat N       runs per bench round (default 100000)
  --rounds N       bench rounds (default 5)
  --kernel K       run in the VM of cached kernel K (cilium-custom kernels list); no timings under emulation
  --json           one JSON object on stdout
${BUILD_FLAGS}
${TARGET_FLAGS}
Exit codes: 0 every case passed, 1 a case failed or the run failed, 2 bad usage or a malformed test file.`,
  targets: `usage: cilium-custom targets [--close] [--json]
SSH connections kept between runs: a command over --ssh or --target leaves its connection up for
--ssh-persist seconds (default 300) so that the next run skips the handshake. Lists them, or closes them.
  --close          close every kept connection (and remove stale control sockets)
  --json           one JSON object on stdout
Exit codes: 0 done, 1 a connection could not be closed, 2 bad usage.`,
};

export const USAGE = `usage: cilium-custom <command> [options]      (cilium-custom <command> --help for its options)

commands:
  build <header.h>                     build a header through a bpf/custom-style Makefile
  verify <header.h|object.o>           run the kernel verifier (locally or over SSH), verdict on the source line
  explain <logfile|->                  explain a verifier log from any kernel or loader
  attach <header.h|object.o> --endpoint ID --hook H...
                                       verify, load, pin and put into an endpoint's custom-call slots
  detach --endpoint ID --hook H...     empty the slots and remove our pins
  endpoints                            endpoints with custom-call slots and what is in them
  maps [--dump NAME|PATH]              pinned maps, or one map's entries
  cleanup [--dry-run]                  remove what earlier runs left behind
  sandbox up|traffic|down|status       a local stand-in for a Cilium endpoint (root)
  kernels list|fetch|add|remove        kernels for verify --kernel (5.10, 6.1, 6.12 from Debian, or your own)
  test <header.h|file.test.json>       run the header's packet test cases in the kernel (--bench: ns/packet)
  targets [--close]                    SSH connections kept between runs; close them

  --help, -h       this text        --version        the version

Exit codes: 0 success (built, accepted, explained), 1 the job failed or the program was rejected,
2 bad usage. Commands that touch BPF on this machine need root (or CAP_BPF and CAP_NET_ADMIN).`;
