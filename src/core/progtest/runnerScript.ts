// What runs on the target for a test run, inside the verify script (verifyScript.ts): the verify script checks the
// bpffs, receives the object on stdin, makes the temporary pin and upload directories and removes them on exit
// whatever happens; this script is the command it runs there. For each case it loads the program afresh (so the
// verifier runs, and every case starts from new, empty maps), seeds maps, writes the packet and the context, dumps
// the maps, runs the program through BPF_PROG_TEST_RUN (`bpftool prog run`), dumps them again, and runs the bench
// rounds. Everything a case needs travels in argv, so the whole run is one process locally, one SSH round trip, or
// one VM boot.
//
// The script is a constant; every value reaches it as a positional parameter (map names are checked words, hex
// and octal escapes are made here from bytes), never as script text.

/** `$0` of the script, and the prefix of its marker lines. */
export const RUNNER_NAME = 'cilium-custom-test';
export const MARK = `@${RUNNER_NAME}`;

/** The object's name in the upload directory (the data files sit beside it). */
export const RUNNER_OBJECT_NAME = 'program.o';

// Markers: "@cilium-custom-test case I", "... map before|after NAME", "... run", "... bench", "... failed WHAT: detail",
// "... end". Each is followed by the output of the command it announces.
const SCRIPT = `bpftool=$1 obj=$2 pins=$3 up=$4
shift 4
exec 2>&1
mark() { printf '\\n${MARK} %s\\n' "$*"; }
size_of() { "$bpftool" -j map show pinned "$1" | sed -n "s/.*\\"$2\\":\\([0-9]*\\).*/\\1/p"; }
fit() {
  mode=$1 n=$2 out= i=0
  for b in $3; do
    if [ "$i" -lt "$n" ]; then out="$out $b"
    elif [ "$mode" = hex ] || [ "$b" != 00 ]; then return 1
    fi
    i=$((i + 1))
  done
  [ "$i" -ge "$n" ] || [ "$mode" = int ] || return 1
  while [ "$i" -lt "$n" ]; do out="$out 00"; i=$((i + 1)); done
  printf '%s' "$out"
}
dump() {
  for m in "$pins"/maps/*; do
    [ -e "$m" ] || continue
    mark "map $1 \${m##*/}"
    "$bpftool" -j map dump pinned "$m"
  done
}
ok=
while [ $# -gt 0 ]; do
  case $1 in
  case)
    mark "case $2"
    shift 2
    rm -rf -- "$pins/prog" "$pins/maps"
    if "$bpftool" prog load "$obj" "$pins/prog" type classifier pinmaps "$pins/maps"; then ok=1; else ok=; mark "failed load"; fi
    ;;
  seed)
    if [ -n "$ok" ]; then
      m="$pins/maps/$2"
      ks=$(size_of "$m" bytes_key)
      vs=$(size_of "$m" bytes_value)
      if [ -z "$ks" ] || [ -z "$vs" ]; then ok=; mark "failed seed $2: the program has no map of that name"
      elif ! k=$(fit "$3" "$ks" "$4"); then ok=; mark "failed seed $2: a key does not fit the map's $ks-byte keys"
      elif ! v=$(fit "$5" "$vs" "$6"); then ok=; mark "failed seed $2: a value does not fit the map's $vs-byte values"
      elif ! "$bpftool" map update pinned "$m" key hex $k value hex $v; then ok=; mark "failed seed $2: bpftool map update failed"
      fi
    fi
    shift 6
    ;;
  run)
    if [ -n "$ok" ]; then
      if printf '%b' "$2" > "$up/packet.bin" && printf '%b' "$3" > "$up/ctx.bin"; then
        dump before
        mark run
        "$bpftool" -j prog run pinned "$pins/prog" data_in "$up/packet.bin" ctx_in "$up/ctx.bin" repeat "$4"
        dump after
        r=0
        while [ "$r" -lt "$5" ]; do
          mark bench
          "$bpftool" -j prog run pinned "$pins/prog" data_in "$up/packet.bin" ctx_in "$up/ctx.bin" repeat "$6"
          r=$((r + 1))
        done
      else
        mark "failed data: cannot write the packet into $up"
      fi
    fi
    shift 6
    ;;
  *) mark "failed protocol: unknown step $1"; exit 2 ;;
  esac
done
mark end
`;

export type SeedMode = 'int' | 'hex';

export type RunnerStep =
  | { step: 'case'; index: number }
  | { step: 'seed'; map: string; key: { mode: SeedMode; hex: string }; value: { mode: SeedMode; hex: string } }
  | { step: 'run'; packet: Buffer; ctx: Buffer; repeat: number; benchRounds: number; benchRepeat: number };

export interface RunnerPlan {
  bpftool: string;
  objectPath: string;
  pinDir: string;
  uploadDir: string;
  steps: readonly RunnerStep[];
}

/** The runner's argv: the command the verify script runs in place of a plain `bpftool prog load`. */
export function runnerArgv(plan: RunnerPlan): string[] {
  const words: string[] = [];
  for (const s of plan.steps) {
    if (s.step === 'case') words.push('case', String(s.index));
    else if (s.step === 'seed') words.push('seed', s.map, s.key.mode, s.key.hex, s.value.mode, s.value.hex);
    else words.push('run', octalEscapes(s.packet), octalEscapes(s.ctx), String(s.repeat), String(s.benchRounds), String(s.benchRepeat));
  }
  return ['sh', '-c', SCRIPT, RUNNER_NAME, plan.bpftool, plan.objectPath, plan.pinDir, plan.uploadDir, ...words];
}

/** Bytes as printf %b escapes (`\0101`): what any POSIX sh, busybox's included, turns back into the bytes. */
export function octalEscapes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += `\\0${b.toString(8).padStart(3, '0')}`;
  return out;
}
