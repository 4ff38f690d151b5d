import test from 'ava';
import { AllocationLedger } from '../../../src/controller/allocationLedger.ts';
import type { Service } from '../../../src/store/types.ts';

const small = { serviceCIDR: '10.96.0.0/28', nodePortRange: [30000, 30003] as [number, number], reserved: ['10.96.0.10'] };
const svc = (name: string, spec: Partial<Service['spec']> = {}, created = '2026-01-01T00:00:00Z'): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', creationTimestamp: created, resourceVersion: '1' },
  spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

test('allocations in flight hold their addresses: none is handed out twice before the writes are seen', (t) => {
  const ledger = new AllocationLedger(small);
  const names = Array.from({ length: 13 }, (_, i) => `s${i}`);
  for (const n of names) ledger.observe(svc(n));
  const plans = names.map((n) => ledger.plan(`default/${n}`));
  const ips = plans.flatMap((p) => p.allocation?.clusterIPs ?? []);
  t.is(ips.length, 12, '16 addresses minus network, .1, broadcast and the DNS address');
  t.is(new Set(ips).size, 12);
  t.deepEqual(plans[12]!.allocProblems, ['Service default/s12: the service CIDR 10.96.0.0/28 is full; no clusterIP allocated']);
  t.true(ledger.isPending('default/s0'));
  // s0's write fails: its address is free again, and the Service that found the range full is worth a retry.
  const affected = ledger.settle('default/s0', undefined);
  t.true(affected.has('default/s12'));
  const retry = ledger.plan('default/s12');
  t.deepEqual(retry.allocation?.clusterIPs, plans[0]!.allocation!.clusterIPs);
});

test('a written allocation becomes the Service\'s own claim once its update is seen', (t) => {
  const ledger = new AllocationLedger(small);
  ledger.observe(svc('a'));
  const ip = ledger.plan('default/a').allocation!.clusterIP!;
  ledger.settle('default/a', '2');
  t.true(ledger.isPending('default/a'), 'written, not yet seen');
  ledger.observe({ ...svc('a', { clusterIP: ip, clusterIPs: [ip] }), metadata: { ...svc('a').metadata, resourceVersion: '2' } });
  t.false(ledger.isPending('default/a'));
  ledger.observe(svc('b', { clusterIP: ip }, '2026-02-01T00:00:00Z'));
  t.deepEqual(ledger.plan('default/b').claimProblems, [`Service default/b: spec.clusterIP ${ip} is already allocated to Service default/a; rejected`]);
});

test('when the older holder of a clashing value goes, the newer Service owns it and gets what it was missing', (t) => {
  const ledger = new AllocationLedger(small);
  ledger.observe(svc('old', { clusterIP: '10.96.0.5', type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 30001 }] }));
  ledger.observe(svc('new', { clusterIP: '10.96.0.5', type: 'NodePort', ports: [{ port: 80, protocol: 'TCP' }] }, '2026-03-01T00:00:00Z'));
  const blocked = ledger.plan('default/new');
  t.deepEqual(blocked.claimProblems, ['Service default/new: spec.clusterIP 10.96.0.5 is already allocated to Service default/old; rejected']);
  t.is(blocked.allocation, undefined);
  const affected = ledger.forget('default/old');
  t.deepEqual([...affected], ['default/new']);
  const now = ledger.plan('default/new');
  t.deepEqual(now.claimProblems, []);
  t.is(now.allocation?.nodePorts.size, 1);
  t.true([30000, 30001, 30002, 30003].includes(now.allocation!.nodePorts.get(0)!));
});
