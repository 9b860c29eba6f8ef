// One Testing API run: the requested cases, grouped by test file, each file run on the active target through
// core/progtest (build, verify, one test run), its results put on the cases as test results: passed (with ns/packet
// after a bench), failed with one expected/actual diff per difference placed on the case's line, or errored with
// what kept it from running.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { hostKernelVersion } from '../../core/kernels/matrix';
import { formatMismatch, reportLines, benchTable } from '../../core/progtest/report';
import { DEFAULT_BENCH, runProgTests, type ProgTestResult } from '../../core/progtest/runTests';
import { readTestFile } from '../../core/progtest/testFile';
import type { CiliumCustomContext } from '../context';
import { caseId, type TestTree } from './testTree';

export type OutcomeState = 'passed' | 'failed' | 'errored' | 'skipped';

export interface CaseOutcome {
  id: string;
  state: OutcomeState;
  messages: { message: string; expected?: string; actual?: string }[];
  nsPerPacket?: number;
}

/** What a run did, for the editor's own use (the CodeLens) and for tests (the Testing API keeps results to itself). */
export interface ProgTestRunRecord {
  bench: boolean;
  outcomes: CaseOutcome[];
  results: ProgTestResult[];
  /** The target's kernel (for the CodeLens), when a bench ran. */
  kernel?: string;
}

export interface RunDeps {
  ctx: CiliumCustomContext;
  controller: vscode.TestController;
  tree: TestTree;
}

/** The requested items as test files and the case names in each (all cases: undefined). */
function groupByFile(controller: vscode.TestController, request: vscode.TestRunRequest): Map<string, Set<string> | undefined> {
  const groups = new Map<string, Set<string> | undefined>();
  const excluded = new Set((request.exclude ?? []).map((i) => i.id));
  const roots: vscode.TestItem[] = [];
  if (request.include) roots.push(...request.include);
  else controller.items.forEach((i) => roots.push(i));
  for (const item of roots) {
    if (excluded.has(item.id)) continue;
    if (!item.parent) {
      const names = new Set<string>();
      item.children.forEach((c) => {
        if (!excluded.has(c.id)) names.add(c.label);
      });
      groups.set(item.id, names.size === item.children.size ? undefined : names);
      continue;
    }
    const file = item.parent.id;
    if (groups.has(file) && groups.get(file) === undefined) continue;
    const names = groups.get(file) ?? new Set<string>();
    names.add(item.label);
    groups.set(file, names);
  }
  return groups;
}

export async function runTestRequest(deps: RunDeps, request: vscode.TestRunRequest, token: vscode.CancellationToken, bench: boolean): Promise<ProgTestRunRecord> {
  const { ctx, controller, tree } = deps;
  const run = controller.createTestRun(request, bench ? 'Cilium custom program benchmark' : 'Cilium custom program tests', true);
  const record: ProgTestRunRecord = { bench, outcomes: [], results: [] };
  const abort = new AbortController();
  const cancellation = token.onCancellationRequested(() => abort.abort());
  const target = ctx.targets.active();
  try {
    for (const [file, names] of groupByFile(controller, request)) {
      const fileItem = controller.items.get(file);
      if (!fileItem) continue;
      tree.update(file);
      const items: vscode.TestItem[] = [];
      fileItem.children.forEach((c) => {
        if (!names || names.has(c.label)) items.push(c);
      });
      if (token.isCancellationRequested) {
        for (const item of items) run.skipped(item);
        continue;
      }
      for (const item of items) run.started(item);
      const outcome = (item: vscode.TestItem, state: OutcomeState, messages: vscode.TestMessage[] = [], nsPerPacket?: number) => {
        record.outcomes.push({
          id: item.id,
          state,
          messages: messages.map((m) => ({ message: typeof m.message === 'string' ? m.message : m.message.value, expected: m.expectedOutput, actual: m.actualOutput })),
          ...(nsPerPacket !== undefined ? { nsPerPacket } : {}),
        });
      };
      try {
        const testFile = readTestFile(file);
        ctx.log.info(`test ${path.basename(file)} on ${target.name}${bench ? ' (bench)' : ''}`);
        const result = await runProgTests({
          testFile,
          target,
          ...ctx.config.buildSettings(ctx.bundledSdkDir),
          ...(names ? { caseNames: [...names] } : {}),
          ...(bench ? { bench: DEFAULT_BENCH } : {}),
          signal: abort.signal,
        });
        record.results.push(result);
        run.appendOutput(`${[...reportLines(result), ...(bench && !result.rejected ? benchTable(result) : [])].join('\r\n')}\r\n`);
        if (result.rejected) {
          const located = result.verify.located?.error;
          const message = new vscode.TestMessage(`The verifier rejects the program, no case ran: ${result.rejected}`);
          if (located) message.location = new vscode.Location(vscode.Uri.file(located.file), new vscode.Position(Math.max(0, located.line - 1), 0));
          for (const item of items) {
            run.errored(item, message);
            outcome(item, 'errored', [message]);
          }
          continue;
        }
        for (const item of items) {
          const r = result.cases.find((c) => caseId(file, c.name) === item.id);
          if (!r) {
            run.skipped(item);
            outcome(item, 'skipped');
            continue;
          }
          const where = item.uri && item.range ? new vscode.Location(item.uri, item.range) : undefined;
          if (r.error) {
            const message = new vscode.TestMessage(r.error);
            if (where) message.location = where;
            run.errored(item, message);
            outcome(item, 'errored', [message]);
          } else if (!r.ok) {
            const messages = r.mismatches.map((m) => {
              const message = vscode.TestMessage.diff(formatMismatch(m), m.expected, m.actual);
              if (where) message.location = where;
              return message;
            });
            run.failed(item, messages);
            outcome(item, 'failed', messages);
          } else {
            item.description = r.bench ? `${r.bench.nsPerPacket} ns/packet` : item.description;
            run.passed(item);
            outcome(item, 'passed', [], r.bench?.nsPerPacket);
          }
        }
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        ctx.log.failure(`test ${path.basename(file)}`, error);
        const message = new vscode.TestMessage(text);
        for (const item of items) {
          run.errored(item, message);
          outcome(item, 'errored', [message]);
        }
      }
    }
    if (bench && record.results.some((r) => !r.rejected && !r.timingsHidden)) record.kernel = await hostKernelVersion(target, abort.signal).catch(() => target.name);
  } finally {
    cancellation.dispose();
    run.end();
  }
  return record;
}
