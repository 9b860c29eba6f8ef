// cilium/ebpf's one-line `%v` form of a verifier error:
//   load program: <errno text>: [<second-last log line>: ]<last log line> [(truncated, N line(s) omitted)]
// It is all a user has when an agent logs only the error string, so the message is recovered from it.

export interface CiliumSummary {
  message: string;
  context: string[];
  truncated: boolean;
}

const ERRNO = /^([a-z][a-z ]*?): /;
const OMITTED = /\s*\((truncated(?:, \d+ line\(s\) omitted)?|\d+ line\(s\) omitted)\)\s*$/;
const LEADING_INSN = /^\d+: [(<]/;
// Lines the kernel prints after the error to explain it; cilium/ebpf adds the line before them for context.
const CONTEXT_LINE = [
  /^R\d+ offset is outside of the packet/,
  /^R\d+ (?:min|max) value is outside of the allowed memory range/,
  /^BPF_EXIT instruction /,
  /^(?:cur|old) state:/,
  /^R\d+ unbounded memory access/,
];

export function parseCiliumSummary(line: string): CiliumSummary | null {
  const m = /(?:^|: )load program: /.exec(line);
  if (!m) return null;
  const at = m.index + m[0].indexOf('load program: ');
  let rest = line.slice(at + 'load program: '.length).trim();
  let truncated = false;
  const omitted = OMITTED.exec(rest);
  if (omitted) {
    truncated = (omitted[1] ?? '').startsWith('truncated');
    rest = rest.slice(0, omitted.index);
  }
  rest = rest.replace(/\s*\(BTF disabled\)$/, '');
  const errno = ERRNO.exec(rest);
  if (!errno) return { message: line.slice(at).trim(), context: [], truncated };
  rest = rest.slice(errno[0].length).trim();
  if (rest.length === 0) return { message: line.slice(at).trim(), context: [], truncated };

  // "<insn line>: <error>": the error is what follows the instruction.
  if (LEADING_INSN.test(rest)) {
    const second = rest.indexOf(': ', rest.indexOf(': ') + 2);
    if (second > 0) return { message: rest.slice(second + 2).trim(), context: [], truncated };
  }
  // "<error>: <explanation>"
  for (let p = rest.indexOf(': '); p > 0; p = rest.indexOf(': ', p + 2)) {
    const tail = rest.slice(p + 2);
    if (CONTEXT_LINE.some((re) => re.test(tail))) return { message: rest.slice(0, p), context: [tail], truncated };
  }
  return { message: rest, context: [], truncated };
}
