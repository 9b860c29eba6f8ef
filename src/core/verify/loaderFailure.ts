// Tells a verifier rejection from a loader failure in bpftool's output. libbpf prints "BPF program load failed" (or,
// in libbpf < 0.7, "load bpf program failed") exactly when the kernel refused a program; when bpftool fails without
// it, libbpf gave up on its own: before the verifier ran (an ELF it cannot open, an extern it cannot find, a map it
// cannot create) or after it accepted everything (a PROG_ARRAY initialiser the map cannot hold, a pin that fails).
// Those are not the verifier's verdict and must not get the verifier's advice about register state.
//
// The scanner sees the output as it streams, keeping only a few lines, because a level-2 verifier log can be GBs
// and the run keeps only its tail.
import { VerifyProblem, type LoaderSubject } from './verifyErrors';

const KERNEL_REFUSED = /BPF program load failed|load bpf program failed|failed to load program '/;
/** libbpf warnings that name a cause (debug lines under -d say "found", "created", "collected", ...). */
const CAUSE = /fail|error|invalid|not found|not a (?:valid|proper)|unresolved|unsupported|mismatch|can't|cannot|No such file|: -\d+\s*$|-E[A-Z]{3,}\b/i;
/** libbpf's and bpftool's summaries that come after the real cause and say nothing more. */
const SUMMARY = /^libbpf: (?:failed to load object '|prog '[^']*': failed to load: -?\d+$)/;
const MAX_KEPT = 20;

export class LoaderOutputScanner {
  private carry = '';
  /** The kernel refused a program: whatever failed, it is the verifier's (or the kernel's) verdict. */
  kernelRefused = false;
  readonly libbpfCauses: string[] = [];
  readonly bpftoolErrors: string[] = [];

  push(chunk: string): void {
    const lines = (this.carry + chunk).split('\n');
    this.carry = lines.pop() ?? '';
    // A line longer than this is a verifier state dump, not a loader line.
    if (this.carry.length > 64 * 1024) this.carry = '';
    for (const line of lines) this.line(line.trim());
  }

  end(): void {
    if (this.carry) this.line(this.carry.trim());
    this.carry = '';
  }

  private line(line: string): void {
    if (line.startsWith('libbpf:')) {
      if (KERNEL_REFUSED.test(line)) this.kernelRefused = true;
      else if (CAUSE.test(line) && !SUMMARY.test(line) && this.libbpfCauses.length < MAX_KEPT) this.libbpfCauses.push(line);
    } else if (line.startsWith('Error: ') && this.bpftoolErrors.length < MAX_KEPT) {
      this.bpftoolErrors.push(line);
    }
  }
}

/** The problem a failed bpftool run shows when the kernel never refused a program; undefined when it did. */
export function loaderFailure(scanner: LoaderOutputScanner, objectName: string): VerifyProblem | undefined {
  if (scanner.kernelRefused) return undefined;
  const libbpf = scanner.libbpfCauses.map((line) => line.replace(/^libbpf:\s*/, ''));
  const bpftool = scanner.bpftoolErrors.map((line) => line.replace(/^Error:\s*/, ''));
  if (libbpf.length === 0 && bpftool.length === 0) return undefined;
  const said = [...libbpf, ...bpftool].join(' / ');
  for (const known of KNOWN) {
    for (const line of libbpf) {
      const match = known.pattern.exec(line);
      if (match) return new VerifyProblem(known.kind, known.message(match, objectName, said), known.fix(match), known.subject?.(match));
    }
  }
  return new VerifyProblem(
    'loader-failed',
    `bpftool could not load ${objectName}, and the verifier did not reject it: ${said}.`,
    'This is a loader error (libbpf), not a verifier verdict: see the verifier log for bpftool\'s whole output.',
  );
}

interface Known {
  pattern: RegExp;
  kind: 'loader-failed' | 'not-bpf-object' | 'object-missing';
  message: (m: RegExpExecArray, object: string, said: string) => string;
  fix: (m: RegExpExecArray) => string;
  subject?: (m: RegExpExecArray) => LoaderSubject;
}

const NOT_VERIFIER = 'before the verifier ran';

const KNOWN: Known[] = [
  {
    pattern: /failed to find BTF for extern '([^']+)'|unresolved extern '?([^'\s]+)/,
    kind: 'loader-failed',
    message: (m, object) =>
      `${object} uses ${m[1] ?? m[2]}, which is declared extern but defined nowhere: libbpf looked for it in the kernel's BTF and did not find it, so it refused the object ${NOT_VERIFIER}.`,
    fix: (m) => `Define ${m[1] ?? m[2]} in the header (static __always_inline for a function), or remove its use. A header must define custom_prog() itself.`,
    subject: (m) => ({ symbol: m[1] ?? m[2] }),
  },
  {
    pattern: /map '([^']+)': failed to initialize slot \[(\d+)\] to prog '([^']+)'[^:]*: (-?\d+)/,
    kind: 'loader-failed',
    message: (m, object) =>
      `The verifier accepted the programs of ${object}, but libbpf could not put program ${m[3]} into slot ${m[2]} of the PROG_ARRAY ${m[1]} (${errnoName(m[4])})` +
      `${errnoName(m[4]) === 'E2BIG' ? ': the slot is beyond the map\'s max_entries' : ''}.`,
    fix: (m) => `Give ${m[1]} a max_entries above ${m[2]} or initialise a lower slot.`,
    subject: (m) => ({ symbol: m[1], slot: Number(m[2]) }),
  },
  {
    pattern: /map '([^']+)': failed to (create|pin|reuse|set initial contents|freeze|initialize)[^:]*(?::\s*(.*))?$/,
    kind: 'loader-failed',
    message: (m, object) => `libbpf could not ${m[2]} the map ${m[1]} of ${object}${m[3] ? `: ${m[3]}` : ''}. This is a loader error, not a verifier verdict.`,
    fix: () => 'Check the map definition (type, sizes, max_entries, pinning) against what this kernel supports.',
    subject: (m) => ({ symbol: m[1] }),
  },
  {
    pattern: /elf: failed to open (.*): No such file or directory/,
    kind: 'object-missing',
    message: (m) => `Object file not found when bpftool opened it: ${m[1]}.`,
    fix: () => 'Build the header first (Cilium Custom: Build Custom Program); if a build was running, verify again once it ends.',
  },
  {
    pattern: /is not a valid eBPF object file|is not a proper ELF object|endianness mismatch|failed to get EHDR|unsupported machine/,
    kind: 'not-bpf-object',
    message: (_m, object, said) => `${object} is not a BPF object bpftool can load: ${said}.`,
    fix: () => 'Build it with clang --target=bpf (cilium-custom build my_prog.h does).',
  },
  {
    pattern: /relo|relocat|CO-RE|BTF/,
    kind: 'loader-failed',
    message: (_m, object, said) => `libbpf could not prepare ${object} for loading (${said}). This is a loader error, not a verifier verdict.`,
    fix: () => 'Check the types and symbols the program relies on against this kernel\'s BTF.',
  },
];

const ERRNO: Record<string, string> = { '1': 'EPERM', '2': 'ENOENT', '7': 'E2BIG', '9': 'EBADF', '12': 'ENOMEM', '13': 'EACCES', '16': 'EBUSY', '17': 'EEXIST', '22': 'EINVAL', '95': 'EOPNOTSUPP' };

function errnoName(value: string): string {
  const n = value.replace(/^-/, '');
  return ERRNO[n] ?? `error ${value}`;
}
