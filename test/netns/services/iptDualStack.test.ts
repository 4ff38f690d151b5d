/**
 * The iptables backend's IPv6 half (ip6tables-restore) and its newer rules against a real kernel: one dual-stack
 * Service served on both families by their own endpoints, IPv6 NodePort, an IPv6 Service without endpoints
 * refused, an unused port on a live ClusterIP refused, ClientIP affinity (`-m recent`) on both families, and
 * loadBalancerSourceRanges (allowed client served; after the range changes, the same client gets nothing).
 * The same Services through the nftables backend in the same namespace give the same answers (mode parity).
 */
import test from 'ava';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { IptBackend } from '../../../src/services/iptables/iptBackend.ts';
import { NftBackend } from '../../../src/services/nftables/nftBackend.ts';
import { cleanupOtherModes } from '../../../src/services/backendTable.ts';
import type { ProxyBackend } from '../../../src/services/backend.ts';
import { svc, ep, slice } from '../../unit/services/_modelFixtures.ts';
import { buildTopology, answers, probe, NODE_IP, NODE_IP6, CLIENT_IP, type Topology } from './_proxyTopology.ts';
import { runTool, findTool } from '../../../src/common/systemTools.ts';
import type { Service } from '../../../src/store/types.ts';

const PREFIX = uniquePrefix('pxd');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));

const LB_IP = '172.30.0.200';
const NODE = { name: 'node', nodePortIPs: [NODE_IP, NODE_IP6] };

function services(lbRange: string): Service[] {
  const ds = svc('ds', { type: 'NodePort', clusterIPs: ['10.96.2.1', 'fd00:96::1'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30100 }] });
  const empty6 = svc('empty6', { clusterIP: 'fd00:96::2', clusterIPs: ['fd00:96::2'], ipFamilies: ['IPv6'] });
  const sticky = svc('sticky', { clusterIPs: ['10.96.2.3', 'fd00:96::3'], ipFamilies: ['IPv4', 'IPv6'], sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } } });
  const lb = svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.2.4', loadBalancerSourceRanges: [lbRange],
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30101 }] },
  { status: { loadBalancer: { ingress: [{ ip: LB_IP }] } } });
  return [ds, empty6, sticky, lb];
}

function model(topo: Topology, lbRange: string) {
  const [b1, b2] = topo.backends;
  const slices = [
    slice('ds', [ep(b1!.ip)], { name: 'ds-v4' }),
    slice('ds', [ep(b1!.ip6), ep(b2!.ip6)], { name: 'ds-v6', family: 'IPv6' }),
    slice('sticky', [ep(b1!.ip), ep(b2!.ip)], { name: 'sticky-v4' }),
    slice('sticky', [ep(b1!.ip6), ep(b2!.ip6)], { name: 'sticky-v6', family: 'IPv6' }),
    slice('lb', [ep(b1!.ip), ep(b2!.ip)], { name: 'lb-v4' }),
  ];
  return compileServiceModel({ services: services(lbRange), slices, node: NODE });
}

async function checkBehaviours(t: import('ava').ExecutionContext, topo: Topology, backend: ProxyBackend): Promise<void> {
  await backend.sync(model(topo, `${CLIENT_IP}/32`));
  t.deepEqual(await answers(topo.client, '10.96.2.1', 80, 6), ['b1'], 'IPv4: the IPv4 slice');
  t.deepEqual(await answers(topo.client, 'fd00:96::1', 80, 40), ['b1', 'b2'], 'IPv6: the IPv6 slice');
  t.deepEqual(await answers(topo.client, NODE_IP6, 30100, 40), ['b1', 'b2'], 'IPv6 NodePort');
  t.is(await probe(topo.client, 'fd00:96::2', 80), 'refused', 'IPv6 Service without endpoints');
  t.is(await probe(topo.client, 'fd00:96::1', 81), 'refused', 'IPv6 unused port on a live ClusterIP');
  t.is(await probe(topo.client, '10.96.2.1', 81), 'refused', 'IPv4 unused port on a live ClusterIP');
  t.is((await answers(topo.client, '10.96.2.3', 80, 12)).length, 1, 'IPv4 ClientIP affinity: one backend');
  t.is((await answers(topo.client, 'fd00:96::3', 80, 12)).length, 1, 'IPv6 ClientIP affinity: one backend');
  t.deepEqual(await answers(topo.client, LB_IP, 80, 30), ['b1', 'b2'], 'LB IP: the allowed client is served');
  await backend.sync(model(topo, '192.0.2.0/24'));
  t.is(await probe(topo.client, LB_IP, 80), 'timeout', 'LB IP: a client outside loadBalancerSourceRanges gets nothing');
}

async function addRoutes(topo: Topology): Promise<void> {
  // The LB IP is not on any interface: the client reaches it through the node, as through an L2 announcer.
  await runTool('ip', ['-n', topo.client, 'route', 'add', `${LB_IP}/32`, 'via', NODE_IP]);
  // Like a real node (and the IPv4 side of the topology), the node has an IPv6 default route: iptables rejects in
  // FORWARD, after routing, so without a route the client would get "network unreachable" from routing instead.
  await runTool('ip', ['-n', topo.node, '-6', 'route', 'add', 'default', 'dev', 'toup']);
}

test.serial('iptables mode: dual stack, unused port, ClientIP affinity, LB source ranges (and the same in nftables mode)', async (t) => {
  const topo = await buildTopology(t, PREFIX);
  await addRoutes(topo);
  const opts = { netns: topo.node, clusterCIDRs: ['10.244.0.0/16', 'fd00:244::/48'], masqueradeAll: false };
  const ipt = new IptBackend(opts);
  await checkBehaviours(t, topo, ipt);
  const saved6 = (await runTool('ip', ['netns', 'exec', topo.node, findTool('ip6tables-save')!])).stdout;
  t.regex(saved6, /^-A PREROUTING .*-j PODNET-SERVICES$/m, 'ip6tables jumps are installed');
  const members = (await runTool('ip', ['netns', 'exec', topo.node, findTool('ipset')!, 'list', 'PODNET-CLUSTER-IPS6'])).stdout;
  t.regex(members, /^fd00:96::1$/m, 'IPv6 ClusterIPs in their ipset');

  await cleanupOtherModes('nftables', opts);
  const after6 = (await runTool('ip', ['netns', 'exec', topo.node, findTool('ip6tables-save')!])).stdout;
  t.notRegex(after6, /PODNET/, 'switching to nftables removes the IPv6 rules too');
  const sets = (await runTool('ip', ['netns', 'exec', topo.node, findTool('ipset')!, 'list', '-n'])).stdout;
  t.notRegex(sets, /PODNET/, 'and the ClusterIP ipsets');
  await checkBehaviours(t, topo, new NftBackend(opts));
});
