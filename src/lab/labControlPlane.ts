/**
 * @module lab/labControlPlane — after the underlay is up, start what a cluster's companions provide so podnet
 * runs unchanged (design §3): the store (file, or the lab's etcd) with the lab's L2 pool, the CNI binaries and each node's conflist,
 * `podnetd agent` in every node namespace, and a lab kubelet per node (n1's also schedules).
 *
 * Order matters and is waited on: a kubelet's first pod needs the node's pod CIDR in node.json, which the
 * agent writes after registering the Node and leasing the CIDR; so kubelets start only once every node.json
 * exists. Every process is a lab process (state + logs/), so `lab down` stops them whatever happened here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PodnetError } from '../common/errors.ts';
import { runTool } from '../common/systemTools.ts';
import { renderConflist } from '../cni/install/conflistTemplate.ts';
import { clusterCidrsOf } from './addressPlan.ts';
import type { Lab } from './lab.ts';
import { startLabEtcd } from './labEtcd.ts';
import { installNodeShims } from './labCniShim.ts';
import { agentConfigFor, agentRoutes, cniBinDir, nodeFiles } from './labNodeFiles.ts';
import { isRunning, podnetctlCommand, podnetdCommand } from './labProcesses.ts';
import { updateLabState } from './labState.ts';
import { openStore } from '../store/openStore.ts';
import { retryUpdate } from '../store/store.ts';

export interface ControlPlaneOptions {
  /** Start a lab kubelet per node (default true). */
  kubelets?: boolean;
  /** Wait this long for each node's podnetd to write node.json (default 60 s). */
  nodeTimeoutMs?: number;
  logLevel?: string;
  /** Fields merged into a node's agent `dns` section (upstreams, pods, ttl...): the same for all, or per node id. */
  dns?: Record<string, unknown> | ((nodeId: string) => Record<string, unknown>);
  /** `--routing bgp`: fields merged into a node's agent `bgp` section (mode, routeReflectors, bfd...), or per node id. */
  bgp?: Record<string, unknown> | ((nodeId: string) => Record<string, unknown>);
}

export interface ControlPlaneReport {
  /** The store the lab's processes use. */
  store: string;
  /** The same store as reached from the host (podnetctl, tests): differs for etcd (a unix socket). */
  hostStore: string;
  agents: string[];
  kubelets: string[];
  routing: boolean;
  /** Nodes whose pods are set up through podnetd's CNI hand-off (labCniShim.ts), and why none when empty. */
  handoff: { nodes: string[]; note?: string };
}

export class LabControlPlaneError extends PodnetError {
  constructor(lab: string, why: string) {
    super('PODNET_LAB_CONTROL_PLANE', `lab ${lab}: ${why}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const agentProcess = (node: string) => `podnetd-${node}`;
export const kubeletProcess = (node: string) => `kubelet-${node}`;

export async function startControlPlane(lab: Lab, opts: ControlPlaneOptions = {}): Promise<ControlPlaneReport> {
  const { store, hostStore } = lab.plan.options.store === 'etcd' ? await startLabEtcd(lab)
    : { store: `file:${lab.storeDir}`, hostStore: `file:${lab.storeDir}` };
  updateLabState(lab.paths, (s) => { s.store = store; s.hostStore = hostStore; });
  await createLbPool(lab, hostStore);
  await installCni(lab);
  const shims = await installNodeShims(lab);
  const report: ControlPlaneReport = { store, hostStore, agents: [], kubelets: [], routing: agentRoutes(lab.plan), handoff: shims };
  const podnetd = podnetdCommand();
  for (const host of lab.nodes) {
    const files = nodeFiles(lab.paths, host.id);
    mkdirSync(files.confDir, { recursive: true });
    writeFileSync(files.agentConfig, `${JSON.stringify(agentConfigFor(lab.plan, host, store, files,
      typeof opts.dns === 'function' ? opts.dns(host.id) : opts.dns,
      typeof opts.bgp === 'function' ? opts.bgp(host.id) : opts.bgp), null, 2)}\n`);
    // Dual-stack: host-local style ranges [[IPv4 pod CIDR], [IPv6 pod CIDR]], so every pod gets one address of each.
    writeFileSync(files.conflist, renderConflist({ name: 'podnet', mode: 'routed', ipMasq: true,
      ipv6: lab.plan.cluster.clusterCidr6 !== undefined, portmap: false, dataDir: files.ipamDataDir,
      nodeStateFile: files.nodeState, clusterCIDRs: clusterCidrsOf(lab.plan.cluster) }));
    await lab.spawn(host.id, agentProcess(host.id),
      [...podnetd.argv, 'agent', '--config', files.agentConfig, '--log-level', opts.logLevel ?? 'info'], { cwd: podnetd.cwd });
    report.agents.push(host.id);
  }
  await waitForNodeStates(lab, opts.nodeTimeoutMs ?? 60_000);
  if (opts.kubelets ?? true) {
    for (const host of lab.nodes) {
      await startKubelet(lab, host.id, opts.logLevel);
      report.kubelets.push(host.id);
    }
  }
  return report;
}

/**
 * Start (or, after it died, restart) the lab kubelet of a node: a lab process in the node's network namespace,
 * entered with `nsenter --net` so the pod namespaces it makes are the machine's (see labProcesses.ts).
 * The first node's kubelet also runs the scheduler.
 */
export async function startKubelet(lab: Lab, nodeId: string, logLevel = 'info'): Promise<void> {
  const ctl = podnetctlCommand();
  const schedule = lab.nodes[0]?.id === nodeId ? ['--schedule'] : [];
  await lab.spawn(nodeId, kubeletProcess(nodeId), [...ctl.argv, 'lab', 'kubelet', '--name', lab.name,
    '--lab-dir', join(lab.paths.dir, '..'), '--node', nodeId, ...schedule, '--log-level', logLevel],
  { cwd: ctl.cwd, netOnly: true });
}

/**
 * The lab's L2 pool (design §3) as MetalLB objects, as an operator would apply them: IPAddressPool `lab` and an
 * L2Advertisement on the nodes' underlay interface. Created if absent (a user's own edits are kept).
 */
async function createLbPool(lab: Lab, hostStore: string): Promise<void> {
  const { first, last } = lab.plan.cluster.l2Pool;
  const store = await openStore(hostStore);
  try {
    const meta = { name: 'lab', namespace: 'metallb-system' };
    const dev = lab.nodes[0]?.interfaces[0]?.dev ?? 'eth0';
    await retryUpdate(store, 'IPAddressPool', meta.name, meta.namespace, (cur) => (cur ? undefined
      : { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { ...meta }, spec: { addresses: [`${first}-${last}`] } }));
    await retryUpdate(store, 'L2Advertisement', meta.name, meta.namespace, (cur) => (cur ? undefined
      : { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { ...meta }, spec: { ipAddressPools: ['lab'], interfaces: [dev] } }));
  } finally {
    await store.close();
  }
}

/** Install podnet and podnet-ipam once for all nodes (`podnetctl install-cni`, conflists are per node). */
async function installCni(lab: Lab): Promise<void> {
  const ctl = podnetctlCommand();
  const bin = cniBinDir(lab.paths);
  mkdirSync(bin, { recursive: true });
  const r = await runTool(ctl.argv[0]!, [...ctl.argv.slice(1), 'install-cni', '--bin-dir', bin, '--conf-dir', join(bin, '..'),
    '--no-conflist'], { allowFailure: true, timeoutMs: 120_000 });
  if (r.code !== 0) throw new LabControlPlaneError(lab.name, `installing the CNI plugin into ${bin} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** Every node's node.json exists with a pod CIDR, or an error naming the node, its log and the agent's last words. */
async function waitForNodeStates(lab: Lab, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const host of lab.nodes) {
    const files = nodeFiles(lab.paths, host.id);
    while (!hasPodCidr(files.nodeState)) {
      const rec = lab.processes().find((p) => p.name === agentProcess(host.id));
      const alive = rec !== undefined && isRunning(rec);
      if (!alive || Date.now() > deadline) {
        const log = rec?.log ?? join(lab.paths.logDir, `${agentProcess(host.id)}.log`);
        const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-3).join('\n    ') : '';
        throw new LabControlPlaneError(lab.name, `podnetd on ${host.id} ${alive ? `wrote no ${files.nodeState} within ${timeoutMs / 1000} s` : 'exited'}` +
          ` (log ${log})${tail ? `:\n    ${tail}` : ''}`);
      }
      await sleep(100);
    }
  }
}

function hasPodCidr(file: string): boolean {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as { podCIDR?: string; podCidr?: string };
    return Boolean(s.podCIDR ?? s.podCidr);
  } catch {
    return false;
  }
}
