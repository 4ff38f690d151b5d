/**
 * Nodes running the real `podnetd agent` with `backend: bgp`, each inside its own network namespace made here:
 * a switch namespace with a bridge, node namespaces n1..nN on it (198.18.0.1N/24), an optional "tor" namespace
 * (198.18.0.254) for BIRD or GoBGP as an external peer, a file store shared by the agents, and one pod namespace
 * per node wired to its leased pod CIDR (.10, gateway .1) so tests can ping pod to pod across BGP-learned routes.
 * Every process and namespace is removed at teardown (ava runs it also when the test fails).
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, runTool } from '../../../../src/common/systemTools.ts';
import { podnetctlCommand, podnetdCommand } from '../../../../src/lab/lab.ts';
import { ip, ipJsonIn, makeNetns } from '../../../helpers/netnsFixture.ts';
import { waitFor } from '../../../helpers/waitFor.ts';

export const BGP_PROTO = 159;
const IP = findTool('ip') ?? '/usr/sbin/ip';

export interface BgpNode {
  id: string;
  ns: string;
  address: string;
  /** Set on a dual-stack fabric. */
  address6?: string;
  configFile: string;
  stateFile: string;
  agent?: AgentProcess;
  pod?: { ns: string; ip: string; cidr: string };
}

export interface AgentProcess {
  child: ChildProcess;
  log(): string;
  exited: Promise<number | null>;
}

export interface BgpFabric {
  prefix: string;
  dir: string;
  store: string;
  nodes: BgpNode[];
  tor?: { ns: string; address: string };
  /** Start (or restart) a node's agent with its config; resolves once it has written node.json. */
  startAgent(node: BgpNode): Promise<void>;
  /** SIGTERM (graceful) or SIGKILL the agent and wait for it to exit. */
  stopAgent(node: BgpNode, signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  writeConfig(node: BgpNode, bgp: Record<string, unknown>, extra?: Record<string, unknown>): void;
}

export function addressOf(i: number): string {
  return `198.18.0.${10 + i}`;
}

export function address6Of(i: number): string {
  return `fd00:198:18::${10 + i}`;
}

function link(ns: string, sw: string, name: string, address: string, address6?: string): void {
  ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', name, 'netns', sw]);
  ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  if (address6) ip(['-n', ns, 'addr', 'add', `${address6}/64`, 'dev', 'eth0', 'nodad']);
  ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  ip(['-n', sw, 'link', 'set', name, 'master', 'br0']);
  ip(['-n', sw, 'link', 'set', name, 'up']);
}

export function startFabric(t: ExecutionContext, prefix: string, count: number, opts: { tor?: boolean; dual?: boolean } = {}): BgpFabric {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-bgpnodes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sw = makeNetns(t, prefix, 'sw');
  ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
  ip(['-n', sw, 'link', 'set', 'br0', 'up']);
  const nodes: BgpNode[] = [];
  for (let i = 1; i <= count; i++) {
    const ns = makeNetns(t, prefix, `n${i}`);
    link(ns, sw, `p${i}`, addressOf(i), opts.dual ? address6Of(i) : undefined);
    const node: BgpNode = { id: `n${i}`, ns, address: addressOf(i), ...(opts.dual ? { address6: address6Of(i) } : {}), configFile: join(dir, `n${i}.json`), stateFile: join(dir, `n${i}`, 'node.json') };
    nodes.push(node);
  }
  let tor: BgpFabric['tor'];
  if (opts.tor) {
    const ns = makeNetns(t, prefix, 'tor');
    link(ns, sw, 'ptor', '198.18.0.254');
    tor = { ns, address: '198.18.0.254' };
  }
  const store = `file:${join(dir, 'store')}`;
  const podnetd = podnetdCommand();
  const fabric: BgpFabric = {
    prefix, dir, store, nodes, ...(tor ? { tor } : {}),
    writeConfig(node, bgp, extra = {}) {
      writeFileSync(node.configFile, JSON.stringify({
        store, nodeName: node.id, nodeIP: node.address6 ? `${node.address},${node.address6}` : node.address,
        clusterCIDR: node.address6 ? '10.244.0.0/16,fd00:10:244::/56' : '10.244.0.0/16', serviceCIDR: node.address6 ? '10.96.0.0/16,fd00:10:96::/112' : '10.96.0.0/16',
        nodeStateFile: node.stateFile, backend: 'bgp', bgpASN: 64512, controller: { enabled: false },
        routing: { masquerade: true, resyncSeconds: 2 }, bgp, ...extra,
      }, null, 2));
    },
    async startAgent(node) {
      const child = spawn(IP, ['netns', 'exec', node.ns, ...podnetd.argv, 'agent', '--config', node.configFile, '--log-level', 'info', '--metrics', '127.0.0.1:9101'], { cwd: podnetd.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const keep = (b: Buffer) => { out = (out + b.toString()).slice(-200_000); };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      node.agent = { child, log: () => out, exited };
      t.teardown(async () => {
        if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
      });
      await waitFor(`${node.id}'s agent to register (log: ${out.slice(-2000)})`, () => {
        if (child.exitCode !== null) throw new Error(`podnetd on ${node.id} exited ${child.exitCode}: ${out.slice(-3000)}`);
        return /"event":"bgpStarted"/.test(out) || /"event":"waiting"/.test(out);
      }, 60_000, 100);
    },
    async stopAgent(node, signal) {
      const a = node.agent!;
      if (a.child.exitCode === null && a.child.signalCode === null) { a.child.kill(signal); await a.exited; }
    },
  };
  return fabric;
}

export function podCidrOf(node: BgpNode): string {
  return (JSON.parse(readFileSync(node.stateFile, 'utf8')) as { podCIDR: string }).podCIDR;
}

export function podCidrsOf(node: BgpNode): string[] {
  return (JSON.parse(readFileSync(node.stateFile, 'utf8')) as { podCIDRs: string[] }).podCIDRs;
}

/** A pod namespace on the node: eth0 .10/24 of the node's pod CIDR, the node side pod0 .1/24. */
export function addPod(t: ExecutionContext, f: BgpFabric, node: BgpNode): NonNullable<BgpNode['pod']> {
  const cidr = podCidrOf(node);
  const base = cidr.split('/')[0]!.split('.').slice(0, 3).join('.');
  const ns = makeNetns(t, f.prefix, `p${node.id}`);
  ip(['-n', node.ns, 'link', 'add', 'pod0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  ip(['-n', node.ns, 'addr', 'add', `${base}.1/24`, 'dev', 'pod0']);
  ip(['-n', node.ns, 'link', 'set', 'pod0', 'up']);
  ip(['-n', ns, 'addr', 'add', `${base}.10/24`, 'dev', 'eth0']);
  ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  ip(['-n', ns, 'route', 'add', 'default', 'via', `${base}.1`]);
  ip(['netns', 'exec', node.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  node.pod = { ns, ip: `${base}.10`, cidr };
  return node.pod;
}

export interface IpRoute { dst: string; gateway?: string; protocol: string | number; nexthops?: Array<{ gateway: string }> }

export function bgpRoutes(ns: string, family: 4 | 6 = 4): IpRoute[] {
  return ipJsonIn<IpRoute[]>(ns, [`-${family}`, 'route', 'show', 'proto', String(BGP_PROTO)]);
}

export function routeVia(ns: string, dst: string): string[] | undefined {
  const r = bgpRoutes(ns, dst.includes(':') ? 6 : 4).find((x) => x.dst === dst);
  if (!r) return undefined;
  return r.gateway ? [r.gateway] : (r.nexthops ?? []).map((h) => h.gateway).sort();
}

export async function pings(fromNs: string, to: string): Promise<boolean> {
  const r = await runTool(IP, ['netns', 'exec', fromNs, 'ping', '-c1', '-W1', to], { allowFailure: true, timeoutMs: 10_000 });
  return r.code === 0;
}

/** `podnetctl bgp status` run inside the node's namespace (the status address is that namespace's loopback). */
export async function ctlBgpStatus(node: BgpNode, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const ctl = podnetctlCommand();
  return runTool(IP, ['netns', 'exec', node.ns, ...ctl.argv, 'bgp', 'status', ...args], { allowFailure: true, timeoutMs: 60_000 });
}

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true });
}
