/**
 * A small cluster for the routing tests: a lab underlay (3 node namespaces on a bridge, or two subnets joined by
 * a router), one "pod" namespace per node (veth to the node, pod address .10 of the node's /24, node side .1),
 * one shared in-memory store with a Node object per node, and the routing agent (planner + applier) running
 * in-process for each node namespace. Everything is removed in teardown, also when the test fails.
 */
import type { ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { primaryAddress } from '../../../../src/lab/addressPlan.ts';
import type { Lab, LabHost } from '../../../../src/lab/lab.ts';
import { RouteAgent, type RouteAgentOptions } from '../../../../src/routing/routeAgent.ts';
import type { BackendName } from '../../../../src/routing/routingModel.ts';
import { createLogger } from '../../../../src/common/logger.ts';
import { MemoryStore } from '../../../../src/store/memoryStore.ts';
import type { Node } from '../../../../src/store/types.ts';
import { startLab } from '../../../helpers/labFixture.ts';
import { ip } from '../../../helpers/netnsFixture.ts';

export interface Pod { node: string; ns: string; ip: string }

export interface RoutingCluster {
  lab: Lab;
  store: MemoryStore;
  agents: Map<string, RouteAgent>;
  pods: Map<string, Pod>;
  stateDir: string;
  options: (host: LabHost) => RouteAgentOptions;
}

export const podCidrOf = (i: number) => `10.244.${i}.0/24`;

export function nodeObject(host: LabHost, i: number, extra: Partial<Node['metadata']> = {}): Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name: host.id, ...extra },
    spec: { podCIDR: podCidrOf(i), podCIDRs: [podCidrOf(i)] },
    status: { addresses: [{ type: 'InternalIP', address: primaryAddress(host) }] },
  };
}

/** A pod namespace wired to its node: pod eth0 10.244.i.10/24 → node pod0 10.244.i.1. */
export function addPod(lab: Lab, host: LabHost, i: number): Pod {
  const ns = `${lab.name}-pod-${host.id}`;
  ip(['netns', 'add', ns]);
  ip(['-n', host.ns, 'link', 'add', 'pod0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  ip(['-n', host.ns, 'addr', 'add', `10.244.${i}.1/24`, 'dev', 'pod0']);
  ip(['-n', host.ns, 'link', 'set', 'pod0', 'up']);
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  ip(['-n', ns, 'addr', 'add', `10.244.${i}.10/24`, 'dev', 'eth0']);
  ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  ip(['-n', ns, 'route', 'add', 'default', 'via', `10.244.${i}.1`]);
  return { node: host.id, ns, ip: `10.244.${i}.10` };
}

export interface ClusterOptions {
  backend: BackendName;
  topology?: 'vxlan' | 'cross-subnet';
  nodes?: number;
  vni?: number;
}

export async function startRoutingCluster(t: ExecutionContext, o: ClusterOptions): Promise<RoutingCluster> {
  const lab = await startLab(t, { nodes: o.nodes ?? 3, routing: o.topology ?? 'vxlan' });
  const stateDir = mkdtempSync(join(tmpdir(), 'podnet-routing-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const store = new MemoryStore();
  const agents = new Map<string, RouteAgent>();
  const pods = new Map<string, Pod>();
  t.teardown(() => { for (const a of agents.values()) a.stop(); });
  const options = (host: LabHost): RouteAgentOptions => ({
    store, nodeName: host.id, settings: { backend: o.backend, vni: o.vni ?? 1, port: 8472 },
    clusterCidrs: ['10.244.0.0/16'], netns: host.ns, masquerade: true,
    nodeStateFile: join(stateDir, host.id, 'node.json'), resyncMs: 2000,
    ...(process.env.PODNET_TEST_LOG ? { logger: createLogger({ name: `route-${host.id}`, level: 'debug', pretty: false }) } : {}),
  });
  lab.nodes.forEach((host, k) => pods.set(host.id, addPod(lab, host, k + 1)));
  for (const [k, host] of lab.nodes.entries()) await store.create(nodeObject(host, k + 1));
  for (const host of lab.nodes) agents.set(host.id, await RouteAgent.start(options(host)));
  await settleAll(agents);
  return { lab, store, agents, pods, stateDir, options };
}

export async function settleAll(agents: Map<string, RouteAgent>): Promise<void> {
  // Publishing identities triggers more passes on every node: settle until a round changes nothing.
  for (let i = 0; i < 5; i++) {
    await Promise.all([...agents.values()].map((a) => a.settled()));
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `ping` from one namespace; true when a reply came. */
export async function pings(lab: Lab, fromNs: string, to: string, extra: string[] = []): Promise<boolean> {
  const r = await lab.exec(fromNs, ['ping', '-c1', '-W1', ...extra, to], { allowFailure: true });
  return r.code === 0;
}

/** Every pod pings every other pod; the pairs that failed. */
export async function podMatrixFailures(c: Pick<RoutingCluster, 'lab' | 'pods'>): Promise<string[]> {
  const failed: string[] = [];
  for (const a of c.pods.values()) {
    for (const b of c.pods.values()) {
      if (a !== b && !(await pings(c.lab, a.ns, b.ip))) failed.push(`${a.node}→${b.node}`);
    }
  }
  return failed;
}

/** Poll until `check` holds (bounded); returns the milliseconds it took, or -1 on timeout. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 5): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return -1;
}
