// What the CLI prints. Verifier logs, bpftool and compiler output, file names and error messages are text from
// elsewhere: a log line holding `\x1b[2J` must not clear the user's screen, and a bidi override must not reorder
// what they read. One function escapes them, and installOutputGuards() applies it to everything the process writes.

/**
 * C0 controls except tab and newline, DEL, C1 controls, and the bidirectional formatting characters
 * (Trojan Source: U+061C, U+200E/F, U+202A-E, U+2066-9).
 */
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes C0 controls as `\xHH` (`\x1b`), and DEL, C1 and bidi controls as `\uHHHH`; keeps `\n` and `\t`.
 * Idempotent. JSON.stringify escapes C0 itself but leaves the others raw: as `\uHHHH` they stay valid JSON escapes
 * of the same characters, so the guard below never changes what a JSON document means.
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

type Write = NodeJS.WriteStream['write'];

let stdoutFailed = false;

/** True once a write to standard output failed with anything but EPIPE: the command must not exit with 0. */
export function outputFailed(): boolean {
  return stdoutFailed;
}

/**
 * Every string written to stdout and stderr goes through escapeControls (JSON output is unchanged: JSON.stringify
 * already escapes controls). A closed pipe (`| head`) ends the process with the command's code so far; any other
 * write error (EIO, ENOSPC as on /dev/full) is said once on stderr and makes the exit code 1, while the command
 * finishes what it started (an attach must not stop halfway because its output was lost).
 */
export function installOutputGuards(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? escapeControls(chunk) : chunk, ...rest)) as Write;
  }
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    if (stdoutFailed) return;
    stdoutFailed = true;
    process.exitCode = 1;
    process.stderr.write(`cilium-custom: cannot write the output: ${error.message}\n`);
  });
  // Nowhere left to report a failing stderr; the listener only keeps it from crashing the command midway.
  process.stderr.on('error', () => undefined);
}
