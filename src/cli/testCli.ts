// cilium-custom test <header.h|file.test.json>: the header's packet test cases, run in the kernel through
// BPF_PROG_TEST_RUN (core/progtest), locally, over SSH or in a cached kernel's VM.
import * as fs from 'node:fs';
import type { BuildResult } from '../core/build/build';
import { formatDiagnostic } from '../core/build/clangDiagnostics';
import { KernelCache } from '../core/kernels';
import { KernelNotAvailable, kernelTargets, resolveKernelRefs } from '../core/kernels/matrix';
import { PacketError } from '../core/progtest/packet';
import { benchTable, reportLines } from '../core/progtest/report';
import { DEFAULT_BENCH, ProgTestInputError, runProgTests, type ProgTestResult } from '../core/progtest/runTests';
import { ContextError } from '../core/progtest/skbContext';
import { readTestFile, testFileFor, TestFileError, TEST_FILE_SUFFIX, type TestFile } from '../core/progtest/testFile';
import type { Target } from '../core/target/target';
import { VerifyProblem } from '../core/verify/verifyErrors';
import { numberOption, parseCommandArgs, printJson, UsageError } from './args';
import { BUILD_OPTIONS, buildSettingsFromFlags } from './buildCli';
import { checkLocalPrivilege } from './privilege';
import { TARGET_OPTIONS, targetFromFlags } from './targetArgs';

export async function runTestCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    ...BUILD_OPTIONS,
    case: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    bench: { type: 'boolean', default: false },
    repeat: { type: 'string' },
    rounds: { type: 'string' },
    kernel: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`test takes exactly one header (.h) or test file (${TEST_FILE_SUFFIX})`);
  const repeat = numberOption('repeat', values.repeat, { min: 1, max: 10_000_000 });
  const rounds = numberOption('rounds', values.rounds, { min: 1, max: 100 });
  if ((repeat !== undefined || rounds !== undefined) && !values.bench) throw new UsageError('--repeat and --rounds go with --bench');
  const testFile = loadTestFile(positionals[0]);
  const settings = buildSettingsFromFlags(values);
  const target = await chooseTarget(values, signal);
  if (!target) return 1;
  try {
    let result: ProgTestResult;
    try {
      result = await runProgTests({
        testFile,
        target,
        ...settings,
        caseNames: values.case,
        ...(values.bench ? { bench: { repeat: repeat ?? DEFAULT_BENCH.repeat, rounds: rounds ?? DEFAULT_BENCH.rounds } } : {}),
        signal,
      });
    } catch (error) {
      if (error instanceof ProgTestInputError || error instanceof PacketError || error instanceof ContextError) throw new UsageError(error.message);
      if (!(error instanceof VerifyProblem)) throw error;
      const build = (error as { build?: BuildResult }).build;
      if (build && !values.json) for (const d of build.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      if (values.json) printJson({ testFile: testFile.path, problem: error.kind, error: { message: error.message, hint: error.fix }, cases: [] });
      else process.stderr.write(`cilium-custom: ${error.full}\n`);
      return 1;
    }
    if (values.json) printJson(toJson(result));
    else {
      for (const line of reportLines(result)) process.stdout.write(`${line}\n`);
      if (values.bench && !result.rejected) for (const line of benchTable(result)) process.stdout.write(`${line}\n`);
    }
    if (result.leftovers.length) process.stderr.write(`cilium-custom: could not remove temporary pins: ${result.leftovers.join(', ')}\n`);
    return !result.rejected && result.cases.every((c) => c.ok) ? 0 : 1;
  } finally {
    await target.dispose();
  }
}

/** The header's test file, or the test file itself; anything unreadable or malformed is bad input (exit 2). */
function loadTestFile(input: string): TestFile {
  const file = input.endsWith('.h') ? testFileFor(input) : input;
  if (!file.endsWith(TEST_FILE_SUFFIX)) throw new UsageError(`test takes a header (.h) or a test file (${TEST_FILE_SUFFIX}), not ${JSON.stringify(input)}`);
  if (!fs.existsSync(file)) throw new UsageError(`${file} does not exist${input.endsWith('.h') ? ' (write the cases there: see the README, "Test cases")' : ''}`);
  try {
    const parsed = readTestFile(file);
    if (!fs.existsSync(parsed.header)) throw new UsageError(`${file}: its header ${parsed.header} does not exist`);
    return parsed;
  } catch (error) {
    if (error instanceof TestFileError) throw new UsageError(error.message);
    throw error;
  }
}

async function chooseTarget(values: Parameters<typeof targetFromFlags>[0] & { kernel?: string; json?: boolean }, signal: AbortSignal): Promise<Target | undefined> {
  if (values.kernel === undefined) {
    const target = targetFromFlags(values);
    checkLocalPrivilege('test', target);
    return target;
  }
  if (values.ssh !== undefined || values.target !== undefined) throw new UsageError('--kernel runs in a VM on this machine: it does not combine with --ssh or --target');
  try {
    const { kernels } = await resolveKernelRefs(new KernelCache(), [values.kernel], { signal });
    if (kernels.length !== 1) throw new UsageError(`--kernel ${JSON.stringify(values.kernel)}: name one cached kernel (cilium-custom kernels list)`);
    return kernelTargets(kernels, {
      onBoot: (t, bootMs, accel) => {
        if (!values.json) process.stderr.write(`cilium-custom: ${t.label} booted in ${(bootMs / 1000).toFixed(1)} s (${accel})\n`);
      },
    })[0];
  } catch (error) {
    if (error instanceof KernelNotAvailable) throw new UsageError(error.message);
    if (error instanceof UsageError) throw error;
    process.stderr.write(`cilium-custom: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  }
}

function toJson(result: ProgTestResult): unknown {
  const passed = result.cases.filter((c) => c.ok).length;
  return {
    testFile: result.testFile,
    header: result.header,
    target: result.target,
    ...(result.rejected ? { rejected: result.rejected } : {}),
    passed,
    failed: result.cases.length - passed,
    cases: result.cases,
    ...(result.timingsHidden ? { timingsHidden: result.timingsHidden } : {}),
    durationMs: result.durationMs,
  };
}
