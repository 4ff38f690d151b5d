/**
 * A minimal cluster for proxy tests, built from namespaces (the lab is not needed): one "node" namespace that
 * routes between a client namespace and N backend namespaces, each backend running a tiny TCP+UDP server that
 * answers with its name. Everything is removed in teardown, also on failure.
 *
 *   client 172.30.0.2 ── node 172.30.0.1 (NodePort address) ── 10.244.i.1 ── backend-i 10.244.i.2
 *                        node 172.31.0.1 ── upstream 172.31.0.2 (the node's default route)
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { makeNetns, ip } from '../../helpers/netnsFixture.ts';
import { findTool, runTool } from '../../../src/common/systemTools.ts';

export const NODE_IP = '172.30.0.1';
export const CLIENT_IP = '172.30.0.2';
export const NODE_IP6 = 'fd00:30::1';
export const CLIENT_IP6 = 'fd00:30::2';
export const BACKEND_PORT = 8080;
/** Answers with the client address it sees (source IP preservation / masquerade checks). */
export const CLIENTIP_PORT = 8081;

export interface Topology {
  node: string;
  client: string;
  backends: Array<{ ns: string; ip: string; ip6: string; name: string }>;
}

function veth(nsA: string, nameA: string, addrA: string, nsB: string, nameB: string, addrB: string, v6?: [string, string]): void {
  ip(['link', 'add', nameA, 'netns', nsA, 'type', 'veth', 'peer', 'name', nameB, 'netns', nsB]);
  ip(['-n', nsA, 'addr', 'add', addrA, 'dev', nameA]);
  ip(['-n', nsB, 'addr', 'add', addrB, 'dev', nameB]);
  if (v6) {
    ip(['-n', nsA, 'addr', 'add', v6[0], 'dev', nameA, 'nodad']);
    ip(['-n', nsB, 'addr', 'add', v6[1], 'dev', nameB, 'nodad']);
  }
  ip(['-n', nsA, 'link', 'set', nameA, 'up']);
  ip(['-n', nsB, 'link', 'set', nameB, 'up']);
}

function startServer(t: ExecutionContext, ns: string, name: string): void {
  const socat = findTool('socat')!;
  const procs: ChildProcess[] = [
    spawn('ip', ['netns', 'exec', ns, socat, `TCP-LISTEN:${BACKEND_PORT},fork,reuseaddr`, `SYSTEM:read l; echo ${name}`], { stdio: 'ignore' }),
    spawn('ip', ['netns', 'exec', ns, socat, `UDP-RECVFROM:${BACKEND_PORT},fork`, `SYSTEM:read l; echo ${name}`], { stdio: 'ignore' }),
    spawn('ip', ['netns', 'exec', ns, socat, `TCP-LISTEN:${CLIENTIP_PORT},fork,reuseaddr`, 'SYSTEM:read l; echo $SOCAT_PEERADDR'], { stdio: 'ignore' }),
    spawn('ip', ['netns', 'exec', ns, socat, `TCP6-LISTEN:${BACKEND_PORT},ipv6only=1,fork,reuseaddr`, `SYSTEM:read l; echo ${name}`], { stdio: 'ignore' }),
  ];
  t.teardown(() => {
    for (const p of procs) p.kill('SIGKILL');
  });
}

export async function buildTopology(t: ExecutionContext, prefix: string, backends = 2): Promise<Topology> {
  const node = makeNetns(t, prefix, 'node');
  const client = makeNetns(t, prefix, 'cli');
  ip(['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  veth(node, 'tocli', `${NODE_IP}/24`, client, 'eth0', `${CLIENT_IP}/24`, [`${NODE_IP6}/64`, `${CLIENT_IP6}/64`]);
  ip(['-n', client, 'route', 'add', 'default', 'via', NODE_IP]);
  ip(['-n', client, '-6', 'route', 'add', 'default', 'via', NODE_IP6]);
  // Like a real node, this one has a default route (to an "upstream" namespace), so a packet for a service
  // address that no rule handles is routed (and can be rejected in FORWARD) rather than unroutable.
  const up = makeNetns(t, prefix, 'up');
  veth(node, 'toup', '172.31.0.1/24', up, 'eth0', '172.31.0.2/24');
  ip(['-n', node, 'route', 'add', 'default', 'via', '172.31.0.2']);
  const out: Topology['backends'] = [];
  for (let i = 1; i <= backends; i++) {
    const ns = makeNetns(t, prefix, `b${i}`);
    veth(node, `tob${i}`, `10.244.${i}.1/24`, ns, 'eth0', `10.244.${i}.2/24`, [`fd00:244:${i}::1/64`, `fd00:244:${i}::2/64`]);
    ip(['-n', ns, 'route', 'add', 'default', 'via', `10.244.${i}.1`]);
    ip(['-n', ns, '-6', 'route', 'add', 'default', 'via', `fd00:244:${i}::1`]);
    startServer(t, ns, `b${i}`);
    out.push({ ns, ip: `10.244.${i}.2`, ip6: `fd00:244:${i}::2`, name: `b${i}` });
  }
  await waitListening(out.map((b) => b.ns));
  return { node, client, backends: out };
}

async function waitListening(namespaces: string[]): Promise<void> {
  for (const ns of namespaces) {
    for (let i = 0; i < 50; i++) {
      const r = await runTool('ip', ['netns', 'exec', ns, findTool('ss')!, '-Hltn', `sport = :${BACKEND_PORT}`], { allowFailure: true });
      if (r.stdout.trim()) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

/** Connect from `ns` to addr:port over TCP (or UDP); resolves the answer, or the error text ("Connection refused"). */
export async function probe(ns: string, addr: string, port: number, proto: 'tcp' | 'udp' = 'tcp'): Promise<string> {
  const host = addr.includes(':') ? `[${addr}]` : addr;
  const target = proto === 'tcp' ? `TCP:${host}:${port},connect-timeout=3` : `UDP:${host}:${port}`;
  const r = await runTool('ip', ['netns', 'exec', ns, findTool('socat')!, '-T3', '-', target], { input: 'hello\n', allowFailure: true, timeoutMs: 10_000 });
  if (r.code === 0 && r.stdout.trim()) return r.stdout.trim();
  if (/refused/i.test(r.stderr)) return 'refused';
  if (/timed out|timeout/i.test(r.stderr) || (r.code === 0 && !r.stdout.trim())) return 'timeout';
  return `error: ${r.stderr.trim().split('\n').pop() ?? r.code}`;
}

/** Probe `n` times; the distinct answers, sorted. */
export async function answers(ns: string, addr: string, port: number, n: number, proto: 'tcp' | 'udp' = 'tcp'): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    // One retry for a client-side timeout only: on a loaded 2-core machine a probe's own deadline can pass; a
    // path that really drops times out twice, and a refusal is never retried.
    const a = await probe(ns, addr, port, proto);
    seen.add(a === 'timeout' ? await probe(ns, addr, port, proto) : a);
  }
  return [...seen].sort();
}

/** The service does not answer (no route, timeout, refused): anything but a backend's name. */
export function isNoAnswer(a: string): boolean {
  return !/^b\d+$/.test(a);
}

/** `nft` run inside the namespace, stdout. */
export async function nftIn(ns: string, args: string[]): Promise<string> {
  return (await runTool('ip', ['netns', 'exec', ns, findTool('nft')!, ...args])).stdout;
}
