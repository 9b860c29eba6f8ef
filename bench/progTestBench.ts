// Cost per packet of each bundled example, measured as `cilium-custom test --bench` measures it (BPF_PROG_TEST_RUN,
// the median of 5 rounds of 100,000 runs per case), against a custom_prog() that does nothing: what the landing
// program and the test run cost by themselves. The tail-called custom program is invisible to bpf_stats (the
// kernel counts no run_time_ns for tail calls), so this is the way to measure it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { median, runProgTests, DEFAULT_BENCH } from '../src/core/progtest/runTests';
import { readTestFile, testFileFor } from '../src/core/progtest/testFile';
import { LocalTarget } from '../src/core/target';
import { SDK_DIR } from '../test/system/helpers/fixtures';
import type { Row } from './table';

const EMPTY_PROGRAM = `#include <bpf/ctx/skb.h>
#include <bpf/api.h>

static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
	(void)ctx;
	(void)identity;
}
`;

const EMPTY_CASES = { cases: [{ name: 'IPv4 UDP', packet: { ip: 'ipv4', proto: 'udp', size: 106 }, identity: 12345 }] };

export interface ProgTestBenchResult {
  /** ns/packet of the empty program (IPv4 UDP 106 B). */
  emptyNs: number;
  examples: { example: string; cases: number; medianNs: number; perCase: { name: string; packet: string; ns: number }[] }[];
}

async function benchFile(file: string): Promise<{ name: string; packet: string; ns: number }[]> {
  const result = await runProgTests({ testFile: readTestFile(file), target: new LocalTarget(), bundledSdkDir: SDK_DIR, bench: DEFAULT_BENCH });
  if (result.rejected) throw new Error(`${file}: rejected: ${result.rejected}`);
  const failed = result.cases.filter((c) => !c.ok);
  if (failed.length) throw new Error(`${file}: ${failed.map((c) => c.name).join(', ')} failed`);
  return result.cases.map((c) => ({ name: c.name, packet: c.packet, ns: c.bench!.nsPerPacket }));
}

/** `examplesDir`: a copy of bpf/examples (headers and test files) that may be built in. */
export async function progTestBench(examplesDir: string, work: string): Promise<ProgTestBenchResult> {
  const emptyHeader = path.join(work, 'empty_prog.h');
  fs.writeFileSync(emptyHeader, EMPTY_PROGRAM);
  fs.writeFileSync(testFileFor(emptyHeader), JSON.stringify(EMPTY_CASES));
  const [empty] = await benchFile(testFileFor(emptyHeader));
  const examples: ProgTestBenchResult['examples'] = [];
  for (const header of fs.readdirSync(examplesDir).filter((f) => f.endsWith('.h')).sort()) {
    const perCase = await benchFile(testFileFor(path.join(examplesDir, header)));
    examples.push({ example: header, cases: perCase.length, medianNs: median(perCase.map((c) => c.ns)), perCase });
  }
  return { emptyNs: empty.ns, examples };
}

export function progTestRows(result: ProgTestBenchResult): Row[] {
  return result.examples.map((e) => ({
    name: `${e.example}: ns/packet, median of ${e.cases} cases`,
    ours: e.medianNs,
    baseline: result.emptyNs,
    baselineName: 'empty custom_prog',
    ratio: e.medianNs / result.emptyNs,
  }));
}
