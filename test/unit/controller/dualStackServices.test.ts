import test from 'ava';
import { planServiceAllocations, type AllocatorConfig } from '../../../src/controller/serviceAllocator.ts';
import { resolveServiceFamilies } from '../../../src/controller/ipFamilyPolicy.ts';
import { planEndpointSlices } from '../../../src/controller/endpointSlicePlanner.ts';
import type { Pod, Service } from '../../../src/store/types.ts';

const dual: AllocatorConfig = { serviceCIDR: '10.96.0.0/16', serviceCIDRs: ['10.96.0.0/16', 'fd00:10:96::/112'],
  nodePortRange: [30000, 32767], reserved: ['10.96.0.10'] };
const single: AllocatorConfig = { serviceCIDR: '10.96.0.0/16', nodePortRange: [30000, 32767], reserved: ['10.96.0.10'] };
const svc = (name: string, spec: Partial<Service['spec']> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { type: 'ClusterIP', selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});
const inV4 = /^10\.96\.\d+\.\d+$/;
const inV6 = /^fd00:10:96::[0-9a-f]{1,4}$/;

test('dual-stack cluster: SingleStack by default, PreferDualStack and RequireDualStack get both, primary first', (t) => {
  const plan = planServiceAllocations([
    svc('plain'), svc('prefer', { ipFamilyPolicy: 'PreferDualStack' }),
    svc('require6first', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] }),
    svc('only6', { ipFamilies: ['IPv6'] }),
  ], dual);
  t.deepEqual(plan.problems, []);
  const get = (n: string) => plan.allocations.find((a) => a.name === n)!;
  t.like(get('plain'), { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
  t.regex(get('plain').clusterIPs![0]!, inV4);
  t.is(get('plain').clusterIPs!.length, 1);
  t.like(get('prefer'), { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack' });
  t.regex(get('prefer').clusterIPs![0]!, inV4);
  t.regex(get('prefer').clusterIPs![1]!, inV6);
  t.is(get('prefer').clusterIP, get('prefer').clusterIPs![0]);
  t.like(get('require6first'), { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' });
  t.regex(get('require6first').clusterIP!, inV6, 'clusterIP is the primary (first) family');
  t.regex(get('only6').clusterIPs![0]!, inV6);
  const all = plan.allocations.flatMap((a) => a.clusterIPs ?? []);
  t.is(new Set(all).size, all.length);
});

test('single-stack cluster: PreferDualStack falls back to one family; RequireDualStack and IPv6 are refused by name', (t) => {
  const plan = planServiceAllocations([
    svc('prefer', { ipFamilyPolicy: 'PreferDualStack' }),
    svc('require', { ipFamilyPolicy: 'RequireDualStack' }),
    svc('v6', { ipFamilies: ['IPv6'] }),
  ], single);
  t.deepEqual(plan.allocations.map((a) => [a.name, a.ipFamilies, a.clusterIPs?.length]), [['prefer', ['IPv4'], 1]]);
  t.deepEqual(plan.problems, [
    'Service default/require: spec.ipFamilyPolicy RequireDualStack, but this cluster is single-stack (its service CIDRs are IPv4 only); use PreferDualStack or SingleStack; no clusterIP allocated',
    'Service default/v6: spec.ipFamilies: IPv6 is not configured on this cluster (its service CIDRs are IPv4 only); no clusterIP allocated',
  ]);
});

test('explicit addresses are kept and the missing family added; a PreferDualStack upgrade keeps the IPv4 address', (t) => {
  const plan = planServiceAllocations([
    svc('upgrade', { clusterIP: '10.96.7.7', clusterIPs: ['10.96.7.7'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'PreferDualStack' }),
    svc('both', { clusterIPs: ['10.96.7.8', 'fd00:10:96::88'], ipFamilyPolicy: 'RequireDualStack' }),
    svc('clash', { clusterIPs: ['10.96.7.9', 'fd00:10:96::88'], ipFamilyPolicy: 'RequireDualStack' }),
  ], dual);
  const up = plan.allocations.find((a) => a.name === 'upgrade')!;
  t.is(up.clusterIPs![0], '10.96.7.7');
  t.regex(up.clusterIPs![1]!, inV6);
  t.falsy(plan.allocations.find((a) => a.name === 'both'), 'nothing missing: nothing to write');
  t.deepEqual(plan.problems, ['Service default/clash: spec.clusterIP fd00:10:96::88 is already allocated to Service default/both; rejected']);
});

test('inconsistent requests are problems naming the field', (t) => {
  const fams = ['IPv4', 'IPv6'] as const;
  t.deepEqual(resolveServiceFamilies(svc('x', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4', 'IPv6'] }), fams),
    { problem: 'spec.ipFamilyPolicy SingleStack allows one family, got IPv4 and IPv6 (use PreferDualStack or RequireDualStack)' });
  t.deepEqual(resolveServiceFamilies(svc('x', { ipFamilies: ['IPv6'], clusterIPs: ['10.96.0.5'] }), fams),
    { problem: 'spec.ipFamilies[0] is IPv6 but spec.clusterIPs[0] 10.96.0.5 is IPv4' });
  t.like(resolveServiceFamilies(svc('x', { ipFamilies: ['IPv4', 'IPv6'] }), fams), { policy: 'RequireDualStack', families: ['IPv4', 'IPv6'] },
    'two families without a policy: RequireDualStack, as the API server defaults it');
  t.like(resolveServiceFamilies(svc('h', { clusterIP: 'None', selector: {} }), fams), { policy: 'RequireDualStack' },
    'headless without selector on a dual-stack cluster');
});

const pod = (name: string, ips: string[]): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
  status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })), conditions: [{ type: 'Ready', status: 'True' }] },
});

test('EndpointSlices follow the Service\'s families: IPv4 and IPv6 slices for dual-stack, one for single-stack', (t) => {
  const pods = [pod('a', ['10.244.1.2', 'fd00:10:244:1::2']), pod('b', ['10.244.2.2', 'fd00:10:244:2::2'])];
  const dualSvc = svc('web', { clusterIPs: ['10.96.1.1', 'fd00:10:96::11'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
  const slices = planEndpointSlices(dualSvc, pods);
  t.deepEqual(slices.map((s) => [s.metadata.name, s.addressType, s.endpoints.map((e) => e.addresses[0])]), [
    ['web-podnet-v4-0', 'IPv4', ['10.244.1.2', '10.244.2.2']],
    ['web-podnet-v6-0', 'IPv6', ['fd00:10:244:1::2', 'fd00:10:244:2::2']],
  ]);
  const v4only = planEndpointSlices(svc('web', { clusterIP: '10.96.1.1', ipFamilies: ['IPv4'] }), pods);
  t.deepEqual(v4only.map((s) => s.addressType), ['IPv4'], 'a single-stack Service in a dual-stack cluster gets its own family only');
  const empty = planEndpointSlices(dualSvc, []);
  t.deepEqual(empty.map((s) => [s.addressType, s.endpoints.length]), [['IPv4', 0], ['IPv6', 0]], 'one placeholder per family');
});
