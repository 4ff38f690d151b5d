/**
 * Dual stack (kubernetes test/e2e/network/dual_stack.go, granular checks on the secondary family): one Service
 * with an IPv4 and an IPv6 ClusterIP is served on both, each family by its own table (`ip6 podnet-proxy` for
 * IPv6) and its own endpoints, NodePort included; an IPv6 Service without endpoints is refused.
 */
import test from 'ava';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { NftBackend } from '../../../src/services/nftables/nftBackend.ts';
import { svc, ep, slice } from '../../unit/services/_modelFixtures.ts';
import { buildTopology, answers, probe, NODE_IP, NODE_IP6 } from './_proxyTopology.ts';

const PREFIX = uniquePrefix('pxs');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));

test.serial('IPv4 and IPv6 ClusterIPs and NodePorts of one Service, each family to its own endpoints', async (t) => {
  const topo = await buildTopology(t, PREFIX);
  const [b1, b2] = topo.backends;
  const ds = svc('ds', { type: 'NodePort', clusterIPs: ['10.96.2.1', 'fd00:96::1'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30100 }] });
  const empty6 = svc('empty6', { clusterIP: 'fd00:96::2', clusterIPs: ['fd00:96::2'], ipFamilies: ['IPv6'] });
  const slices = [
    slice('ds', [ep(b1!.ip)], { name: 'ds-v4' }),
    slice('ds', [ep(b1!.ip6), ep(b2!.ip6)], { name: 'ds-v6', family: 'IPv6' }),
  ];
  const backend = new NftBackend({ netns: topo.node, clusterCIDRs: ['10.244.0.0/16', 'fd00:244::/48'], masqueradeAll: false });
  await backend.sync(compileServiceModel({ services: [ds, empty6], slices, node: { name: 'node', nodePortIPs: [NODE_IP, NODE_IP6] } }));

  t.deepEqual(await answers(topo.client, '10.96.2.1', 80, 6), ['b1'], 'IPv4: the IPv4 slice');
  t.deepEqual(await answers(topo.client, 'fd00:96::1', 80, 40), ['b1', 'b2'], 'IPv6: the IPv6 slice');
  t.deepEqual(await answers(topo.client, NODE_IP6, 30100, 40), ['b1', 'b2'], 'IPv6 NodePort');
  t.is(await probe(topo.client, 'fd00:96::2', 80), 'refused', 'IPv6 service without endpoints: rejected');
});
