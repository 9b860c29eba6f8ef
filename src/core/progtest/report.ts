// How a test run reads as text: a TAP-like line per case with the differences under a failing one (expected
// against actual, map entries as BTF formats them), the closing `N passed, N failed`, and the bench table.
// Pure functions, shared by the CLI and the editor's test messages.
import type { Mismatch } from './compare';
import type { CaseResult, ProgTestResult } from './runTests';

/** One difference: "bytecount_map[12345]: expected 106, got 212". */
export function formatMismatch(m: Mismatch): string {
  return `${m.what}: expected ${m.expected}, got ${m.actual}`;
}

/** The lines of one case: `ok 1 - name (IPv4 UDP 106 B)`, or `not ok` followed by `  # ` lines saying why. */
export function caseLines(result: CaseResult, number: number): string[] {
  const head = `${result.ok ? 'ok' : 'not ok'} ${number} - ${result.name} (${result.packet})`;
  const why = result.error ? [result.error] : result.mismatches.map(formatMismatch);
  return [head, ...why.map((line) => `  # ${line}`)];
}

export function summaryLine(results: readonly CaseResult[]): string {
  const passed = results.filter((r) => r.ok).length;
  return `${passed} passed, ${results.length - passed} failed`;
}

export function reportLines(result: ProgTestResult): string[] {
  if (result.rejected) return [`not ok - the verifier rejects the program: ${result.rejected}`];
  return [`1..${result.cases.length}`, ...result.cases.flatMap((c, i) => caseLines(c, i + 1)), summaryLine(result.cases)];
}

/** The bench table: one row per case with ns/packet (the median of the rounds). */
export function benchTable(result: ProgTestResult): string[] {
  if (result.timingsHidden) return [`# ${result.timingsHidden}`];
  const rows = result.cases.filter((c) => c.bench);
  if (!rows.length) return ['# no timings (no case ran)'];
  const nameWidth = Math.max(4, ...rows.map((c) => c.name.length));
  const packetWidth = Math.max(6, ...rows.map((c) => c.packet.length));
  const line = (name: string, packet: string, ns: string, rounds: string) => `${name.padEnd(nameWidth)}  ${packet.padEnd(packetWidth)}  ${ns.padStart(9)}  ${rounds}`;
  return [
    line('case', 'packet', 'ns/packet', 'median of'),
    ...rows.map((c) => line(c.name, c.packet, String(c.bench!.nsPerPacket), `${c.bench!.rounds.length} rounds x ${c.bench!.repeat} runs`)),
  ];
}
