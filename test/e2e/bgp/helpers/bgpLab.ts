/**
 * A `--routing bgp` lab for end-to-end tests: nodes running `podnetd agent` with the bgp backend, pods made by the
 * lab kubelet, what each node's kernel learned (routes with podnet's BGP proto 159), podnetd restarts, and the
 * external BGP daemons a test starts in the fabric namespace — the host that owns 198.18.0.1 / fd00:198:18::1 on
 * br0, every node's gateway, which is where a rack's top-of-rack router (or an external route reflector) sits.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from '../../../../src/common/systemTools.ts';
import { createLab, type Lab } from '../../../../src/lab/lab.ts';
import { agentProcess, startControlPlane, type ControlPlaneOptions } from '../../../../src/lab/labControlPlane.ts';
import { openStore } from '../../../../src/store/openStore.ts';
import { LAB_BGP_ASN, nodeFiles } from '../../../../src/lab/labNodeFiles.ts';
import { isRunning, podnetctlCommand, podnetdCommand } from '../../../../src/lab/labProcesses.ts';
import type { BgpPeerStatus, BgpStatusDocument } from '../../../../src/bgp/bgpStatus.ts';
import type { Store } from '../../../../src/store/store.ts';
import type { BFDProfile, BGPPeer, Pod } from '../../../../src/store/types.ts';
import { uniqueLabName } from '../../../helpers/labFixture.ts';
import { waitFor } from '../../../helpers/waitFor.ts';

export const CLUSTER_ASN = LAB_BGP_ASN;
/** The top-of-rack's AS (eBGP towards the cluster). */
export const TOR_ASN = 64500;
export const TOR_V4 = '198.18.0.1';
export const TOR_V6 = 'fd00:198:18::1';
/** podnet's proto number for BGP-learned kernel routes (src/bgp/kernelApplier.ts). */
export const BGP_PROTO = 159;

/** Lab waits: long (processes start under load), polled slowly (each probe execs a command in a namespace). */
export const labWait = <T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 90_000) =>
  waitFor(what, probe, ms, 200);

export interface BgpCluster { lab: Lab; store: Store }

/**
 * One lab shared by the serial tests of a file (built in `test.before`, where t.teardown would run at the end of
 * the hook): `cleanup` (for `test.after.always`) stops whatever `onCleanup` registered, then destroys the lab.
 */
export function sharedBgpCluster(nodes: number, bgp?: ControlPlaneOptions['bgp'], lab: { ipFamily?: 'dual' } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'podnet-lab-'));
  const cleanups: Array<() => unknown> = [];
  let cluster: BgpCluster | undefined;
  return {
    async start(): Promise<BgpCluster> {
      const l = await createLab({ name: uniqueLabName('bgp'), stateRoot: root, nodes, routing: 'bgp', ...lab });
      cleanups.push(() => l.destroy());
      // PODNET_TEST_KEEP_LOGS=DIR keeps the lab's logs (podnetd, peers) for a post-mortem; cleanup removes them.
      const keep = process.env.PODNET_TEST_KEEP_LOGS;
      if (keep) cleanups.push(() => cpSync(l.paths.logDir, join(keep, l.name), { recursive: true }));
      const cp = await startControlPlane(l, { bgp });
      const store = await openStore(cp.hostStore);
      cleanups.push(() => store.close());
      cluster = { lab: l, store };
      return cluster;
    },
    get(): BgpCluster {
      if (!cluster) throw new Error('the shared lab did not start (see the before hook)');
      return cluster;
    },
    onCleanup(fn: () => unknown): void { cleanups.push(fn); },
    async cleanup(): Promise<void> {
      for (const fn of cleanups.reverse()) {
        try { await fn(); } catch { /* keep cleaning */ }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function nodeState(lab: Lab, nodeId: string): { podCIDR: string; podCIDRs?: string[] } {
  return JSON.parse(readFileSync(nodeFiles(lab.paths, nodeId).nodeState, 'utf8')) as { podCIDR: string; podCIDRs?: string[] };
}

/** The (IPv4) pod CIDR podnetd leased for a node (its node.json). */
export function podCidrOf(lab: Lab, nodeId: string): string {
  return nodeState(lab, nodeId).podCIDR;
}

/** The underlay address of a node in the family of `prefix` (the next hop its routes carry). */
export function nodeAddressFor(lab: Lab, nodeId: string, prefix: string): string {
  const i = lab.host(nodeId).interfaces[0]!;
  return prefix.includes(':') ? i.address6 : i.address;
}

/** Every pod CIDR of a node (one per family on a dual-stack node). */
export function podCidrsOf(lab: Lab, nodeId: string): string[] {
  const s = nodeState(lab, nodeId);
  return s.podCIDRs?.length ? s.podCIDRs : [s.podCIDR];
}

export interface KernelRoute { dst: string; gateway?: string; dev?: string; nexthops?: Array<{ gateway: string }> }

/** Routes with proto 159 in a lab namespace, one family. */
export async function bgpKernelRoutes(lab: Lab, target: string, family: 4 | 6 = 4): Promise<KernelRoute[]> {
  const r = await lab.exec(target, ['ip', '-j', `-${family}`, 'route', 'show', 'proto', String(BGP_PROTO)], { allowFailure: true });
  return r.code === 0 && r.stdout.trim() ? JSON.parse(r.stdout) as KernelRoute[] : [];
}

/** Prefixes a node's kernel has from BGP, both families. */
export async function bgpKernelPrefixes(lab: Lab, target: string): Promise<Set<string>> {
  const routes = [...await bgpKernelRoutes(lab, target, 4), ...await bgpKernelRoutes(lab, target, 6)];
  return new Set(routes.map((r) => r.dst));
}

export async function vxlanLinks(lab: Lab, target: string): Promise<string[]> {
  const out = (await lab.exec(target, ['ip', '-j', 'link', 'show', 'type', 'vxlan'])).stdout.trim();
  return (out ? JSON.parse(out) as Array<{ ifname: string }> : []).map((l) => l.ifname);
}

function pod(name: string, nodeName: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'bgp' } },
    spec: { nodeName, containers: [{ name: 'c' }] } };
}

/** A pod: its primary (IPv4) address, and every address (IPv6 too on a dual-stack lab). */
export interface RunningPod { name: string; node: string; ip: string; ips: string[] }

/** One test-server pod per node (`p-n1`, ...), Running with an address. */
export async function podPerNode(lab: Lab, store: Store): Promise<RunningPod[]> {
  for (const n of lab.nodes) await store.create(pod(`p-${n.id}`, n.id));
  const pods: RunningPod[] = [];
  for (const n of lab.nodes) {
    const p = await labWait(`pod p-${n.id} Running`, async () => {
      const got = await store.get('Pod', `p-${n.id}`, 'default');
      return got?.status?.phase === 'Running' && got.status.podIP ? got : undefined;
    });
    pods.push({ name: p.metadata.name, node: n.id, ip: p.status!.podIP!, ips: (p.status!.podIPs ?? []).map((x) => x.ip) });
  }
  return pods;
}

/** Every pod fetches every other pod's /hostname over HTTP (TCP) and pings each of its addresses; failures as `a→b`. */
export async function podMatrixFailures(lab: Lab, pods: RunningPod[]): Promise<string[]> {
  const failures: string[] = [];
  for (const a of pods) {
    for (const b of pods) {
      if (a === b) continue;
      const http = await lab.exec(a.name, ['curl', '-s', '-m', '3', `http://${b.ip}:8080/hostname`], { allowFailure: true });
      if (http.stdout.trim() !== b.name) failures.push(`${a.name}→${b.name} (tcp ${b.ip})`);
      for (const ip of b.ips.length ? b.ips : [b.ip]) {
        const ping = await lab.exec(a.name, ['ping', '-c1', '-W2', ip], { allowFailure: true });
        if (ping.code !== 0) failures.push(`${a.name}→${b.name} (icmp ${ip})`);
      }
    }
  }
  return failures;
}

/** Wait until every pod reaches every other one; the failure message lists the pairs still failing. */
export async function waitPodsReachEachOther(lab: Lab, pods: RunningPod[]): Promise<void> {
  let last: string[] = [];
  await labWait('pods on different nodes reaching each other', async () => {
    last = await podMatrixFailures(lab, pods);
    return last.length === 0;
  }, 90_000).catch((err: Error) => { throw new Error(`${err.message}; still failing: ${last.join(', ')}`); });
}

/** The MetalLB objects declaring the top-of-rack as every node's external peer, with a BFD profile. */
export async function applyTorPeer(store: Store, opts: { bfdIntervalMs?: number } = {}): Promise<void> {
  const ns = 'metallb-system';
  if (opts.bfdIntervalMs) {
    const profile: BFDProfile = { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'tor', namespace: ns },
      spec: { receiveInterval: opts.bfdIntervalMs, transmitInterval: opts.bfdIntervalMs, detectMultiplier: 3 } };
    await store.create(profile);
  }
  const peer: BGPPeer = { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'tor', namespace: ns },
    spec: { myASN: CLUSTER_ASN, peerASN: TOR_ASN, peerAddress: TOR_V4, holdTime: '9s', enableGracefulRestart: true,
      ...(opts.bfdIntervalMs ? { bfdProfile: 'tor' } : {}) } };
  await store.create(peer);
}

/** Run `podnetctl ARGS` inside a lab namespace (the status API listens on the node's loopback). */
export async function podnetctlIn(lab: Lab, target: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const ctl = podnetctlCommand();
  return lab.exec(target, [...ctl.argv, ...args], { allowFailure: true, timeoutMs: 60_000 });
}

/** `podnetctl bgp status -o json` on a node: its peers (the document podnetd's status API serves), or [] if none answers. */
export async function bgpStatus(lab: Lab, nodeId: string): Promise<BgpPeerStatus[]> {
  const r = await podnetctlIn(lab, nodeId, ['bgp', 'status', '-o', 'json']);
  if (r.code !== 0) return [];
  return (JSON.parse(r.stdout) as BgpStatusDocument).peers;
}

/** Restart a node's podnetd: SIGTERM (waits for the exit) or SIGKILL, then the same command again. */
export async function restartPodnetd(lab: Lab, nodeId: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const rec = lab.processes().find((p) => p.name === agentProcess(nodeId) && isRunning(p));
  if (!rec) throw new Error(`podnetd on ${nodeId} is not running`);
  process.kill(rec.pid, signal);
  await waitFor(`podnetd on ${nodeId} exited after ${signal}`, () => !isRunning(rec), 30_000, 20);
  await lab.spawn(nodeId, agentProcess(nodeId), rec.argv, { cwd: podnetdCommand().cwd });
}

/**
 * Time a route's deletion in a node's kernel without polling: `ip monitor route` in the node's namespace, and
 * the moment (Date.now()) its `Deleted <prefix> ...` line arrives. Start it well before the event; stop() kills it.
 */
export function watchRouteDeleted(lab: Lab, nodeId: string, prefix: string): { deleted: Promise<number>; stop(): void } {
  const child = spawn(findTool('ip') ?? '/usr/sbin/ip', ['-n', lab.host(nodeId).ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const deleted = new Promise<number>((resolve) => {
    let buf = '';
    child.stdout.on('data', (b: Buffer) => {
      const now = Date.now();
      buf += b.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      if (parts.some((l) => l.startsWith(`Deleted ${prefix} `))) resolve(now);
    });
  });
  return { deleted, stop: () => { if (child.exitCode === null) child.kill('SIGKILL'); } };
}
