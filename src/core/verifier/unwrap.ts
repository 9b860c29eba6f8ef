// Removes the logging layers around a verifier log line: journald/syslog prefixes and logrus records
// (`level=error msg="..."` with the log's newlines escaped inside, or the `ERRO[0045] ` TTY form).

export interface UnwrappedLine {
  text: string;
  /** false for single-line logrus field values: they are loader messages, not verifier log lines. */
  asLog: boolean;
  /** journald cut this line and ended it with '>' (only checked on journald lines). */
  cut: boolean;
  /** The line came out of a logrus record (Cilium's agent and tools, so cilium/ebpf underneath). */
  logrus: boolean;
}

// `Mar 05 12:34:56 host cilium-agent[123]: ` or `2024-03-05T12:34:56+0000 host prog[1]: ` (journalctl -o short-iso).
const JOURNALD =
  /^(?:[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) \S+ [^\s[:]+(?:\[\d+\])?: /;
const LOGRUS_TTY = /^(?:ERRO|WARN|INFO|DEBU|TRAC|FATA|PANI)\[\d+\] /;
const LOGRUS_KV = /(?:^|\s)level=[a-z]+\s/;
const JOURNALD_CUT = /[\w=(),.-]>$/;

/** The line(s) inside `raw`, or null when no logging layer wraps it (the common case: no allocation). */
export function unwrapLine(raw: string): UnwrappedLine[] | null {
  let text = raw;
  let journald = false;
  // Cheap character checks first: these regexes run on every line of logs that can be hundreds of MB.
  const c0 = raw.charCodeAt(0);
  if ((c0 >= 65 && c0 <= 90 && raw.charCodeAt(3) === 32) || (c0 >= 48 && c0 <= 57 && raw.charCodeAt(4) === 45)) {
    const j = JOURNALD.exec(text);
    if (j) {
      text = text.slice(j[0].length);
      journald = true;
    }
  }
  if (text.includes('level=') && LOGRUS_KV.test(text) && text.includes('msg=')) return logrusFields(text);
  const tty = text.charCodeAt(4) === 91 /* [ */ ? LOGRUS_TTY.exec(text) : null;
  if (tty) text = text.slice(tty[0].length);
  else if (!journald) return null;
  // journalctl ends a line it shortened with '>' (`R9=map_valu>`); '<...>' is real log text.
  const cut = journald && JOURNALD_CUT.test(text) && !text.includes('<');
  if (cut) text = text.slice(0, -1);
  return [{ text, asLog: true, cut, logrus: tty !== null }];
}

function logrusFields(text: string): UnwrappedLine[] {
  const out: UnwrappedLine[] = [];
  for (const key of ['msg', 'error']) {
    const value = fieldValue(text, key);
    if (value === null) continue;
    const lines = value.split('\n');
    const multi = lines.length > 1;
    for (const line of lines) out.push({ text: line, asLog: multi, cut: false, logrus: true });
  }
  return out;
}

/** The value of ` key="..."` (Go-quoted) or ` key=word` in a logrus text record, or null. */
function fieldValue(text: string, key: string): string | null {
  const re = new RegExp(`(?:^|\\s)${key}=`);
  const m = re.exec(text);
  if (!m) return null;
  const start = m.index + m[0].length;
  if (text[start] !== '"') {
    const end = text.indexOf(' ', start);
    return text.slice(start, end < 0 ? text.length : end);
  }
  return goUnquote(text, start + 1);
}

/** Decodes a Go %q string starting after its opening quote (stops at the closing quote or line end). */
function goUnquote(text: string, from: number): string {
  let out = '';
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') break;
    if (ch !== '\\' || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[++i];
    if (next === 'n') out += '\n';
    else if (next === 't') out += '\t';
    else if (next === 'r') out += '';
    else if ((next === 'x' || next === 'u') && /^[0-9a-fA-F]+$/.test(text.slice(i + 1, i + (next === 'x' ? 3 : 5)))) {
      const len = next === 'x' ? 2 : 4;
      out += String.fromCharCode(parseInt(text.slice(i + 1, i + 1 + len), 16));
      i += len;
    } else out += next;
  }
  return out;
}
