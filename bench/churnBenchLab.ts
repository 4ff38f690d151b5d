/**
 * The lab of one bench/churn round, driven only through the CLI (the shipped bin/podnetctl unless --from-sources):
 * `podnetctl lab up --routing bgp` (every node then runs the podnetd beside it: bin/podnetd agent), `lab exec`, `apply -f`, `lab down` — with the lab's state under the
 * bench's own state root (PODNET_LAB_DIR), so nothing of another lab is touched. Reads the lab's state file for
 * the store the host reaches and the podnetd process of each node.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabState } from '../src/lab/labState.ts';
import type { Pod } from '../src/store/types.ts';
import type { NodeRange } from './churnBenchManifests.ts';
import { ctl, onCleanup, run, sleep, start, type Started } from './churnBenchShell.ts';

export interface BenchLab {
  name: string;
  /** PODNET_LAB_DIR for every podnetctl call about this lab. */
  root: string;
  dir: string;
  /** The store as reached from this machine (file dir, or the lab etcd's unix socket). */
  hostStore: string;
  /** node id → podnetd's PID (the process lab up recorded) and its log. */
  agents: Map<string, { pid: number; log: string }>;
  nodes: string[];
  /** Shared with the cleanup step: once taken down at the end of its round, cleanup leaves it alone. */
  status: { down: boolean };
}

export function readState(root: string, name: string): LabState {
  return JSON.parse(readFileSync(join(root, name, 'state.json'), 'utf8')) as LabState;
}

export async function labUp(name: string, root: string, store: 'file' | 'etcd', scratch: string, limitMs: number): Promise<BenchLab> {
  const env = { PODNET_LAB_DIR: root };
  const status = { down: false };
  // Registered before `up`: an interrupted or failed up still leaves a state file for `down`.
  onCleanup(async () => { if (!status.down) await labDown(name, root, scratch); });
  const r = await run([...ctl(), 'lab', 'up', '--name', name, '--nodes', '3', '--routing', 'bgp', '--store', store],
    join(scratch, `lab-up-${name}.log`), limitMs, env);
  if (r.code !== 0) throw new Error(`lab up (${store}) failed (exit ${r.code}${r.timedOut ? ', time limit' : ''}):\n${r.out.trim().split('\n').slice(-8).join('\n')}`);
  const state = readState(root, name);
  if (!state.hostStore) throw new Error(`lab ${name}: no store in its state after up`);
  const agents = new Map<string, { pid: number; log: string }>();
  for (const p of state.processes) {
    const m = /^podnetd-(.+)$/.exec(p.name);
    if (m) agents.set(m[1]!, { pid: p.pid, log: p.log });
  }
  const nodes = state.hosts.filter((h) => h.role === 'node').map((h) => h.id);
  return { name, root, dir: join(root, name), hostStore: state.hostStore, agents, nodes, status };
}

/** Take a lab down now (at the end of its round), keeping its logs in `scratch`; the cleanup step then skips it. */
export async function takeDown(lab: BenchLab, scratch: string): Promise<void> {
  if (lab.status.down) return;
  lab.status.down = true;
  try { cpSync(join(lab.dir, 'logs'), join(scratch, `logs-${lab.name}`), { recursive: true }); } catch { /* nothing to keep */ }
  await labDown(lab.name, lab.root, scratch);
}

export async function labDown(name: string, root: string, scratch: string): Promise<void> {
  const r = await run([...ctl(), 'lab', 'down', '--name', name], join(scratch, `lab-down-${name}.log`), 120_000, { PODNET_LAB_DIR: root });
  if (r.code !== 0) process.stderr.write(`bench/churn: lab down ${name} exited ${r.code}: ${r.out.trim()}\n`);
}

/** `podnetctl lab exec --name LAB TARGET -- CMD...`, started (not awaited), output to `outFile`. */
export function labExec(lab: BenchLab, target: string, cmd: string[], outFile: string, limitMs: number): Started {
  return start([...ctl(), 'lab', 'exec', '--name', lab.name, target, '--', ...cmd], outFile, limitMs, { PODNET_LAB_DIR: lab.root });
}

/** `podnetctl apply --store S -f FILE`, bounded; `written` counts the objects it reported created or configured. */
export async function apply(lab: BenchLab, file: string, outFile: string, limitMs: number):
  Promise<{ code: number | null; timedOut: boolean; ms: number; written: number; failed: number }> {
  const r = await run([...ctl(), 'apply', '--store', lab.hostStore, '-f', file], outFile, limitMs, { PODNET_LAB_DIR: lab.root });
  const written = (r.out.match(/ (created|configured)$/gm) ?? []).length;
  const failed = (r.out.match(/^error/gm) ?? []).length;
  return { code: r.code, timedOut: r.timedOut, ms: r.ms, written, failed };
}

/** `podnetctl get pod NAME -o json` through the shipped CLI, or undefined when absent or unreadable. */
export async function getPod(lab: BenchLab, name: string, outFile: string): Promise<Pod | undefined> {
  const r = await run([...ctl(), 'get', 'pod', name, '-n', 'default', '-o', 'json', '--store', lab.hostStore], outFile, 30_000, { PODNET_LAB_DIR: lab.root });
  if (r.code !== 0) return undefined;
  try { return JSON.parse(r.out) as Pod; } catch { return undefined; }
}

/** Poll until every named pod is Running with an address (once a second, bounded); their addresses by name. */
export async function waitForPods(lab: BenchLab, names: string[], scratch: string, limitMs: number): Promise<Map<string, string>> {
  const deadline = Date.now() + limitMs;
  const ips = new Map<string, string>();
  for (let tick = 0; ; tick++) {
    for (const n of names) {
      if (ips.has(n)) continue;
      const p = await getPod(lab, n, join(scratch, `get-${lab.name}-${n}-${tick}.json`));
      if (p?.status?.phase === 'Running' && p.status.podIP) ips.set(n, p.status.podIP);
    }
    if (ips.size === names.length) return ips;
    if (Date.now() > deadline) throw new Error(`lab ${lab.name}: pods ${names.filter((n) => !ips.has(n)).join(', ')} not Running within ${limitMs / 1000} s`);
    await sleep(1000);
  }
}

/** Each node's pod CIDR, from the node state its podnetd wrote (what the CNI plugin reads). */
export function nodeRanges(lab: BenchLab): NodeRange[] {
  return lab.nodes.map((node) => {
    const s = JSON.parse(readFileSync(join(lab.dir, 'nodes', node, 'node.json'), 'utf8')) as { podCIDR?: string; podCidr?: string };
    const podCIDR = s.podCIDR ?? s.podCidr;
    if (!podCIDR) throw new Error(`lab ${lab.name}: node ${node} has no pod CIDR in its node.json`);
    return { node, podCIDR };
  });
}
