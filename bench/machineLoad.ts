// What else ran while the bench did: the load average, and the CPU time of every process outside the bench's own
// process tree, from /proc. Numbers taken on a busy machine are noisy; the bench prints this and warns.
import * as fs from 'node:fs';
import * as os from 'node:os';

const TICKS = 100; // USER_HZ on Linux

interface Sample {
  at: number;
  cpu: Map<number, { ticks: number; name: string; ppid: number }>;
  /** All CPU busy time of the machine (/proc/stat), and this process's own plus its reaped children's. */
  machineTicks: number;
  selfTicks: number;
}

function machineBusyTicks(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  return f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
}

function selfTicks(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime stime cutime cstime (fields 14-17): cutime/cstime hold the children the bench waited for.
  return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
}

function readProcs(): Sample {
  const cpu = new Map<number, { ticks: number; name: string; ppid: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // fields[0] is state (field 3); utime and stime are fields 14 and 15; ppid is field 4.
      cpu.set(Number(entry), { ticks: Number(fields[11]) + Number(fields[12]), name, ppid: Number(fields[1]) });
    } catch {
      // Gone meanwhile.
    }
  }
  return { at: Date.now(), cpu, machineTicks: machineBusyTicks(), selfTicks: selfTicks() };
}

export interface LoadReport {
  loadavgStart: number[];
  loadavgEnd: number[];
  seconds: number;
  /** Processes outside the bench that used more than 20% of a core on average, busiest first. */
  busy: { pid: number; name: string; corePercent: number }[];
  /** All CPU used outside the bench, in cores (average; /proc/stat minus the bench's own). */
  otherCores: number;
}

export class MachineLoad {
  private readonly start = readProcs();
  private readonly loadStart = os.loadavg();

  report(): LoadReport {
    const end = readProcs();
    const seconds = (end.at - this.start.at) / 1000;
    // The bench's own tree: this process and its descendants (as they are now; finished children are gone anyway).
    const ours = new Set([process.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, p] of end.cpu) {
        if (!ours.has(pid) && ours.has(p.ppid)) {
          ours.add(pid);
          grew = true;
        }
      }
    }
    const used: { pid: number; name: string; corePercent: number }[] = [];
    // Everything the machine did minus what the bench did (itself, its finished children, its live descendants):
    // this also counts other processes that came and went during the run.
    let liveOurs = 0;
    for (const pid of ours) if (pid !== process.pid) liveOurs += end.cpu.get(pid)?.ticks ?? 0;
    const otherTicks = Math.max(0, end.machineTicks - this.start.machineTicks - (end.selfTicks - this.start.selfTicks) - liveOurs);
    for (const [pid, p] of end.cpu) {
      if (ours.has(pid)) continue;
      const before = this.start.cpu.get(pid);
      const ticks = p.ticks - (before && before.name === p.name ? before.ticks : 0);
      if (ticks <= 0) continue;
      used.push({ pid, name: p.name, corePercent: (100 * ticks) / TICKS / Math.max(seconds, 0.001) });
    }
    return {
      loadavgStart: this.loadStart,
      loadavgEnd: os.loadavg(),
      seconds,
      busy: used.filter((u) => u.corePercent > 20).sort((a, b) => b.corePercent - a.corePercent),
      otherCores: otherTicks / TICKS / Math.max(seconds, 0.001),
    };
  }
}

export function formatLoad(r: LoadReport): string {
  const avg = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  const lines = [`machine: ${os.cpus().length} cores; load average ${avg(r.loadavgStart)} at the start, ${avg(r.loadavgEnd)} at the end; other processes used ${r.otherCores.toFixed(2)} cores on average over ${r.seconds.toFixed(0)} s`];
  if (r.busy.length) {
    lines.push(
      `WARNING: other processes used more than 20% of a core during the bench, the numbers are noisy: ` +
        r.busy.slice(0, 8).map((b) => `${b.name}[${b.pid}] ${b.corePercent.toFixed(0)}%`).join(', '),
    );
  } else if (r.otherCores > 0.2) {
    // Many short-lived processes (another test suite, a build) load the machine without one of them standing out.
    lines.push(`WARNING: other processes together used ${(r.otherCores * 100).toFixed(0)}% of a core during the bench (none alone more than 20%): the numbers are noisy`);
  }
  return lines.join('\n');
}
