/**
 * What Linux's /proc says about processes and the machine, for benchmarks on a shared host: CPU time and memory
 * per process, busy time of all cores. Jiffies are USER_HZ ticks (100 per second on Linux).
 */
import { readFileSync } from 'node:fs';

/** Ticks per second of the jiffies in /proc (USER_HZ, fixed at 100 in Linux's user ABI). */
export const JIFFIES_PER_SECOND = 100;

/** Resident memory of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

/** Jiffies the whole machine spent busy and in total, summed over its cores (first line of /proc/stat). */
export function machineJiffies(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th fields.
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** Jiffies a process spent on CPU, all its threads (utime + stime, fields 14 and 15 of /proc/PID/stat). */
export function processJiffies(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
