// The input of `explain`: a file or standard input, read as a stream into the parser. Bounded (--max-bytes) and
// refused when it is not text: `explain /dev/zero` or `explain prog.o` must end at once with a reason, not read
// forever or print binary as an error message.
import * as fs from 'node:fs';
import { TextDecoder } from 'node:util';

/** Bad input (unreadable, too large, not text): exit 1 with one line, like any failed job. */
export class LogInputError extends Error {}

export const DEFAULT_MAX_BYTES = 4 * 2 ** 30;
/** How much of the start is judged for text-ness: one read's worth, enough for a few hundred log lines. */
const SNIFF_BYTES = 64 * 1024;
/** Above this share of invalid UTF-8 or control characters in the first SNIFF_BYTES, the input is not a log. */
const MAX_BAD_SHARE = 0.1;

/** Why `head` (the start of the input) is not text, or null when it is. */
export function notTextReason(head: Uint8Array): string | null {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    return 'it is UTF-16 text; convert it first (iconv -f UTF-16 -t UTF-8)';
  }
  const nul = head.indexOf(0);
  if (nul >= 0) return `it holds a NUL byte at offset ${nul}`;
  // stream: a character cut at the end of the sniffed bytes is not counted as invalid.
  const text = new TextDecoder('utf-8').decode(head, { stream: true });
  let bad = 0;
  for (const c of text) {
    const code = c.codePointAt(0)!;
    // Tab, newline, CR, FF, VT and ESC occur in real logs (colours); other controls and U+FFFD (invalid UTF-8) do not.
    if (code === 0xfffd || (code < 0x20 && ![0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b].includes(code)) || code === 0x7f) bad++;
  }
  if (text.length > 0 && bad / text.length > MAX_BAD_SHARE) return 'most of its start is invalid UTF-8 or control bytes (binary?)';
  return null;
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  // "ENOENT: no such file or directory, open 'x'": the reason alone, the name is said by the caller.
  return e?.code && typeof e.message === 'string' ? e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '') : String(error);
}

/** Streams `file` ('-': standard input) into `push`, enforcing maxBytes and text-ness. */
export async function readLogInput(file: string, maxBytes: number, push: (chunk: Uint8Array) => void): Promise<void> {
  const name = file === '-' ? 'standard input' : file;
  const tooLarge = () => new LogInputError(`${name} is larger than --max-bytes ${maxBytes}; raise --max-bytes to explain it`);
  let stream: NodeJS.ReadableStream;
  if (file === '-') stream = process.stdin;
  else {
    try {
      const stat = fs.statSync(file);
      if (stat.isDirectory()) throw new LogInputError(`cannot read ${name}: it is a directory`);
      if (stat.isFile() && stat.size > maxBytes) throw tooLarge();
    } catch (error) {
      if (error instanceof LogInputError) throw error;
      throw new LogInputError(`cannot read ${name}: ${describe(error)}`);
    }
    stream = fs.createReadStream(file, { highWaterMark: SNIFF_BYTES });
  }
  let total = 0;
  let head: Buffer | null = Buffer.alloc(0);
  const judgeHead = () => {
    const reason = notTextReason(head!);
    if (reason) throw new LogInputError(`${name} is not a text verifier log: ${reason}`);
    push(head!);
    head = null;
  };
  try {
    for await (const raw of stream) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
      total += chunk.length;
      if (total > maxBytes) throw tooLarge();
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= SNIFF_BYTES) judgeHead();
        continue;
      }
      // A NUL later on is no log either (`cat log /dev/zero`): stop instead of reading it all.
      const nul = chunk.indexOf(0);
      if (nul >= 0) throw new LogInputError(`${name} is not a text verifier log: it holds a NUL byte at offset ${total - chunk.length + nul}`);
      push(chunk);
    }
  } catch (error) {
    if (error instanceof LogInputError) throw error;
    throw new LogInputError(`cannot read ${name}: ${describe(error)}`);
  }
  if (head) judgeHead();
}
