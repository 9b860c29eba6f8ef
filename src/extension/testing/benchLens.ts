// The cost per packet on the header itself: after a bench run, a CodeLens on custom_prog() reads
// "65 ns/packet, IPv4 UDP 106 B, kernel 6.18" (the first case benched; the range over every case when there are
// several). Clicking it benches again. Kept per header for the session only: timings belong to a machine and a moment.
import * as vscode from 'vscode';
import { customProgLine } from '../../core/progtest/caseLocations';
import type { ProgTestResult } from '../../core/progtest/runTests';

export const RUN_TESTS_COMMAND = 'ciliumCustom.runTests';

export interface BenchSummary {
  title: string;
  tooltip: string;
}

/** The lens text of one bench result, or undefined when it has no timings. */
export function benchSummary(result: ProgTestResult, kernel: string | undefined): BenchSummary | undefined {
  if (result.timingsHidden) return { title: 'no ns/packet: emulated VM', tooltip: result.timingsHidden };
  const timed = result.cases.filter((c) => c.bench);
  if (!timed.length) return undefined;
  const first = timed[0];
  const ns = timed.map((c) => c.bench!.nsPerPacket);
  const range = timed.length > 1 ? ` (${timed.length} cases: ${Math.min(...ns)}-${Math.max(...ns)} ns)` : '';
  return {
    title: `${first.bench!.nsPerPacket} ns/packet, ${first.packet}${kernel ? `, kernel ${kernel}` : ''}${range}`,
    tooltip: timed.map((c) => `${c.name}: ${c.bench!.nsPerPacket} ns/packet (${c.packet}; median of ${c.bench!.rounds.length} rounds of ${c.bench!.repeat})`).join('\n'),
  };
}

export class BenchLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly summaries = new Map<string, BenchSummary>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  record(header: string, summary: BenchSummary): void {
    this.summaries.set(header, summary);
    this.changed.fire();
  }

  summaryOf(header: string): BenchSummary | undefined {
    return this.summaries.get(header);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const summary = this.summaries.get(document.uri.fsPath);
    if (!summary) return [];
    const line = customProgLine(document.getText());
    if (line === undefined) return [];
    return [
      new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
        title: summary.title,
        tooltip: summary.tooltip,
        command: RUN_TESTS_COMMAND,
        arguments: [document.uri, { bench: true }],
      }),
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
