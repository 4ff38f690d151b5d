/**
 * The other backends against the real kernel: host-gw on the flat underlay, cross-subnet on the lab's two
 * subnets joined by a router, vxlan over an IPv6 underlay, and ipip refusing to start on this kernel (no ipip
 * module) with a message naming the module.
 */
import test from 'ava';
import { RouteAgent } from '../../../src/routing/routeAgent.ts';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { ip, ipJsonIn, makeNetns, rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { podMatrixFailures, settleAll, startRoutingCluster } from './helpers/routingCluster.ts';

const prefix = uniquePrefix('rb');
const snapshot = rootSnapshot(prefix);
test.after.always('nothing left behind in the root namespace', (t) => {
  t.deepEqual(snapshot.leaks(), []);
});

interface IpRoute { dst: string; gateway?: string; dev: string; flags: string[] }
const routes = (ns: string) => ipJsonIn<IpRoute[]>(ns, ['route', 'show', 'proto', '157']).map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}`).sort();
const hasLink = (ns: string, name: string) => ipJsonIn<Array<{ ifname: string }>>(ns, ['link', 'show']).some((l) => l.ifname === name);

test.serial('host-gw: direct routes via the peers\' node addresses, no tunnel device, pods reach each other', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'host-gw' });
  t.deepEqual(await podMatrixFailures(c), []);
  const n1 = c.lab.host('n1').ns;
  t.deepEqual(routes(n1), ['10.244.2.0/24 via 198.18.0.12 dev eth0', '10.244.3.0/24 via 198.18.0.13 dev eth0']);
  t.false(hasLink(n1, 'podnet.1'));
});

test.serial('cross-subnet: direct to the node on the same subnet, vxlan through the router to the other', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'cross-subnet', topology: 'cross-subnet' });
  t.deepEqual(await podMatrixFailures(c), []);
  const n1 = c.lab.host('n1').ns;
  t.deepEqual(routes(n1), ['10.244.2.0/24 via 198.18.0.12 dev eth0', '10.244.3.0/24 via 10.244.3.0 dev podnet.1']);
  const n3 = c.lab.host('n3').ns;
  t.deepEqual(routes(n3), ['10.244.1.0/24 via 10.244.1.0 dev podnet.1', '10.244.2.0/24 via 10.244.2.0 dev podnet.1']);
});

test.serial('vxlan over an IPv6 underlay: podnet.1 uses local6, pods reach each other', async (t) => {
  const c = await startRoutingCluster(t, { backend: 'vxlan' });
  // Give every node an IPv6 underlay address and publish it as the tunnel endpoint; the agents re-plan.
  for (const [k, h] of c.lab.nodes.entries()) {
    ip(['-n', h.ns, 'addr', 'add', `fd00:18::${11 + k}/64`, 'dev', 'eth0', 'nodad']);
    const node = (await c.store.get('Node', h.id))!;
    node.metadata.annotations = { ...node.metadata.annotations, 'podnet.io/tunnel-endpoint': `fd00:18::${11 + k}` };
    await c.store.update(node);
  }
  await settleAll(c.agents);
  const [dev] = ipJsonIn<Array<{ mtu: number; linkinfo: { info_data: { local6?: string } } }>>(c.lab.host('n1').ns, ['-d', 'link', 'show', 'podnet.1']);
  t.is(dev!.linkinfo.info_data.local6, 'fd00:18::11');
  t.is(dev!.mtu, 1430, 'uplink 1500 − 70 bytes of IPv6 VXLAN overhead');
  const fdb = JSON.parse((await c.lab.exec('n1', ['bridge', '-j', 'fdb', 'show', 'dev', 'podnet.1'])).stdout) as Array<{ dst?: string }>;
  t.deepEqual(fdb.map((f) => f.dst).sort(), ['fd00:18::12', 'fd00:18::13']);
  t.deepEqual(await podMatrixFailures(c), []);
});

test.serial('ipip: start-up fails with a message naming the missing kernel module, nothing left behind', async (t) => {
  const ns = makeNetns(t, prefix, 'ipip');
  ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
  const store = new MemoryStore();
  const err = await t.throwsAsync(RouteAgent.start({
    store, nodeName: 'n1', settings: { backend: 'ipip', vni: 1, port: 8472 }, clusterCidrs: ['10.244.0.0/16'],
    netns: ns, masquerade: false, nodeStateFile: null,
  }));
  t.is((err as { code?: string }).code, 'PODNET_KERNEL_UNSUPPORTED');
  t.regex(err!.message, /routing backend "ipip" is not available: this kernel has no ipip module.*modprobe ipip.*--backend vxlan/);
  t.deepEqual(ipJsonIn<Array<{ ifname: string }>>(ns, ['link', 'show']).map((l) => l.ifname).sort(), ['eth0', 'eth1', 'lo']);
});
