/**
 * @module lb/announcePlanner — from a snapshot of the cluster (LoadBalancer services with their allocated
 * addresses, EndpointSlices, Nodes, alive speakers, compiled config) to the full announcement table: for every
 * LB IP the elected node, the services behind it, the interfaces, or the reason nobody announces it. Each node
 * takes its own rows (`mine`); `podnetctl lb status` prints all of them. Pure.
 */
import type { EndpointSlice, Node, Service } from '../store/types.ts';
import { objectKey } from '../store/types.ts';
import { ingressIps } from './allocationStatus.ts';
import { electedNode, interfacesFor, nodeEligibility, type ElectionInput, type ElectionNode } from './election.ts';
import { tryParseIp } from '../common/ipAddress.ts';
import { rangeContains } from './ipRange.ts';
import type { AddressPool, LbConfig } from './pools.ts';
import { wantsLoadBalancer } from './serviceRequest.ts';

const HOSTNAME_LABEL = 'kubernetes.io/hostname';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface AnnounceSnapshot {
  services: readonly Service[];
  slices: readonly EndpointSlice[];
  nodes: readonly Node[];
  alive: ReadonlySet<string>;
  config: LbConfig;
}

export interface PlannedIp {
  ip: string;
  services: string[];
  pool: string | undefined;
  /** The announcing node, or undefined with `reason` saying why nobody announces. */
  node: string | undefined;
  reason: string;
  /** Interfaces the node answers on; undefined = all eligible ones. */
  interfaces: string[] | undefined;
}

export function electionNodes(nodes: readonly Node[], alive: ReadonlySet<string>): ElectionNode[] {
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const names = new Set([...byName.keys(), ...alive]);
  return [...names].sort().map((name) => ({
    name, alive: alive.has(name), labels: { [HOSTNAME_LABEL]: name, ...(byName.get(name)?.metadata.labels ?? {}) },
  }));
}

function readyEndpointNodes(svc: Service, slices: readonly EndpointSlice[]): Set<string> {
  const out = new Set<string>();
  for (const s of slices) {
    if (s.metadata.namespace !== svc.metadata.namespace || s.metadata.labels?.[SERVICE_NAME_LABEL] !== svc.metadata.name) continue;
    for (const e of s.endpoints ?? []) if (e.nodeName && e.conditions?.ready !== false) out.add(e.nodeName);
  }
  return out;
}

function poolFor(config: LbConfig, ip: string): AddressPool | undefined {
  const v = tryParseIp(ip);
  return v ? config.pools.find((p) => p.ranges.some((r) => rangeContains(r, v))) : undefined;
}

export function planAnnouncements(snap: AnnounceSnapshot): PlannedIp[] {
  const nodes = electionNodes(snap.nodes, snap.alive);
  const byIp = new Map<string, Service[]>();
  for (const svc of snap.services) {
    if (!wantsLoadBalancer(svc)) continue;
    for (const ip of ingressIps(svc)) byIp.set(ip, [...(byIp.get(ip) ?? []), svc]);
  }
  const out: PlannedIp[] = [];
  for (const [ip, svcs] of [...byIp].sort(([a], [b]) => a.localeCompare(b))) {
    const services = svcs.map(objectKey).sort();
    const pool = poolFor(snap.config, ip);
    if (!pool) { out.push({ ip, services, pool: undefined, node: undefined, reason: 'notInAnyPool', interfaces: undefined }); continue; }
    // Services sharing an IP with ETP=Local select the same pods (the allocator enforces it): the first decides.
    const local = svcs.find((s) => s.spec.externalTrafficPolicy === 'Local');
    const input: ElectionInput = {
      ip, pool, advertisements: snap.config.advertisements, nodes,
      localEndpointNodes: local ? readyEndpointNodes(local, snap.slices) : undefined,
    };
    const node = electedNode(input);
    const chosen = nodes.find((n) => n.name === node);
    const reason = node ? '' : nodes.map((n) => nodeEligibility(input, n)).find((r) => r) ?? 'noEligibleNode';
    out.push({ ip, services, pool: pool.name, node, reason, interfaces: chosen ? interfacesFor(input, chosen) : undefined });
  }
  return out;
}
