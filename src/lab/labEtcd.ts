/**
 * @module lab/labEtcd — the lab's etcd for `lab up --store etcd`: one Debian `etcd` member, a lab process like
 * any other (recorded in the state, stopped by `lab down`), data under `<labdir>/etcd`.
 *
 * Where it runs: in the namespace that owns the underlay gateway 198.18.0.1 — the fabric namespace (flat
 * topologies, where br0 carries .1) or the router (cross-subnet) — listening on 198.18.0.1:2379, an address
 * every node and the client already reach over the underlay with the routes the lab gives them (so podnetd and
 * the kubelets talk to etcd over the network, as on a real cluster), and on that namespace's own 127.0.0.1:2379.
 * The peer port is on loopback only (a single member has no peers). Fixed ports are safe: the namespace is the
 * lab's alone, so two labs never compete for 2379.
 *
 * The host (podnetctl, tests) reaches it through a unix socket, `<labdir>/etcd/client.sock:0` (etcd wants
 * `host:port` even for unix URLs and creates the socket under that name in its working directory): a socket
 * file is reachable from every network namespace, so nothing in the root namespace is touched and no process
 * there sends a packet to the lab's addresses (which the root namespace would route to the real network).
 *
 * Rejected: etcd in the root namespace on 127.0.0.1 (node namespaces cannot reach the root namespace's
 * loopback; bridging them needs a link or route there); a second underlay address for etcd (one more thing in
 * the address plan for no gain); the unix socket for the nodes too (true, but then nothing in the lab would
 * exercise the etcd backend over TCP).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PodnetError } from '../common/errors.ts';
import { requireTool } from '../common/systemTools.ts';
import type { LabPlan } from './addressPlan.ts';
import type { Lab } from './lab.ts';

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const ETCD_PROCESS = 'etcd';

export class LabEtcdError extends PodnetError {
  constructor(lab: string, why: string) {
    super('PODNET_LAB_ETCD', `lab ${lab}: etcd: ${why}`);
  }
}

/** Host id of the namespace holding the gateway address (where etcd runs). */
export function etcdHost(plan: LabPlan): string {
  return plan.options.routing === 'cross-subnet' ? 'router' : 'fabric';
}

/** The store spec every lab process uses for the lab's etcd. */
export function etcdStoreSpec(plan: LabPlan): string {
  return `etcd:http://${plan.segments[0]!.gateway}:${ETCD_CLIENT_PORT}`;
}

/** Name of the unix socket in the etcd directory (etcd's `unix://host:port` form, relative to its cwd). */
export const ETCD_SOCKET = 'client.sock:0';

/** The store spec for the host side (podnetctl, tests): the unix socket. */
export function etcdHostStoreSpec(etcdDir: string): string {
  return `etcd:unix://${join(etcdDir, ETCD_SOCKET)}`;
}

/** The etcd command line; it must run with `etcdDir` as its working directory (the unix socket is made there). */
export function etcdArgv(plan: LabPlan, etcdDir: string): string[] {
  const dataDir = join(etcdDir, 'data');
  const gw = plan.segments[0]!.gateway;
  const peer = `http://127.0.0.1:${ETCD_PEER_PORT}`;
  return [requireTool('etcd', 'etcd-server'), '--name', plan.options.name, '--data-dir', dataDir,
    '--listen-client-urls', `http://${gw}:${ETCD_CLIENT_PORT},http://127.0.0.1:${ETCD_CLIENT_PORT},unix://${ETCD_SOCKET}`,
    '--advertise-client-urls', `http://${gw}:${ETCD_CLIENT_PORT}`,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `${plan.options.name}=${peer}`, '--initial-cluster-state', 'new',
    '--logger', 'zap', '--log-outputs', 'stderr'];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LabEtcdSpecs {
  /** For the lab's processes (over the underlay). */
  store: string;
  /** For the host (unix socket). */
  hostStore: string;
}

/** Start the lab's etcd and wait (up to `timeoutMs`) until it answers. */
export async function startLabEtcd(lab: Lab, timeoutMs = 20_000): Promise<LabEtcdSpecs> {
  const etcdDir = join(lab.paths.dir, 'etcd');
  mkdirSync(etcdDir, { recursive: true, mode: 0o700 });
  const host = etcdHost(lab.plan);
  await lab.spawn(host, ETCD_PROCESS, etcdArgv(lab.plan, etcdDir), { cwd: etcdDir });
  const etcdctl = requireTool('etcdctl', 'etcd-client');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await lab.exec(host, [etcdctl, '--endpoints', `http://127.0.0.1:${ETCD_CLIENT_PORT}`,
      '--command-timeout=1s', 'endpoint', 'health'], { allowFailure: true, env: { ...process.env, ETCDCTL_API: '3' } });
    if (r.code === 0) return { store: etcdStoreSpec(lab.plan), hostStore: etcdHostStoreSpec(etcdDir) };
    last = (r.stderr || r.stdout).trim().split('\n').pop() ?? '';
    if (!lab.processes().some((p) => p.name === ETCD_PROCESS)) break;
    await sleep(200);
  }
  throw new LabEtcdError(lab.name, `not healthy after ${timeoutMs / 1000} s (${last}); see ${join(lab.paths.logDir, `${ETCD_PROCESS}.log`)}`);
}
