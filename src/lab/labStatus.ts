/**
 * @module lab/labStatus — `lab status`: what the state says the lab has, checked against the kernel (namespace
 * present, underlay address on eth0) and /proc (recorded process still alive). Works without a state file too
 * (an interrupted `lab up`): it then lists the namespaces that carry the lab's prefix.
 */
import { describeError } from '../common/errors.ts';
import { planLab, type LabOptions } from './addressPlan.ts';
import { IprouteWiring } from './iprouteWiring.ts';
import { isLabNamespace } from './labNames.ts';
import { isRunning } from './labProcesses.ts';
import { labPaths, readLabState } from './labState.ts';
import type { LabWiring } from './labWiring.ts';
import { readPodRecords } from './kubeletSandbox.ts';
import { nodeFiles } from './labNodeFiles.ts';

export interface NamespaceStatus {
  id: string;
  ns: string;
  role: 'fabric' | 'node' | 'client' | 'router';
  present: boolean;
  /** Planned underlay addresses (`a.b.c.d/24`), and those missing from the kernel. */
  addresses: string[];
  missingAddresses: string[];
}

export interface ProcessStatus {
  name: string;
  ns: string;
  pid: number;
  alive: boolean;
}

/** A pod the lab kubelets run (from their records): where, its addresses, whether its namespace and processes are there. */
export interface PodStatusLine {
  pod: string;
  node: string;
  ns: string;
  ips: string[];
  present: boolean;
  alive: boolean;
}

export interface LabStatus {
  name: string;
  dir: string;
  phase: 'creating' | 'up' | 'no state';
  stateProblem?: string;
  options?: LabOptions;
  namespaces: NamespaceStatus[];
  /** Namespaces with the lab's prefix that the plan does not name (pods, leftovers). */
  otherNamespaces: string[];
  processes: ProcessStatus[];
  /** Pods run by the lab kubelets; not part of `healthy` (a pod whose command ends is the pod's business). */
  pods: PodStatusLine[];
  healthy: boolean;
}

export async function collectStatus(name: string, opts: { stateRoot?: string; wiring?: LabWiring } = {}): Promise<LabStatus> {
  const paths = labPaths(name, opts.stateRoot);
  const wiring = opts.wiring ?? new IprouteWiring(name);
  const status: LabStatus = { name, dir: paths.dir, phase: 'no state', namespaces: [], otherNamespaces: [],
    processes: [], pods: [], healthy: false };
  let state = null;
  try {
    state = readLabState(paths);
  } catch (err) {
    status.stateProblem = describeError(err);
  }
  const present = (await wiring.listNamespaces()).filter((ns) => isLabNamespace(name, ns));
  if (state) {
    status.phase = state.phase;
    status.options = state.options;
    const plan = planLab(state.options);
    status.namespaces.push({ id: 'fabric', ns: plan.fabricNs, role: 'fabric', present: present.includes(plan.fabricNs),
      addresses: [], missingAddresses: [] });
    for (const h of plan.hosts) {
      const isPresent = present.includes(h.ns);
      const addresses = h.interfaces.flatMap((i) => [`${i.address}/${i.prefixLen}`, `${i.address6}/${i.prefixLen6}`]);
      const actual = isPresent
        ? (await Promise.all(h.interfaces.map((i) => wiring.addressesOf(h.ns, i.dev)))).flat() : [];
      status.namespaces.push({ id: h.id, ns: h.ns, role: h.role, present: isPresent, addresses,
        missingAddresses: addresses.filter((a) => !actual.includes(a)) });
    }
    status.processes = state.processes.map((p) => ({ name: p.name, ns: p.ns, pid: p.pid, alive: isRunning(p) }));
    status.pods = plan.hosts.filter((h) => h.role === 'node').flatMap((h) => readPodRecords(nodeFiles(paths, h.id).kubeletDir)
      .map((r) => ({ pod: r.key, node: h.id, ns: r.netns, ips: r.podIPs, present: present.includes(r.netns),
        alive: r.processes.length > 0 && r.processes.every(isRunning) })));
  }
  const planned = new Set([...status.namespaces.map((n) => n.ns), ...status.pods.map((p) => p.ns)]);
  status.otherNamespaces = present.filter((ns) => !planned.has(ns));
  status.healthy = status.phase === 'up' && status.namespaces.every((n) => n.present && n.missingAddresses.length === 0) &&
    status.processes.every((p) => p.alive);
  return status;
}

export function formatStatus(s: LabStatus): string {
  const lines: string[] = [];
  const opts = s.options ? `, ${s.options.nodes} nodes, routing ${s.options.routing}, store ${s.options.store}` : '';
  lines.push(`lab ${s.name}: ${s.phase}${opts} (state ${s.dir})${s.healthy ? '' : ' — DEGRADED'}`);
  if (s.stateProblem) lines.push(`  state: ${s.stateProblem}`);
  if (s.namespaces.length > 0) {
    // Every host has an IPv4 and an IPv6 underlay address (the router two of each): size the column to fit.
    const width = Math.max(18, ...s.namespaces.map((n) => n.addresses.join(' ').length + 2));
    lines.push(`  ${'NAME'.padEnd(8)}${'NAMESPACE'.padEnd(24)}${'ADDRESS'.padEnd(width)}STATE`);
    for (const n of s.namespaces) {
      const state = !n.present ? 'missing' : n.missingAddresses.length ? `address missing: ${n.missingAddresses.join(' ')}` : 'ok';
      lines.push(`  ${n.id.padEnd(8)}${n.ns.padEnd(24)}${(n.addresses.join(' ') || '-').padEnd(width)}${state}`);
    }
  }
  if (s.otherNamespaces.length > 0) lines.push(`  other namespaces: ${s.otherNamespaces.join(', ')}`);
  if (s.processes.length > 0) {
    lines.push(`  ${'PROCESS'.padEnd(16)}${'NAMESPACE'.padEnd(24)}${'PID'.padEnd(9)}STATE`);
    for (const p of s.processes) {
      lines.push(`  ${p.name.padEnd(16)}${p.ns.padEnd(24)}${String(p.pid).padEnd(9)}${p.alive ? 'running' : 'dead'}`);
    }
  } else if (s.phase !== 'no state') {
    lines.push('  processes: none');
  }
  if (s.pods.length > 0) {
    lines.push(`  ${'POD'.padEnd(24)}${'NODE'.padEnd(6)}${'IP'.padEnd(16)}STATE`);
    for (const p of s.pods) {
      const state = !p.present ? 'namespace missing' : p.alive ? 'running' : 'not running';
      lines.push(`  ${p.pod.padEnd(24)}${p.node.padEnd(6)}${(p.ips.join(' ') || '-').padEnd(16)}${state}`);
    }
  }
  return lines.join('\n');
}
