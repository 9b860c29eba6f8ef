// A whole verification as one shell script run on the target: check the bpffs, receive the object on stdin (remote
// targets), make the pin directory, run bpftool, and remove what it made on exit. One process locally and one SSH
// round trip remotely, instead of one per step; and since the cleanup is the script's own EXIT trap, the target
// removes its temporary files even when the SSH connection dies mid-run (bpftool then ends writing to a dead pipe,
// and the shell goes on to its trap). Attach uses the same script to load for good: its pins are kept when bpftool
// succeeds (the load is the verification), and removed like a verify's when it fails.
//
// The script is a constant: every path and the whole bpftool argv reach it as positional parameters, never as text
// of the script, so hostile names arrive intact and run nothing.
import * as crypto from 'node:crypto';
import { BPFFS_MAGIC_HEX } from '../target/bpffs';

/** `$0` of the script: it shows in `ps` on the target and in the shell's own error messages. */
export const VERIFY_SCRIPT_NAME = 'cilium-custom-verify';

/** Remote uploads go to `/tmp/<run name>`, so that this side knows every name the script will make in advance. */
export const UPLOAD_ROOT = '/tmp';

/** A name for one run's temporary directories (the verify pins on the bpffs, the upload in /tmp): unique, unguessable. */
export function temporaryRunName(): string {
  return `${VERIFY_SCRIPT_NAME}-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
}

/** Lines the script writes to stderr about its own steps start with this (the shell prefixes errors with `$0:`). */
const SAY = '@cilium-custom-verify';

// The steps fail with "@cilium-custom-verify failed <step>: <detail>"; cleanup failures say "... left <path>".
// PIPE is ignored so that the shell outlives a dead connection long enough to clean up; HUP, INT and TERM end the
// run through the EXIT trap (the signal reaches bpftool too: the verifier stops on a pending signal). With `keep`
// (a parent directory, made if missing) the pins stay when bpftool succeeds.
const SCRIPT = `root=$1 pins=$2 up=$3 name=$4 keep=$5
shift 5
say() { printf '${SAY} %s\\n' "$*" >&2; }
made_pins= made_up=
cleanup() {
  status=$?
  if [ -n "$made_pins" ] && { [ -z "$keep" ] || [ "$status" -ne 0 ]; } && ! rm -rf -- "$pins"; then say "left $pins"; fi
  if [ -n "$made_up" ] && ! rm -rf -- "$up"; then say "left $up"; fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap '' PIPE
fs=$(stat -f -c '%t %T' -- "$root" 2>&1) || { say "failed bpffs: $fs"; exit 3; }
case $fs in ${BPFFS_MAGIC_HEX}' '*) ;; *) say "failed bpffs: found \${fs#* }"; exit 3 ;; esac
if [ -n "$up" ]; then
  err=$(mkdir -m 0700 -- "$up" 2>&1) || { say "failed upload: $err"; exit 3; }
  made_up=1
  err=$(cat > "$up/$name" 2>&1) || { say "failed upload: $err"; exit 3; }
fi
if [ -n "$keep" ]; then
  err=$(mkdir -p -m 0700 -- "$keep" 2>&1) || { say "failed pins: $err"; exit 3; }
fi
err=$(mkdir -m 0700 -- "$pins" 2>&1) || { say "failed pins: $err"; exit 3; }
made_pins=1
"$@"
`;

export interface VerifyScriptPlan {
  bpffsRoot: string;
  pinDir: string;
  /** Remote targets: the directory the object is written into from stdin (made by the script, removed after). */
  uploadDir?: string;
  /** The object's file name inside uploadDir. */
  uploadName?: string;
  /** Keep the pins when bpftool succeeds; this parent directory of pinDir is made when missing. */
  keepUnder?: string;
  /** bpftool's whole argv, object path included. */
  bpftoolArgv: readonly string[];
}

export function verifyScriptArgv(plan: VerifyScriptPlan): string[] {
  const positional = [plan.bpffsRoot, plan.pinDir, plan.uploadDir ?? '', plan.uploadName ?? '', plan.keepUnder ?? ''];
  return ['sh', '-c', SCRIPT, VERIFY_SCRIPT_NAME, ...positional, ...plan.bpftoolArgv];
}

/** What a verify script run's argv says it would make: for tests and reports, the inverse of verifyScriptArgv. */
export function verifyScriptPlan(argv: readonly string[]): VerifyScriptPlan | undefined {
  if (argv[0] !== 'sh' || argv[1] !== '-c' || argv[2] !== SCRIPT || argv[3] !== VERIFY_SCRIPT_NAME || argv.length < 9) return undefined;
  const [bpffsRoot, pinDir, uploadDir, uploadName, keepUnder] = argv.slice(4, 9);
  return {
    bpffsRoot,
    pinDir,
    ...(uploadDir ? { uploadDir, uploadName } : {}),
    ...(keepUnder ? { keepUnder } : {}),
    bpftoolArgv: argv.slice(9),
  };
}

export type VerifyScriptStep = 'bpffs' | 'upload' | 'pins';

export interface VerifyScriptReport {
  /** The step that failed before bpftool ran, with the command's own message. */
  failed?: { step: VerifyScriptStep; detail: string };
  /** What the EXIT trap could not remove. */
  left: string[];
}

/** Reads the script's own lines from a run's stderr (the tail a run keeps holds them: they come first or last). */
export function readVerifyScriptReport(stderr: string): VerifyScriptReport {
  const report: VerifyScriptReport = { left: [] };
  for (const line of stderr.split('\n')) {
    if (!line.startsWith(`${SAY} `)) continue;
    const said = line.slice(SAY.length + 1);
    const failed = /^failed (bpffs|upload|pins): ?(.*)$/.exec(said);
    if (failed) report.failed ??= { step: failed[1] as VerifyScriptStep, detail: failed[2] };
    else if (said.startsWith('left ')) report.left.push(said.slice('left '.length));
  }
  return report;
}

/** The script's own lines removed from a text (for messages built from bpftool's output). */
export function withoutScriptLines(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith(`${SAY} `))
    .join('\n');
}
