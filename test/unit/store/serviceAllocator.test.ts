import test from 'ava';
import { planServiceAllocations } from '../../../src/controller/serviceAllocator.ts';
import type { Service } from '../../../src/store/types.ts';

const cfg = { serviceCIDR: '10.96.0.0/16', nodePortRange: [30000, 32767] as [number, number], reserved: ['10.96.0.10'] };
const svc = (name: string, spec: Partial<Service['spec']> = {}, created = '2026-01-01T00:00:00Z'): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

test('services without a clusterIP get one from above the static band; explicit ones are kept', (t) => {
  const plan = planServiceAllocations([svc('a'), svc('dns', { clusterIP: '10.96.0.10' }), svc('headless', { clusterIP: 'None' }), svc('ext', { type: 'ExternalName', externalName: 'x' })], cfg);
  t.deepEqual(plan.problems, []);
  t.is(plan.allocations.length, 1);
  const ip = plan.allocations[0]!.clusterIP!;
  t.regex(ip, /^10\.96\.\d+\.\d+$/);
  const third = Number(ip.split('.')[2]);
  t.true(third >= 1, `${ip} is above the static band 10.96.0.0-10.96.0.255`);
});

test('10.96.0.10 and the first addresses are never handed out dynamically, even when they are all that is left', (t) => {
  const small = { ...cfg, serviceCIDR: '10.96.0.0/28' }; // 16 addresses, band of 16: everything is "static"
  const many = Array.from({ length: 20 }, (_, i) => svc(`s${i}`));
  const plan = planServiceAllocations(many, { ...small, reserved: ['10.96.0.10'] });
  const ips = plan.allocations.map((a) => a.clusterIP);
  t.false(ips.includes('10.96.0.10'));
  t.false(ips.includes('10.96.0.0'));
  t.false(ips.includes('10.96.0.1'));
  t.false(ips.includes('10.96.0.15'));
  t.is(new Set(ips).size, ips.length);
  t.is(ips.length, 12);
  t.true(plan.problems.some((p) => p.includes('the service CIDR 10.96.0.0/28 is full')));
});

test('a clash keeps the older service and names the newer one', (t) => {
  const plan = planServiceAllocations([
    svc('newer', { clusterIP: '10.96.0.50', type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] }, '2026-02-01T00:00:00Z'),
    svc('older', { clusterIP: '10.96.0.50' }, '2026-01-01T00:00:00Z'),
    svc('np', { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] }, '2026-01-15T00:00:00Z'),
  ], cfg);
  t.deepEqual(plan.problems, ['Service default/newer: spec.clusterIP 10.96.0.50 is already allocated to Service default/older; rejected',
    'Service default/newer: nodePort 30080 is already allocated to Service default/np; rejected']);
  t.deepEqual(plan.allocations.map((a) => a.name), ['np'], 'np gets a clusterIP; newer is left alone until fixed');
});

test('NodePort and LoadBalancer services get node ports for ports that lack one, distinct and in range', (t) => {
  const plan = planServiceAllocations([
    svc('np', { clusterIP: '10.96.5.5', type: 'NodePort', ports: [{ name: 'a', port: 80, protocol: 'TCP' }, { name: 'b', port: 443, protocol: 'TCP', nodePort: 30443 }] }),
    svc('lb', { clusterIP: '10.96.5.6', type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] }),
    svc('lb-no', { clusterIP: '10.96.5.7', type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }] }),
  ], cfg);
  const np = plan.allocations.find((a) => a.name === 'np')!;
  t.deepEqual([...np.nodePorts.keys()], [0]);
  const ports = plan.allocations.flatMap((a) => [...a.nodePorts.values()]);
  t.true(ports.every((p) => p >= 30000 && p <= 32767 && p !== 30443));
  t.is(new Set(ports).size, ports.length);
  t.falsy(plan.allocations.find((a) => a.name === 'lb-no'));
});
