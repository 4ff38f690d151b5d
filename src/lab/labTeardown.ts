/**
 * @module lab/labTeardown — `lab down`: remove every process, namespace and file of a lab, whatever state it is in.
 *
 * It trusts the kernel over the state file: the namespaces removed are those whose names carry the lab's prefix
 * (the state may be missing, stale or half-written after an interrupted `lab up`), and the processes stopped are
 * the recorded ones still alive plus every process living inside one of those namespaces. Deleting a namespace
 * deletes its veths, so the other ends in the fabric go with them. Running it twice is harmless.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../common/errors.ts';
import { ETC_NETNS } from './kubeletSandbox.ts';
import { IprouteWiring } from './iprouteWiring.ts';
import { isLabNamespace } from './labNames.ts';
import { recordOfPid, stopProcesses } from './labProcesses.ts';
import { labPaths, readLabState, removeLabDir, type LabProcessRecord } from './labState.ts';
import type { LabWiring } from './labWiring.ts';

export interface TeardownReport {
  namespaces: string[];
  processes: number;
  /** Set when the state file could not be read (it is removed anyway). */
  stateProblem?: string;
}

export interface TeardownOptions {
  stateRoot?: string;
  wiring?: LabWiring;
}

export async function destroyLab(name: string, opts: TeardownOptions = {}): Promise<TeardownReport> {
  const paths = labPaths(name, opts.stateRoot);
  const wiring = opts.wiring ?? new IprouteWiring(name);
  const report: TeardownReport = { namespaces: [], processes: 0 };
  let recorded: LabProcessRecord[] = [];
  try {
    recorded = readLabState(paths)?.processes ?? [];
  } catch (err) {
    report.stateProblem = describeError(err);
  }
  const present = (await wiring.listNamespaces()).filter((ns) => isLabNamespace(name, ns)).sort();
  const inside = (await Promise.all(present.map((ns) => wiring.pidsIn(ns)))).flat();
  const byPid = new Map<number, Pick<LabProcessRecord, 'pid' | 'startTime'>>();
  for (const r of recorded) byPid.set(r.pid, r);
  for (const pid of inside) {
    const r = pid !== process.pid ? recordOfPid(pid) : null;
    if (r && !byPid.has(pid)) byPid.set(pid, r);
  }
  report.processes = await stopProcesses([...byPid.values()]);
  await wiring.deleteNamespaces(present);
  report.namespaces = present;
  removeEtcNetns(name);
  removeLabDir(paths);
  return report;
}

/** The pods' `/etc/netns/<lab>-pod-*` directories (resolv.conf), should a kubelet have died before removing them. */
function removeEtcNetns(name: string, dir = ETC_NETNS): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) if (isLabNamespace(name, e)) rmSync(join(dir, e), { recursive: true, force: true });
}
