// The processes of a benchmark run, seen through /proc: their CPU time, the machine's busy time per
// core, and pinning to cores with taskset (util-linux).
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

let clockTicks = 100;

/** Reads the kernel's clock tick (getconf CLK_TCK), the unit of /proc's CPU times. */
export async function initClockTicks(): Promise<void> {
  clockTicks = Number((await execFileP("getconf", ["CLK_TCK"])).stdout.trim()) || 100;
}

/** CPU time (user + system, ms) a process and all its threads used so far, from /proc/<pid>/stat. */
export async function processCpuMs(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the command name, in ticks.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** The pid of the test bed process whose command line holds both strings (the API server, etcd). */
export async function findPid(binary: string, marker: string): Promise<number> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0");
      if (cmdline[0]?.endsWith(`/${binary}`) && cmdline.some((a) => a.includes(marker))) return Number(entry);
    } catch {
      // gone
    }
  }
  throw new Error(`no ${binary} process with ${marker}`);
}

export interface Jiffies {
  readonly busy: number;
  readonly total: number;
}

/** Busy and total jiffies of the whole machine and of each core (/proc/stat's cpu and cpuN lines). */
export async function machineJiffies(): Promise<{ all: Jiffies; perCpu: Jiffies[] }> {
  const perCpu: Jiffies[] = [];
  let all: Jiffies = { busy: 0, total: 0 };
  for (const line of (await readFile("/proc/stat", "utf8")).split("\n")) {
    const m = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = (m[2] as string).trim().split(/\s+/).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const j = { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
    if (m[1] === "") all = j;
    else perCpu[Number(m[1])] = j;
  }
  return { all, perCpu };
}

/** Share of `b − a` that was busy. */
export function busyShare(a: Jiffies, b: Jiffies): number {
  return (b.busy - a.busy) / Math.max(1, b.total - a.total);
}

/** Is taskset there (util-linux)? */
export async function hasTaskset(): Promise<boolean> {
  try {
    await execFileP("taskset", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

/** Pins every thread of a running process to `cpus` (taskset's list syntax, e.g. "0" or "0-1"). */
export async function pin(pid: number, cpus: string): Promise<void> {
  await execFileP("taskset", ["-a", "-p", "-c", cpus, String(pid)]);
}

/** The distinct CPU lists the threads of a process may run on (Cpus_allowed_list of each task). */
export async function affinity(pid: number): Promise<string[]> {
  const lists = new Set<string>();
  for (const task of await readdir(`/proc/${pid}/task`)) {
    try {
      const status = await readFile(`/proc/${pid}/task/${task}/status`, "utf8");
      const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status);
      if (m) lists.add(m[1] as string);
    } catch {
      // the thread ended
    }
  }
  return [...lists].sort();
}

/** The command that runs `command args` on `cpus` only (taskset execs it: same pid, same rusage). */
export function onCpus(cpus: string | null, command: string, args: string[]): [string, string[]] {
  return cpus === null ? [command, args] : ["taskset", ["-c", cpus, command, ...args]];
}
