/**
 * VXLAN between three node namespaces on one bridge (the lab's flat underlay), the routing agent of each node
 * running in-process: pods reach each other, the kernel holds exactly flannel's entries (checked with `ip -j`,
 * an independent reader), the pod MTU is honoured, pod traffic leaving the cluster is masqueraded and pod↔pod
 * traffic is not.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { activeFeatures, TX_CHECKSUM_FEATURE } from '../../../src/routing/ethtoolFeatures.ts';
import { ipJsonIn, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { pings, podMatrixFailures, startRoutingCluster } from './helpers/routingCluster.ts';

const snapshot = rootSnapshot(uniquePrefix('l'));
test.after.always('nothing left behind in the root namespace', (t) => {
  t.deepEqual(snapshot.leaks().filter((p) => p.startsWith('links')), []);
});

interface IpRoute { dst: string; gateway?: string; dev: string; protocol: string; flags: string[] }
interface IpNeigh { dst: string; lladdr: string; state: string[] }
interface IpFdb { mac: string; dst?: string; state?: string; flags?: string[] }
interface IpLink { ifname: string; mtu: number; address: string; linkinfo: { info_kind: string; info_data: { id: number; port: number; learning: boolean; local?: string } } }

test.serial('vxlan: every pod reaches every other pod; kernel holds 1 route + 1 neighbour + 1 FDB entry per peer', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'vxlan' });
  t.deepEqual(await podMatrixFailures(c), []);

  const n1 = c.lab.host('n1').ns;
  const [dev] = ipJsonIn<IpLink[]>(n1, ['-d', 'link', 'show', 'podnet.1']);
  t.is(dev!.linkinfo.info_kind, 'vxlan');
  t.like(dev!.linkinfo.info_data, { id: 1, port: 8472, learning: false, local: '198.18.0.11' });
  t.is(dev!.mtu, 1450);
  const routes = ipJsonIn<IpRoute[]>(n1, ['route', 'show', 'proto', '157']).map((r) => `${r.dst} via ${r.gateway} dev ${r.dev} ${r.flags.join(',')}`).sort();
  t.deepEqual(routes, ['10.244.2.0/24 via 10.244.2.0 dev podnet.1 onlink', '10.244.3.0/24 via 10.244.3.0 dev podnet.1 onlink']);
  const mac2 = (await c.store.get('Node', 'n2'))!.metadata.annotations!['podnet.io/vtep-mac']!;
  const neigh = ipJsonIn<IpNeigh[]>(n1, ['neigh', 'show', 'dev', 'podnet.1']).map((n) => `${n.dst} ${n.lladdr} ${n.state.join(',')}`).sort();
  t.is(neigh.length, 2);
  t.true(neigh.includes(`10.244.2.0 ${mac2} PERMANENT`), neigh.join('; '));
  const fdbLines = (await c.lab.exec('n1', ['bridge', '-j', 'fdb', 'show', 'dev', 'podnet.1'])).stdout;
  const entries = (JSON.parse(fdbLines) as IpFdb[]).map((f) => `${f.mac} ${f.dst ?? ''} ${f.state ?? ''}`).sort();
  t.true(entries.includes(`${mac2} 198.18.0.12 permanent`), entries.join('; '));
  t.is(entries.length, 2);

  t.false((await activeFeatures(n1, 'podnet.1')).has(TX_CHECKSUM_FEATURE), 'TX checksum offload off on podnet.1');
  t.true((await activeFeatures(n1, 'eth0')).size > 0, 'the feature reader sees features at all');
  t.is(JSON.parse(readFileSync(join(c.stateDir, 'n1', 'node.json'), 'utf8')).mtu, 1450);
});

test.serial('vxlan: the pod MTU fits the tunnel; 1 MiB crosses it; masquerade only for traffic leaving the cluster', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'vxlan' });
  const [p1, p2] = [c.pods.get('n1')!, c.pods.get('n2')!];
  for (const p of c.pods.values()) await c.lab.exec(p.ns, ['ip', 'link', 'set', 'eth0', 'mtu', '1450']);
  t.true(await pings(c.lab, p1.ns, p2.ip, ['-M', 'do', '-s', '1422']), 'a full 1450-byte packet crosses without fragmentation');
  t.false(await pings(c.lab, p1.ns, p2.ip, ['-M', 'do', '-s', '1423']), 'one byte more does not fit the pod MTU');

  // 1 MiB over TCP pod → pod across the tunnel.
  const server = c.lab.exec(p2.ns, ['timeout', '10', 'socat', '-u', 'TCP-LISTEN:9100,reuseaddr', 'SYSTEM:wc -c'], { allowFailure: true });
  await waitListening(c.lab, p2.ns, 'tcp', 9100);
  await c.lab.exec(p1.ns, ['sh', '-c', `head -c 1048576 /dev/zero | timeout 10 socat -u - TCP:${p2.ip}:9100`]);
  t.is((await server).stdout.trim(), '1048576');

  // Who does a UDP server see? The client outside the cluster sees the node; a pod sees the pod.
  // The answer is which address the server saw; on a loaded machine its forked `echo` can miss the client's 2 s
  // wait, so an empty answer is asked again (three tries at most).
  const seenBy = async (serverNs: string, serverIp: string) => {
    for (let attempt = 1; ; attempt++) {
      const srv = c.lab.exec(serverNs, ['timeout', '5', 'socat', '-T2', 'UDP-RECVFROM:9200', 'SYSTEM:echo $SOCAT_PEERADDR'], { allowFailure: true });
      await waitListening(c.lab, serverNs, 'udp', 9200);
      const r = await c.lab.exec(p1.ns, ['sh', '-c', `echo hi | timeout 3 socat -T2 - UDP:${serverIp}:9200`], { allowFailure: true });
      await srv;
      if (r.stdout.trim() || attempt === 3) return r.stdout.trim();
    }
  };
  t.is(await seenBy(c.lab.client.ns, '198.18.0.2'), '198.18.0.11', 'leaving the cluster: SNAT to the node address');
  t.is(await seenBy(p2.ns, p2.ip), p1.ip, 'pod to pod: the pod address is kept');
});

/** Wait (bounded) until a socket listens on `port` in `ns`: a fixed sleep loses the race on a loaded machine. */
async function waitListening(lab: { exec: (ns: string, argv: string[], o?: { allowFailure?: boolean }) => Promise<{ stdout: string }> },
  ns: string, proto: 'tcp' | 'udp', port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const r = await lab.exec(ns, ['ss', '-H', proto === 'tcp' ? '-lnt' : '-lnu', `sport = :${port}`], { allowFailure: true });
    if (r.stdout.trim()) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`nothing listens on ${proto} port ${port} in ${ns} after 5 s`);
}
