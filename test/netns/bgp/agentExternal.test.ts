/**
 * External peers from the store: a MetalLB `BGPPeer` (eBGP, AS 64999) pointing at BIRD 2 in a top-of-rack
 * namespace, with a `BFDProfile`. BIRD learns every node's pod CIDR with the node as next hop, the nodes install
 * BIRD's prefix with proto 159, and when the top-of-rack's link dies BFD takes the prefix away on every node.
 */
import test from 'ava';
import { findTool } from '../../../src/common/systemTools.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { EndpointSlice } from '../../../src/store/types.ts';
import { ip, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { waitFor } from '../../helpers/waitFor.ts';
import { startBird } from '../../integration/bgp/helpers/peerDaemons.ts';
import { birdPrefixes } from '../../integration/bgp/helpers/peerRib.ts';
import { ctlBgpStatus, podCidrOf, routeVia, startFabric } from './helpers/bgpNodes.ts';

const prefix = uniquePrefix('bge');
let snapshot: ReturnType<typeof rootSnapshot>;
test.before(() => { snapshot = rootSnapshot(prefix); });
test.after.always('nothing left behind in the root namespace', (t) => { t.deepEqual(snapshot.leaks(), []); });

const maybe = findTool('bird') ? test.serial : test.serial.skip;

maybe('BIRD as top-of-rack from a BGPPeer object: routes both ways, BFD from the BFDProfile', async (t) => {
  const f = startFabric(t, prefix, 2, { tor: true });
  const tor = f.tor!;
  const bird = startBird({
    as: 64999, routerId: tor.address, listenAddress: tor.address, port: 179, netns: tor.ns, bfd: true, bfdIntervalMs: 100,
    staticV4: ['203.0.113.0/24'],
    peers: f.nodes.map((n) => ({ name: n.id, address: n.address, as: 64512, port: 179, bfd: true, direct: true })),
  });
  t.teardown(() => bird.stop());
  const store = await openStore(f.store);
  t.teardown(() => store.close());
  await store.create({ apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'fast', namespace: 'metallb-system' }, spec: { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 } });
  await store.create({
    apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'tor', namespace: 'metallb-system' },
    spec: { myASN: 64512, peerASN: 64999, peerAddress: tor.address, bfdProfile: 'fast' },
  });
  // A LoadBalancer Service with externalTrafficPolicy Local whose only endpoint runs on n1, and an externalIP
  // Service with policy Cluster.
  await store.create({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.50', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }], externalTrafficPolicy: 'Local' },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.50' }] } },
  });
  await store.create({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'default' },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.80', ports: [{ port: 80, protocol: 'TCP' }], externalIPs: ['192.0.2.80'] },
  });
  const webSlice = (nodeName: string): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4', ports: [{ port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.77.7'], nodeName, conditions: { ready: true } }],
  });
  await store.create(webSlice('n1'));
  for (const n of f.nodes) f.writeConfig(n, { bfd: false, advertise: { externalIPs: true, loadBalancerIPs: true } });
  await Promise.all(f.nodes.map((n) => f.startAgent(n)));
  const cidrs = f.nodes.map(podCidrOf);
  await waitFor(`BIRD learns both pod CIDRs (bird: ${bird.log().slice(-500)})`, async () => {
    const got = await birdPrefixes(bird);
    return cidrs.every((c) => got.has(c));
  }, 30_000);
  const route = await bird.birdc(['show', 'route', 'for', cidrs[0]!, 'all']);
  t.regex(route, new RegExp(`via ${f.nodes[0]!.address.replace(/\./g, '\\.')}`), 'next hop is the node itself');
  for (const n of f.nodes) {
    await waitFor(`${n.id}: 203.0.113.0/24 via the ToR`, () => routeVia(n.ns, '203.0.113.0/24')?.join() === tor.address, 30_000);
    await waitFor(`${n.id}: BFD Up with the ToR`, async () => /198\.18\.0\.254\s+64999\s+Established.*\sUp/.test((await ctlBgpStatus(n)).stdout), 30_000);
  }
  t.log((await ctlBgpStatus(f.nodes[0]!)).stdout.trim());

  // Service addresses: the Local LB IP only from n1 (its endpoint's node), the Cluster externalIP from both.
  const vias = async (p: string) => [...(await bird.birdc(['show', 'route', 'for', p, 'all'])).matchAll(/via (198\.18\.0\.\d+)/g)].map((m) => m[1]).sort();
  await waitFor('BIRD: 192.0.2.80/32 from both nodes', async () => (await vias('192.0.2.80/32')).length === 2, 30_000);
  await waitFor('BIRD: 192.0.2.50/32 from n1', async () => (await vias('192.0.2.50/32')).join() === f.nodes[0]!.address, 30_000);
  const slice = (await store.get('EndpointSlice', 'web-1', 'default'))!;
  await store.update({ ...slice, ...webSlice('n2'), metadata: { ...slice.metadata } });
  await waitFor('BIRD: 192.0.2.50/32 moved to n2 with the endpoint', async () => (await vias('192.0.2.50/32')).join() === f.nodes[1]!.address, 30_000);
  t.pass('LB IP follows its Local endpoint');
  const t0 = performance.now();
  ip(['-n', tor.ns, 'link', 'set', 'eth0', 'down']);
  // BIRD's hold time here is 9 s: gone within 4 s is BFD's doing.
  const ms = await Promise.all(f.nodes.map((n) => waitFor(`${n.id}: ToR route gone`, () => (routeVia(n.ns, '203.0.113.0/24') === undefined ? performance.now() - t0 : false), 4_000, 5)));
  t.log(`ToR link down → its prefix gone from the nodes after ${ms.map((x) => x.toFixed(0)).join(' / ')} ms (BFDProfile: 3 × 100 ms)`);
});
