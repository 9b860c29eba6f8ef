// Running a benchmark child and measuring it from outside: wall time and peak RSS. The peak comes from
// /proc/PID/status (VmHWM, polled while the child runs; exec gave it a fresh address space, so none of the parent's
// memory is counted), not from the child's own getrusage(), whose maxRSS starts from the parent's RSS at fork.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident set of the child (MB, 10^6 bytes), as last seen in /proc; null when never read. */
  maxRssMb: number | null;
}

function vmHwmKb(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Runs argv to its end, sampling its peak RSS every `pollMs` (VmHWM only grows, so the last sample is the peak). */
export function runChild(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: Buffer; pollMs?: number } = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb: number | null = null;
    const sample = () => {
      if (child.pid === undefined) return;
      const kb = vmHwmKb(child.pid);
      if (kb !== null) peakKb = Math.max(peakKb ?? 0, kb);
    };
    const timer = setInterval(sample, options.pollMs ?? 10);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The last look before the child is reaped: 'exit' fires after waitpid, so sample on its stdout's end too.
    child.stdout.once('end', sample);
    child.once('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6, maxRssMb: peakKb === null ? null : (peakKb * 1024) / 1e6 });
    });
    child.stdin.end(options.input ?? undefined);
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs the series interleaved (a, b, c, a, b, c, ...) so that load from elsewhere hits them alike; medians. */
export async function interleaved<K extends string>(runs: number, series: Record<K, () => Promise<number>>): Promise<Record<K, { ms: number[]; median: number }>> {
  const keys = Object.keys(series) as K[];
  const ms = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < runs; i++) for (const k of keys) ms[k].push(await series[k]());
  return Object.fromEntries(keys.map((k) => [k, { ms: ms[k], median: median(ms[k]) }])) as Record<K, { ms: number[]; median: number }>;
}
