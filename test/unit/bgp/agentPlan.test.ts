import test from 'ava';
import { readBgpSettings } from '../../../src/bgp/bgpAgentConfig.ts';
import { planBgp, type BgpPlan, type BgpPlanInput } from '../../../src/bgp/bgpAgentPlan.ts';
import { serviceRoutes } from '../../../src/bgp/serviceAdvertisement.ts';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import type { BFDProfile, BGPPeer, EndpointSlice, Node, Service } from '../../../src/store/types.ts';

function node(name: string, ip: string): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: `10.244.${name.slice(1)}.0/24` }, status: { addresses: [{ type: 'InternalIP', address: ip }] } };
}
const nodes = [node('n1', '198.18.0.11'), node('n2', '198.18.0.12'), node('n3', '198.18.0.13')];
const tor: BGPPeer = { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'tor', namespace: 'metallb-system' }, spec: { myASN: 64512, peerASN: 64999, peerAddress: '198.18.0.254', bfdProfile: 'fast' } };
const fast: BFDProfile = { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'fast', namespace: 'metallb-system' }, spec: { receiveInterval: 50, transmitInterval: 60, detectMultiplier: 4 } };

function plan(over: Partial<BgpPlanInput> & { bgp?: Record<string, unknown> } = {}): BgpPlan {
  const { bgp, ...rest } = over;
  const r = planBgp({ self: nodes[0]!, nodes, peers: [], bfdProfiles: [], settings: readBgpSettings(bgp ?? {}, 64512), serviceCidrs: ['10.96.0.0/16'], servicePorts: [], ...rest });
  if ('error' in r) throw new Error(r.error);
  return r;
}

test('full mesh with BFD from the config for node peers and from the BFDProfile for the BGPPeer', (t) => {
  const p = plan({ peers: [tor], bfdProfiles: [fast], bgp: { bfd: { intervalMs: 100, multiplier: 3 } } });
  t.deepEqual(p.peers.map((x) => x.peerAddress), ['198.18.0.12', '198.18.0.13', '198.18.0.254']);
  t.true(p.peers.find((x) => x.peerAddress === '198.18.0.254')!.exportLocalOnly, 'an external peer gets only what the node owns');
  t.deepEqual(p.bfdPeers.map((b) => [b.address, b.timers, b.source]), [
    ['198.18.0.12', { minTxMs: 100, minRxMs: 100, detectMult: 3 }, 'config'],
    ['198.18.0.13', { minTxMs: 100, minRxMs: 100, detectMult: 3 }, 'config'],
    ['198.18.0.254', { minTxMs: 60, minRxMs: 50, detectMult: 4 }, 'BFDProfile metallb-system/fast'],
  ]);
  t.deepEqual(p.localRoutes, [{ prefix: '10.244.1.0/24' }]);
});

test('bfd: false leaves only BFDProfile peers; a missing profile is a named problem, the peer still peers', (t) => {
  const p = plan({ peers: [tor], bgp: { bfd: false } });
  t.deepEqual(p.bfdPeers, []);
  t.true(p.peers.some((x) => x.peerAddress === '198.18.0.254'));
  t.deepEqual(p.problems, ['BGPPeer metallb-system/tor: spec.bfdProfile "fast" names no BFDProfile in namespace metallb-system; no BFD for 198.18.0.254']);
});

test('route reflector server: every other node is a client except the listed reflectors; no mesh-size warning', (t) => {
  const p = plan({ bgp: { mode: 'route-reflector-client', routeReflectors: ['198.18.0.11', '198.18.0.13'], routeReflectorServer: { clusterId: '198.18.0.11' } } });
  t.deepEqual(p.peers.map((x) => [x.peerAddress, x.routeReflectorClient ?? false]), [['198.18.0.12', true], ['198.18.0.13', false]]);
  const client = planBgp({ self: nodes[1]!, nodes, peers: [], bfdProfiles: [], settings: readBgpSettings({ mode: 'route-reflector-client', routeReflectors: ['198.18.0.11'] }, 64512), serviceCidrs: [], servicePorts: [] }) as BgpPlan;
  t.deepEqual(client.peers.map((x) => x.peerAddress), ['198.18.0.11']);
});

test('advertise.podCIDR false and serviceClusterIPs: the service range as one prefix', (t) => {
  t.deepEqual(plan({ bgp: { advertise: { podCIDR: false, serviceClusterIPs: true } } }).localRoutes, [{ prefix: '10.96.0.0/16' }]);
});

function svc(name: string, etp: 'Local' | 'Cluster', extra: Partial<Service['spec']> = {}, lb?: string): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
    spec: { type: lb ? 'LoadBalancer' : 'ClusterIP', clusterIP: `10.96.0.${name.length}`, ports: [{ port: 80, protocol: 'TCP', nodePort: lb ? 30080 : undefined }], externalTrafficPolicy: etp, ...extra },
    ...(lb ? { status: { loadBalancer: { ingress: [{ ip: lb }] } } } : {}),
  };
}
function slice(service: string, nodeName: string, ready = true): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${service}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4', ports: [{ port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.9.9'], nodeName, conditions: { ready } }],
  };
}

test('service IPs: externalIPs and LB IPs as /32; with externalTrafficPolicy Local only where a ready endpoint runs', (t) => {
  const services = [
    svc('local', 'Local', { externalIPs: ['192.0.2.10'] }, '203.0.113.10'),
    svc('cluster', 'Cluster', { externalIPs: ['192.0.2.20'] }, '203.0.113.20'),
    svc('notready', 'Local', {}, '203.0.113.30'),
    svc('v6', 'Cluster', { externalIPs: ['2001:db8::20'] }),
  ];
  const slices = [slice('local', 'n1'), slice('cluster', 'n2'), slice('notready', 'n1', false)];
  const ports = (name: string) => compileServiceModel({ services, slices, node: { name, nodePortIPs: [] } }).ports;
  const advertise = { podCIDR: true, serviceClusterIPs: false, externalIPs: true, loadBalancerIPs: true };
  t.deepEqual(serviceRoutes({ advertise, serviceCidrs: [], ports: ports('n1') }).map((r) => r.prefix), ['192.0.2.10/32', '192.0.2.20/32', '203.0.113.10/32', '203.0.113.20/32']);
  t.deepEqual(serviceRoutes({ advertise, serviceCidrs: [], ports: ports('n2') }).map((r) => r.prefix), ['192.0.2.20/32', '203.0.113.20/32'], 'n2 runs no endpoint of the Local services');
  t.deepEqual(serviceRoutes({ advertise: { ...advertise, externalIPs: false }, serviceCidrs: [], ports: ports('n1') }).map((r) => r.prefix), ['203.0.113.10/32', '203.0.113.20/32']);
});
