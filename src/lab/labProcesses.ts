/**
 * @module lab/labProcesses — processes the lab runs inside its namespaces (etcd, podnetd per node, the lab kubelets,
 * pods' containers, `lab serve`), started detached so they outlive `podnetctl lab up`, and stopped only when the
 * PID still belongs to the process we started (same start time), never by name.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../common/systemTools.ts';
import type { LabProcessRecord } from './labState.ts';

/** Start time (clock ticks since boot) and state letter of a PID, or null when it does not exist. */
function procStat(pid: number): { startTime: string; state: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startTime: fields[19]! };
}

export function isRunning(rec: Pick<LabProcessRecord, 'pid' | 'startTime'>): boolean {
  const st = procStat(rec.pid);
  return st !== null && st.startTime === rec.startTime && st.state !== 'Z' && st.state !== 'X';
}

export interface StartOptions {
  name: string;
  ns: string;
  argv: string[];
  log: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Enter only the network namespace (`nsenter --net`), keeping the machine's mount namespace. For processes that
   * create namespaces themselves (the lab kubelet): `ip netns exec` gives its command a private mount namespace
   * whose mounts never reach the machine's, so a namespace made from there (`ip netns add`) would be visible to
   * that process alone.
   */
  netOnly?: boolean;
}

/** Start `argv` inside `ns` (already guarded by the caller), detached, output appended to `log`. */
export async function startInNamespace(o: StartOptions): Promise<LabProcessRecord> {
  const enter = o.netOnly
    ? [requireTool('nsenter', 'util-linux'), `--net=/run/netns/${o.ns}`, '--']
    : [requireTool('ip', 'iproute2'), 'netns', 'exec', o.ns];
  const fd = openSync(o.log, 'a');
  try {
    // `ip netns exec` and `nsenter` exec the command in place, so the PID we get is the command's own.
    const child = spawn(enter[0]!, [...enter.slice(1), ...o.argv], {
      detached: true, stdio: ['ignore', fd, fd], env: o.env ?? process.env, cwd: o.cwd,
    });
    await new Promise<void>((res, rej) => {
      child.once('spawn', () => res());
      child.once('error', rej);
    });
    child.unref();
    const pid = child.pid!;
    const st = procStat(pid);
    return { name: o.name, ns: o.ns, pid, startTime: st?.startTime ?? '', argv: o.argv, log: o.log };
  } finally {
    closeSync(fd);
  }
}

/** Whether `pid` leads its own process group (field 5 of /proc/PID/stat is the group id). */
function isGroupLeader(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]) === pid;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM, then SIGKILL after `graceMs`. `pids` are either checked records or PIDs found inside a lab namespace
 * (`ip netns pids`), which belong to the lab by where they live.
 */
export async function stopProcesses(recs: ReadonlyArray<Pick<LabProcessRecord, 'pid' | 'startTime'>>,
  graceMs = 2000): Promise<number> {
  const ours = recs.filter(isRunning);
  for (const r of ours) signal(r.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (ours.some(isRunning) && Date.now() < deadline) await sleep(50);
  // Processes the lab started are detached, each the leader of its own process group: SIGKILL the group, so a
  // podnetd agent's part children (forked into its group) go with it instead of outliving it.
  for (const r of ours) if (isRunning(r)) signal(isGroupLeader(r.pid) ? -r.pid : r.pid, 'SIGKILL');
  return ours.length;
}

/** A record for a PID found in a namespace (so it goes through the same start-time check as recorded ones). */
export function recordOfPid(pid: number): Pick<LabProcessRecord, 'pid' | 'startTime'> | null {
  const st = procStat(pid);
  return st ? { pid, startTime: st.startTime } : null;
}

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * How to run podnetctl from inside a namespace — the same code as the caller: from the sources through tsx when
 * this module runs from source (tests, development; cwd = the repository so `--import=tsx` resolves), else the
 * launcher next to the bundle this module was built into (bin/podnetctl).
 */
export function podnetctlCommand(): { argv: string[]; cwd: string } {
  return commandFor('podnetctl');
}

/** How to run podnetd, the same way as podnetctl (sources through tsx, or the launcher beside the bundle). */
export function podnetdCommand(): { argv: string[]; cwd: string } {
  return commandFor('podnetd');
}

function commandFor(exe: 'podnetctl' | 'podnetd'): { argv: string[]; cwd: string } {
  if (import.meta.url.endsWith('.ts')) {
    const repo = resolve(HERE, '..', '..');
    if (process.env.PODNET_LAB_FROM_SOURCE !== '1' && shippedIsCurrent(repo)) return { argv: [join(repo, 'bin', exe)], cwd: join(repo, 'bin') };
    return { argv: [process.execPath, '--import=tsx', join(repo, 'cmd', exe, 'main.ts')], cwd: repo };
  }
  return { argv: [join(HERE, exe)], cwd: HERE };
}

let shippedCurrent: boolean | undefined;

/**
 * From a checkout, the lab runs the shipped bundles in bin/ (what users install; and a node's agent is eight
 * processes, each of which pays tsx's start-up from source) whenever they were built after the last change to
 * src/ and cmd/; stale or missing bundles fall back to the sources, so an edit is never tested through an old
 * bundle. PODNET_LAB_FROM_SOURCE=1 forces the sources.
 */
function shippedIsCurrent(repo: string): boolean {
  if (shippedCurrent !== undefined) return shippedCurrent;
  const built = ['podnetd', 'podnetctl'].map((e) => mtimeOf(join(repo, 'bin', `${e}.mjs`)));
  const oldestBundle = Math.min(...built);
  shippedCurrent = Number.isFinite(oldestBundle) && oldestBundle > 0 && newestUnder(join(repo, 'src')) <= oldestBundle && newestUnder(join(repo, 'cmd')) <= oldestBundle;
  return shippedCurrent;
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestUnder(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestUnder(p) : mtimeOf(p));
  }
  return newest;
}
