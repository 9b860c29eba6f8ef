// Recognises the lines loaders print around the kernel's log: where the log starts and ends, which loader
// printed it, and the loader's own failure messages (used when the kernel printed nothing).
import type { LoaderFamily } from './model';
import { parseCiliumSummary } from './ciliumSummary';

/**
 * rank orders loader failure lines by how much they say: 2 names the cause (`extern ... not found`),
 * 1 is "the load failed: <errno>", 0 is a generic "failed to load object".
 */
export interface LoaderLine {
  rank: 0 | 1 | 2;
  /** Proves the load failed (as opposed to a warning that may precede a successful load). */
  fatal: boolean;
}

export type FramingEvent =
  | { type: 'bodyStart'; family: LoaderFamily; rest: string | null; failure: LoaderLine | null; success?: boolean }
  | { type: 'bodyEnd'; family: LoaderFamily | null; failure: LoaderLine | null }
  | { type: 'loader'; family: LoaderFamily; failure: LoaderLine | null; success?: boolean }
  | { type: 'truncated'; family: LoaderFamily | null; failure: LoaderLine | null }
  | { type: 'summary'; family: LoaderFamily; message: string; context: string[]; truncated: boolean };

const LIBBPF_BEGIN = /^-- BEGIN (?:PROG LOAD LOG|DUMP LOG) --/;
const LIBBPF_END = /^-- END (?:PROG LOAD )?LOG --/;
const VERISTAT = /^PROCESSING \S+, DURATION US: \d+, VERDICT: (\w+), VERIFIER LOG:/;
const AYA_CHAIN = /^\d+: the BPF_PROG_LOAD/;
const AYA = /the BPF_PROG_LOAD syscall failed\. Verifier output: ?(.*)$/;
// cilium/ebpf errors read `[program X: ]load program: <errno>...`; bcc's "Failed to load program:" is not one.
const CILIUM_LOAD = /(?:^|: )load program: /;
const CILIUM_HEADER = /load program: [a-z][a-z ]*:$/;
const LIBBPF_SPECIFIC =
  /\bnot found\b|\bfailed to (?!load\b)|\berror\b|\bcannot\b|\bcan't\b|\bunsupported\b|\bunrecognized\b|-E[A-Z]{3,}\b/i;

const fatal = (rank: 0 | 1 | 2): LoaderLine => ({ rank, fatal: true });

/** Classifies a trimmed line, or returns null when it is not loader framing. */
export function classifyFraming(line: string): FramingEvent | null {
  const c = line.charCodeAt(0);
  // Fast path for the bulk of a log: trace lines start with a digit or ';', and only aya's repeated
  // error chain (`0: the BPF_PROG_LOAD syscall failed...`) among them is framing.
  if (c === 59 /* ; */) return null;
  if (c >= 48 && c <= 57 && !AYA_CHAIN.test(line)) return null;
  if (c === 108 /* l */ && line.startsWith('libbpf:')) return libbpfLine(line.slice(7).trim());
  if (c === 45 /* - */) {
    if (LIBBPF_BEGIN.test(line)) return { type: 'bodyStart', family: 'libscap', rest: null, failure: null };
    if (LIBBPF_END.test(line)) return { type: 'bodyEnd', family: null, failure: null };
    if (/^- (?:Type|Instructions|License|Attach Type):/.test(line)) return { type: 'loader', family: 'iproute2', failure: null };
  }
  if (line.includes('BPF_PROG_LOAD syscall failed')) {
    const aya = AYA.exec(line);
    return { type: 'bodyStart', family: 'aya', rest: aya ? (aya[1] ?? '') : null, failure: fatal(1) };
  }
  if (line.includes('load program: ') && CILIUM_LOAD.test(line)) {
    if (CILIUM_HEADER.test(line)) return { type: 'bodyStart', family: 'cilium-ebpf', rest: null, failure: fatal(1) };
    const s = parseCiliumSummary(line);
    if (s) return { type: 'summary', family: 'cilium-ebpf', ...s };
  }
  return otherLoaders(line);
}

function libbpfLine(rest: string): FramingEvent {
  if (LIBBPF_BEGIN.test(afterProg(rest))) return { type: 'bodyStart', family: 'libbpf', rest: null, failure: null };
  if (LIBBPF_END.test(rest)) return { type: 'bodyEnd', family: 'libbpf', failure: null };
  if (/BPF program load failed|load bpf program failed/.test(rest)) return { type: 'loader', family: 'libbpf', failure: fatal(1) };
  if (/failed to load(?: object| program|:)/.test(rest)) return { type: 'loader', family: 'libbpf', failure: fatal(0) };
  // "relo #0: substituting insn #1 w/ invalid insn" is libbpf narrating CO-RE poisoning, not a failure.
  if (LIBBPF_SPECIFIC.test(rest) && !/w\/ invalid insn/.test(rest)) {
    return { type: 'loader', family: 'libbpf', failure: { rank: 2, fatal: false } };
  }
  return { type: 'loader', family: 'libbpf', failure: null };
}

function afterProg(rest: string): string {
  const m = /^prog '[^']*': /.exec(rest);
  return m ? rest.slice(m[0].length) : rest;
}

function otherLoaders(line: string): FramingEvent | null {
  // bpftool
  if (line.startsWith('Error: ')) {
    // bpftool's errors; other Go/Rust tools print "Error: " too, so only bpftool's wording names the family.
    const family = /object file|bpftool|failed to pin|prog load/.test(line) ? 'bpftool' : 'raw';
    return { type: 'loader', family, failure: fatal(/failed to load object/.test(line) ? 0 : 2) };
  }
  if (line.startsWith('Warning: bpftool ') || line.startsWith('If it used to work for this object file')) {
    return { type: 'loader', family: 'bpftool', failure: null };
  }
  // bcc: its log follows "bpf: Failed to load program: <strerror>" directly.
  if (line.startsWith('bpf: ')) return { type: 'bodyStart', family: 'bcc', rest: null, failure: fatal(1) };
  if (line.startsWith('HINT: ') || line.startsWith('Traceback (most recent call last)')) {
    return { type: 'bodyEnd', family: 'bcc', failure: null };
  }
  if (line.startsWith('Exception: Failed to load BPF program')) return { type: 'loader', family: 'bcc', failure: fatal(0) };
  if (/^Program .*too large \(\d+ insns\), at most \d+ insns/.test(line)) return { type: 'loader', family: 'bcc', failure: fatal(2) };
  // iproute2 legacy loader
  if (/^Prog section '[^']*' rejected: /.test(line)) return { type: 'loader', family: 'iproute2', failure: fatal(1) };
  if (line === 'Verifier analysis:') return { type: 'bodyStart', family: 'iproute2', rest: null, failure: null };
  if (line.startsWith('Log buffer too small to dump verifier log')) return { type: 'truncated', family: 'iproute2', failure: null };
  if (line === 'Error fetching program/map!') return { type: 'bodyEnd', family: 'iproute2', failure: fatal(0) };
  // bpftrace
  if (line.startsWith('Error log:')) return { type: 'bodyStart', family: 'bpftrace', rest: line.slice(10).trim(), failure: null };
  if (line.startsWith('ERROR: Error loading program')) return { type: 'bodyEnd', family: 'bpftrace', failure: fatal(1) };
  // veristat
  const v = VERISTAT.exec(line);
  if (v) {
    const failed = v[1] !== 'success';
    return { type: 'bodyStart', family: 'veristat', rest: null, failure: failed ? fatal(0) : null, success: !failed };
  }
  if (/^={5,}$/.test(line) || /^Done\. Processed \d+ files/.test(line)) return { type: 'bodyEnd', family: null, failure: null };
  // cilium/ebpf
  if (line.startsWith('Verifier error tail:')) return { type: 'bodyStart', family: 'cilium-ebpf', rest: null, failure: null };
  if (/^\((?:truncated(?:, \d+ line\(s\) omitted)?|\d+ line\(s\) omitted)\)$/.test(line)) {
    return { type: 'truncated', family: 'cilium-ebpf', failure: null };
  }
  if (line === '(BTF disabled)' || line === 'Caused by:') return { type: 'loader', family: 'raw', failure: null };
  return null;
}
