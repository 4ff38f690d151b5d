import test from 'ava';
import { Allocator } from '../../../src/lb/allocator.ts';
import { compileLbConfig } from '../../../src/lb/pools.ts';
import { allocationRequestOf } from '../../../src/lb/serviceRequest.ts';
import type { IPAddressPool, Service } from '../../../src/store/types.ts';

function pool(name: string, addresses: string[], spec: Partial<IPAddressPool['spec']> = {}, labels?: Record<string, string>): IPAddressPool {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: 'metallb-system', labels }, spec: { addresses, ...spec } };
}

interface SvcOpts {
  ns?: string; ip?: string; ips?: string; pool?: string; share?: string; ports?: number[]; proto?: 'TCP' | 'UDP';
  local?: boolean; selector?: Record<string, string>; labels?: Record<string, string>; families?: Array<'IPv4' | 'IPv6'>; dual?: boolean;
}

function svc(name: string, o: SvcOpts = {}): Service {
  const annotations: Record<string, string> = {};
  if (o.ips) annotations['metallb.io/loadBalancerIPs'] = o.ips;
  if (o.pool) annotations['metallb.io/address-pool'] = o.pool;
  if (o.share) annotations['metallb.io/allow-shared-ip'] = o.share;
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: o.ns ?? 'default', annotations, labels: o.labels },
    spec: {
      type: 'LoadBalancer', loadBalancerIP: o.ip, selector: o.selector ?? { app: name },
      ports: (o.ports ?? [80]).map((port) => ({ port, protocol: o.proto ?? 'TCP' })),
      externalTrafficPolicy: o.local ? 'Local' : 'Cluster', ipFamilies: o.families,
      ipFamilyPolicy: o.dual ? 'RequireDualStack' : undefined,
    },
  };
}

function allocatorWith(pools: IPAddressPool[], nsLabels: Record<string, Record<string, string>> = {}) {
  const a = new Allocator((ns) => nsLabels[ns] ?? {});
  a.setConfig(compileLbConfig({ pools, advertisements: [], configMaps: [] }));
  return a;
}

type Step = { svc: Service; want: string[] | string };
interface Case { name: string; pools: IPAddressPool[]; steps: Step[]; nsLabels?: Record<string, Record<string, string>> }

const cases: Case[] = [
  { name: 'first free address of a range', pools: [pool('p', ['10.0.0.10-10.0.0.12'])], steps: [
    { svc: svc('a'), want: ['10.0.0.10'] }, { svc: svc('b'), want: ['10.0.0.11'] }, { svc: svc('c'), want: ['10.0.0.12'] },
    { svc: svc('d'), want: 'poolExhausted' }] },
  { name: 'CIDR with avoidBuggyIPs skips .0 and .255', pools: [pool('p', ['10.0.0.255/31', '10.0.1.0/30'], { avoidBuggyIPs: true })], steps: [
    { svc: svc('a'), want: ['10.0.0.254'] }, { svc: svc('b'), want: ['10.0.1.1'] }] },
  { name: 'spec.loadBalancerIP honoured, in any pool even without autoAssign', pools: [pool('auto', ['10.0.0.1/32']), pool('manual', ['10.0.9.0/24'], { autoAssign: false })], steps: [
    { svc: svc('a', { ip: '10.0.9.7' }), want: ['10.0.9.7'] }, { svc: svc('b'), want: ['10.0.0.1'] }, { svc: svc('c'), want: 'poolExhausted' }] },
  { name: 'requested address outside every pool', pools: [pool('p', ['10.0.0.0/24'])], steps: [
    { svc: svc('a', { ip: '192.0.2.1' }), want: 'ipNotInAnyPool' }, { svc: svc('b', { ip: 'nonsense' }), want: 'invalidRequestedIp' }] },
  { name: 'requested address taken by a service that may not share', pools: [pool('p', ['10.0.0.0/24'])], steps: [
    { svc: svc('a', { ip: '10.0.0.5' }), want: ['10.0.0.5'] }, { svc: svc('b', { ip: '10.0.0.5' }), want: 'ipInUse' }] },
  { name: 'address-pool annotation picks the pool, also a manual one', pools: [pool('a', ['10.0.0.0/30']), pool('b', ['10.0.1.0/30'], { autoAssign: false })], steps: [
    { svc: svc('x', { pool: 'b' }), want: ['10.0.1.0'] }, { svc: svc('y', { pool: 'nope' }), want: 'unknownPool' },
    { svc: svc('z', { pool: 'a', ip: '10.0.1.1' }), want: 'ipNotInRequestedPool' }] },
  { name: 'loadBalancerIPs annotation, dual stack', pools: [pool('p', ['10.0.0.0/24', 'fd00::/120'])], steps: [
    { svc: svc('a', { ips: '10.0.0.9, fd00::9' }), want: ['10.0.0.9', 'fd00::9'] },
    { svc: svc('b', { dual: true }), want: ['10.0.0.0', 'fd00::'] },
    { svc: svc('c', { families: ['IPv6'] }), want: ['fd00::1'] }] },
  { name: 'sharing: same key, different ports', pools: [pool('p', ['10.0.0.1-10.0.0.2'])], steps: [
    { svc: svc('a', { share: 'k', ports: [80] }), want: ['10.0.0.1'] }, { svc: svc('b', { share: 'k', ports: [443] }), want: ['10.0.0.1'] },
    { svc: svc('c', { share: 'k', ports: [80] }), want: ['10.0.0.2'] }, { svc: svc('d', { share: 'other', ports: [22] }), want: 'poolExhausted' }] },
  { name: 'sharing: same port number on another protocol does not clash', pools: [pool('p', ['10.0.0.1/32'])], steps: [
    { svc: svc('tcp', { share: 'dns', ports: [53] }), want: ['10.0.0.1'] }, { svc: svc('udp', { share: 'dns', ports: [53], proto: 'UDP' }), want: ['10.0.0.1'] }] },
  { name: 'sharing with externalTrafficPolicy Local needs the same selector', pools: [pool('p', ['10.0.0.1/32'])], steps: [
    { svc: svc('a', { share: 'k', ports: [80], local: true, selector: { app: 'x' } }), want: ['10.0.0.1'] },
    { svc: svc('b', { share: 'k', ports: [81], local: true, selector: { app: 'y' } }), want: 'poolExhausted' },
    { svc: svc('c', { share: 'k', ports: [82], local: true, selector: { app: 'x' } }), want: ['10.0.0.1'] }] },
  { name: 'priority, then name; namespace and service selectors', nsLabels: { prod: { env: 'prod' } }, pools: [
    pool('z-low', ['10.0.3.0/30'], { serviceAllocation: { priority: 1, namespaces: ['team'] } }),
    pool('b-sel', ['10.0.2.0/30'], { serviceAllocation: { priority: 5, namespaceSelectors: [{ matchLabels: { env: 'prod' } }] } }),
    pool('a-any', ['10.0.1.0/30']),
    pool('c-svc', ['10.0.4.0/30'], { serviceAllocation: { priority: 2, serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }] } })], steps: [
    { svc: svc('t', { ns: 'team' }), want: ['10.0.3.0'] }, { svc: svc('p', { ns: 'prod' }), want: ['10.0.2.0'] },
    { svc: svc('w', { labels: { tier: 'web' } }), want: ['10.0.4.0'] }, { svc: svc('o', { ns: 'other' }), want: ['10.0.1.0'] }] },
  { name: 'no auto-assign pool accepts', pools: [pool('m', ['10.0.0.0/24'], { autoAssign: false })], steps: [{ svc: svc('a'), want: 'noPoolMatches' }] },
];

for (const c of cases) {
  test(`allocate: ${c.name}`, (t) => {
    const a = allocatorWith(c.pools, c.nsLabels);
    for (const [i, step] of c.steps.entries()) {
      const res = a.allocate(allocationRequestOf(step.svc));
      if (typeof step.want === 'string') {
        t.false(res.ok, `step ${i} (${step.svc.metadata.name})`);
        if (!res.ok) t.is(res.reason as string, step.want, `step ${i}: ${res.message}`);
      } else {
        t.deepEqual(res.ok ? res.ips : res, step.want, `step ${i} (${step.svc.metadata.name})`);
      }
    }
  });
}

test('a held address is kept across re-allocation and freed by release', (t) => {
  const a = allocatorWith([pool('p', ['10.0.0.1-10.0.0.2'])]);
  const s = allocationRequestOf(svc('a'));
  t.deepEqual(a.allocate(s), { ok: true, ips: ['10.0.0.1'], pool: 'p', changed: true });
  t.deepEqual(a.allocate(s), { ok: true, ips: ['10.0.0.1'], pool: 'p', changed: false });
  a.release(s.key);
  const b = a.allocate(allocationRequestOf(svc('b')));
  t.deepEqual(b.ok && b.ips, ['10.0.0.1']);
});

test('a config change that removes the address moves the service into the new pool', (t) => {
  const a = allocatorWith([pool('p', ['10.0.0.1/32'])]);
  const s = allocationRequestOf(svc('a'));
  a.allocate(s);
  a.setConfig(compileLbConfig({ pools: [pool('q', ['10.0.5.0/31'])], advertisements: [], configMaps: [] }));
  t.like(a.allocate(s), { ok: true, ips: ['10.0.5.0'], pool: 'q', changed: true });
});

test('a large IPv6 pool allocates without enumerating it', (t) => {
  const a = allocatorWith([pool('v6', ['2001:db8::/64'])]);
  const ips = Array.from({ length: 50 }, (_, i) => {
    const r = a.allocate(allocationRequestOf(svc(`s${i}`, { families: ['IPv6'] })));
    return r.ok ? r.ips[0] : r.reason;
  });
  t.is(new Set(ips).size, 50);
  t.is(ips[49], '2001:db8::31');
});
