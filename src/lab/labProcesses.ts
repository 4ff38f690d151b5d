/**
 * @module lab/labProcesses — processes the lab runs inside its namespaces (etcd, podnetd per node, the lab kubelets,
 * pods' containers, `lab serve`), started detached so they outlive `podnetctl lab up`, and stopped only when the
 * PID still belongs to the process we started (same start time), never by name.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
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
  for (const r of ours) if (isRunning(r)) signal(r.pid, 'SIGKILL');
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
    return { argv: [process.execPath, '--import=tsx', join(repo, 'cmd', exe, 'main.ts')], cwd: repo };
  }
  return { argv: [join(HERE, exe)], cwd: HERE };
}
