/**
 * CPU and memory of one node's podnetd as the whole process tree under it (the agent may run its parts as child
 * processes): every descendant of the recorded PID, found through /proc's parent links. CPU counts the tree's own
 * user+system time plus what its reaped children used (cutime/cstime), so a child that exits between two samples
 * still counts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLK_TCK = Number(execFileSync('/usr/bin/getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const PAGE = Number(execFileSync('/usr/bin/getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;

interface Stat { pid: number; ppid: number; ticks: number; rssBytes: number }

/** What a process of the tree is: the part after `agent-part` in its command line, else `supervisor`. */
function partOf(pid: number): string {
  let argv: string[];
  try { argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return 'gone'; }
  const i = argv.indexOf('agent-part');
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : 'supervisor';
}

function readStat(pid: number): Stat | null {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  // Fields after comm (which may hold spaces): state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14 ... rss=21.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i]);
  return { pid, ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14), rssBytes: n(21) * PAGE };
}

export interface PartSample { cpuSeconds: number; rssBytes: number }
export interface TreeSample { atMs: number; pids: number[]; cpuSeconds: number; rssBytes: number; parts: Record<string, PartSample> }

/** One look at `root` and all its descendants now (empty when root is gone). */
export function sampleTree(root: number): TreeSample {
  const all: Stat[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = readStat(Number(e));
    if (s) all.push(s);
  }
  const children = new Map<number, Stat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const tree: Stat[] = [];
  const rootStat = all.find((s) => s.pid === root);
  for (const queue = rootStat ? [rootStat] : []; queue.length;) {
    const s = queue.pop()!;
    tree.push(s);
    queue.push(...(children.get(s.pid) ?? []));
  }
  const parts: Record<string, PartSample> = {};
  for (const s of tree) {
    const p = (parts[partOf(s.pid)] ??= { cpuSeconds: 0, rssBytes: 0 });
    p.cpuSeconds += s.ticks / CLK_TCK;
    p.rssBytes += s.rssBytes;
  }
  return {
    atMs: Date.now(), pids: tree.map((s) => s.pid).sort((a, b) => a - b), parts,
    cpuSeconds: tree.reduce((a, s) => a + s.ticks, 0) / CLK_TCK, rssBytes: tree.reduce((a, s) => a + s.rssBytes, 0),
  };
}

/** CPU % of one core over the interval between two samples of the same tree. */
export function cpuPercent(a: TreeSample, b: TreeSample): number {
  const s = (b.atMs - a.atMs) / 1000;
  return s > 0 ? (100 * (b.cpuSeconds - a.cpuSeconds)) / s : NaN;
}

/** CPU seconds each part used between two samples of the same tree (a restarted part counts from zero). */
export function partCpuSeconds(a: TreeSample, b: TreeSample): Record<string, number> {
  return Object.fromEntries(Object.entries(b.parts).map(([k, v]) => [k, Math.max(0, v.cpuSeconds - (a.parts[k]?.cpuSeconds ?? 0))]));
}
