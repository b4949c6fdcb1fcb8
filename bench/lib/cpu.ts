// CPU time per process group over a time window, from /proc/<pid>/stat (Linux only; elsewhere
// the snapshots are empty). Cheaper and more exact than sampling top: every tick of every
// process is counted, including short spikes between samples.

import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every mainstream Linux build.

export type CpuSnapshot = Map<number, { comm: string; ticks: number }>;

export function cpuSnapshot(): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return snap;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // comm may contain spaces and parentheses: it ends at the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      snap.set(Number(pid), { comm, ticks: Number(fields[11]) + Number(fields[12]) }); // utime + stime
    } catch {
      // The process exited between readdir and read.
    }
  }
  return snap;
}

/**
 * Percent of one core per group between two snapshots. Processes that started in between count
 * whole; ones that exited in between are lost (short-lived helpers only, in practice). CPU times
 * survive exec, so a pid whose name changed (setpriv -> node) is still a difference.
 */
export function cpuByGroup(
  before: CpuSnapshot, after: CpuSnapshot, seconds: number, group: (pid: number, comm: string) => string,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pid, a] of after) {
    const b = before.get(pid);
    const ticks = a.ticks - (b && b.ticks <= a.ticks ? b.ticks : 0);
    if (ticks <= 0) continue;
    const key = group(pid, a.comm);
    out.set(key, (out.get(key) ?? 0) + (ticks / TICKS_PER_SECOND / seconds) * 100);
  }
  return out;
}

/**
 * A Temporal process by its name: the CLI's dev server (`temporal`) or the Temporal Server, whose
 * binary is go.temporal.io/server/cmd/server (`server`).
 */
export function isTemporalProcess(comm: string): boolean {
  return comm.startsWith('temporal') || comm === 'server';
}
