// Periodic sampling as one long run on the target: a constant shell loop that, for each line it reads, dumps the
// map and writes a separator. This side writes a line every interval. Starting bpftool from a small shell costs the
// target a fork, where starting it from this process costs a spawn of the whole Node process (or, over SSH, a
// round trip) per sample: most of the sampler's own CPU. `read` is a builtin, so waiting costs no process either.
// The map path and bpftool reach the script as positional parameters, never as its text. Stopping is cancelling
// the run (the Target kills the process group, remotely too); the end of its input ends the loop as well.

/** `$0` of the loop: it shows in `ps` on the target. */
export const DUMP_LOOP_NAME = 'cilium-custom-watch';

/** Written after each dump: ASCII RS, which JSON text never holds raw (control characters are escaped in strings). */
export const SAMPLE_SEPARATOR = '\x1e';

/** What this side writes to ask for one dump. */
export const SAMPLE_REQUEST = '\n';

const SCRIPT = `bpftool=$1 pin=$2
while read -r _; do
  "$bpftool" -j map dump pinned "$pin" </dev/null
  printf '\\036\\n' || exit 0
done
`;

/** The argv of the loop, for Target.run (privileged: bpftool needs it). */
export function dumpLoopArgv(bpftool: string, pinPath: string): string[] {
  return ['sh', '-c', SCRIPT, DUMP_LOOP_NAME, bpftool, pinPath];
}
