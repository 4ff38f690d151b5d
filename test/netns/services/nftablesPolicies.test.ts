/**
 * nftables backend, the traffic policies with real traffic (kubernetes test/e2e/network/service.go and
 * loadbalancer.go): ClientIP affinity (15 consecutive hits on one backend), externalIPs, loadBalancerSourceRanges,
 * ETP Local keeping the client's source address vs ETP Cluster masquerading, ITP Local without a local endpoint
 * (dropped, not rejected), and hairpin (a backend reaching itself through its Service).
 */
import test from 'ava';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { NftBackend } from '../../../src/services/nftables/nftBackend.ts';
import { svc, ep, slice } from '../../unit/services/_modelFixtures.ts';
import { buildTopology, answers, probe, NODE_IP, CLIENT_IP, CLIENTIP_PORT } from './_proxyTopology.ts';
import type { Service, EndpointSlice } from '../../../src/store/types.ts';

const PREFIX = uniquePrefix('pxp');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));

const ports = [{ name: 'http', protocol: 'TCP' as const, port: 8080 }];
const ipPorts = [{ name: 'http', protocol: 'TCP' as const, port: CLIENTIP_PORT }];

for (const endpointChains of [false, true]) {
test.serial(`${endpointChains ? 'endpoint chains' : 'inline'}: affinity, externalIPs, source ranges, ETP Local source IP, ITP Local drop, hairpin`, async (t) => {
  const topo = await buildTopology(t, `${PREFIX}${endpointChains ? 'c' : 'i'}`);
  const [b1, b2] = topo.backends;
  const both = [ep(b1!.ip, { nodeName: 'node' }), ep(b2!.ip, { nodeName: 'node' })];
  const services: Service[] = [
    svc('aff', { clusterIP: '10.96.1.1', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
    svc('ext', { clusterIP: '10.96.1.2', externalIPs: ['203.0.113.250'] }),
    svc('lb-deny', { type: 'LoadBalancer', clusterIP: '10.96.1.3', loadBalancerSourceRanges: ['192.0.2.0/24'], ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30003 }] },
      { status: { loadBalancer: { ingress: [{ ip: '198.18.0.203' }] } } }),
    svc('lb-allow', { type: 'LoadBalancer', clusterIP: '10.96.1.4', loadBalancerSourceRanges: ['172.30.0.0/24'], ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30004 }] },
      { status: { loadBalancer: { ingress: [{ ip: '198.18.0.204' }] } } }),
    svc('etp-local', { type: 'NodePort', clusterIP: '10.96.1.5', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30005 }] }),
    svc('etp-cluster', { type: 'NodePort', clusterIP: '10.96.1.6', ports: [{ name: 'http', port: 80, nodePort: 30006 }] }),
    svc('itp-local', { clusterIP: '10.96.1.7', internalTrafficPolicy: 'Local' }),
    svc('hairpin', { clusterIP: '10.96.1.8', ports: [{ name: 'http', port: 80, targetPort: CLIENTIP_PORT }] }),
  ];
  const slices: EndpointSlice[] = [
    ...['aff', 'ext', 'lb-deny', 'lb-allow'].map((n) => slice(n, both, { ports })),
    slice('etp-local', [ep(b1!.ip, { nodeName: 'node' })], { ports: ipPorts }),
    slice('etp-cluster', [ep(b1!.ip, { nodeName: 'node' })], { ports: ipPorts }),
    slice('itp-local', [ep(b2!.ip, { nodeName: 'other-node' })], { ports }),
    slice('hairpin', [ep(b1!.ip, { nodeName: 'node' })], { ports: ipPorts }),
  ];
  const backend = new NftBackend({ netns: topo.node, clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false, endpointChains });
  await backend.sync(compileServiceModel({ services, slices, node: { name: 'node', nodePortIPs: [NODE_IP] } }));

  t.is((await answers(topo.client, '10.96.1.1', 80, 15)).length, 1, 'ClientIP affinity: 15 hits on one backend');
  t.deepEqual(await answers(topo.client, '203.0.113.250', 80, 40), ['b1', 'b2'], 'externalIP');
  t.is(await probe(topo.client, '198.18.0.203', 80), 'timeout', 'source not in loadBalancerSourceRanges: dropped');
  t.deepEqual(await answers(topo.client, '198.18.0.204', 80, 40), ['b1', 'b2'], 'source in range: served');
  t.regex(await probe(topo.client, NODE_IP, 30005), new RegExp(`^${CLIENT_IP.replaceAll('.', '\\.')}$`), 'ETP Local: client source preserved');
  t.is(await probe(topo.client, NODE_IP, 30006), '10.244.1.1', 'ETP Cluster: masqueraded to the node');
  t.is(await probe(topo.client, '10.96.1.7', 80), 'timeout', 'ITP Local, no local endpoint: dropped, not refused');
  t.is(await probe(b1!.ns, '10.96.1.8', 80), '10.244.1.1', 'hairpin: a backend reaches itself, masqueraded');
});
}
