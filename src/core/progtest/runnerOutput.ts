// Reads the runner script's output (runnerScript.ts) back into one record per case: the load's output when it
// failed, the map dumps before and after the run, the run's return code and duration, the bench rounds. Pure: the
// marker lines structure the text, bpftool's JSON fills it in.
import { MARK } from './runnerScript';

export interface RunnerCaseOutput {
  index: number;
  /** Steps that failed ("load", "seed NAME: why", "data: why"), with what they printed. */
  failures: { what: string; output: string }[];
  /** bpftool -j map dump output per map name. */
  before: Map<string, string>;
  after: Map<string, string>;
  /** bpftool -j prog run output of the checked run. */
  run?: string;
  bench: string[];
}

export interface RunnerOutput {
  cases: RunnerCaseOutput[];
  /** The script reached its end (every step ran). */
  complete: boolean;
  /** A step the script did not know (a bug here), or output before the first case. */
  preamble: string;
}

export function parseRunnerOutput(text: string): RunnerOutput {
  const out: RunnerOutput = { cases: [], complete: false, preamble: '' };
  let current: RunnerCaseOutput | undefined;
  let sink: ((body: string) => void) | undefined = (body) => (out.preamble += body);
  let body: string[] = [];
  const flush = () => {
    sink?.(body.join('\n').trim());
    body = [];
  };
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${MARK} `)) {
      body.push(line);
      continue;
    }
    flush();
    const marker = line.slice(MARK.length + 1);
    const [word, ...rest] = marker.split(' ');
    sink = undefined;
    if (word === 'case') {
      current = { index: Number(rest[0]), failures: [], before: new Map(), after: new Map(), bench: [] };
      out.cases.push(current);
    } else if (word === 'end') {
      out.complete = true;
    } else if (!current) {
      sink = (b) => (out.preamble += `${marker}\n${b}`);
    } else if (word === 'map' && (rest[0] === 'before' || rest[0] === 'after') && rest[1]) {
      const maps = rest[0] === 'before' ? current.before : current.after;
      sink = (b) => maps.set(rest[1], b);
    } else if (word === 'run') {
      const c = current;
      sink = (b) => (c.run = b);
    } else if (word === 'bench') {
      const c = current;
      sink = (b) => c.bench.push(b);
    } else if (word === 'failed') {
      const failure = { what: rest.join(' '), output: '' };
      current.failures.push(failure);
      sink = (b) => (failure.output = b);
    }
  }
  flush();
  return out;
}

export interface ProgRunResult {
  retval: number;
  durationNs: number;
}

/** `bpftool -j prog run` output: {"retval": 2, "duration": 90}; an error message otherwise. */
export function parseProgRun(text: string | undefined): ProgRunResult | { error: string } {
  if (text === undefined) return { error: 'the program did not run' };
  const line = text.split('\n').find((l) => l.trim().startsWith('{'));
  try {
    const json = JSON.parse(line ?? '') as { retval?: unknown; duration?: unknown; error?: unknown };
    if (typeof json.retval === 'number' && typeof json.duration === 'number') return { retval: json.retval, durationNs: json.duration };
    if (typeof json.error === 'string') return { error: json.error };
  } catch {
    // fall through: what bpftool printed is the message
  }
  return { error: text.trim().split('\n').at(-1) || 'no output from bpftool prog run' };
}
