import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { compileLbConfig } from '../../../src/lb/pools.ts';
import { describeRange } from '../../../src/lb/ipRange.ts';
import type { ConfigMap, IPAddressPool, L2Advertisement } from '../../../src/store/types.ts';

const legacy = parse(readFileSync(new URL('../../fixtures/lb/legacy-configmap.yaml', import.meta.url), 'utf8')) as ConfigMap;

function pool(name: string, addresses: string[]): IPAddressPool {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: 'metallb-system' }, spec: { addresses } };
}

test('the legacy ConfigMap yields its pools with their flags, and layer2 pools get an advertisement', (t) => {
  const c = compileLbConfig({ pools: [], advertisements: [], configMaps: [legacy] });
  t.deepEqual(c.problems, []);
  t.deepEqual(c.pools.map((p) => [p.name, p.protocol, p.autoAssign, p.avoidBuggyIPs, p.ranges.map(describeRange)]), [
    ['default', 'layer2', true, false, ['10.77.1.220-10.77.1.240']],
    ['cidr-pool', 'layer2', false, true, ['10.77.2.0-10.77.2.255', 'fd00:77::-fd00:77::ff']],
    ['bgp-pool', 'bgp', true, false, ['198.51.100.0-198.51.100.255']],
  ]);
  t.deepEqual(c.advertisements.map((a) => a.poolNames), [['default', 'cidr-pool']]);
});

test('a ConfigMap outside metallb-system/config is not MetalLB configuration', (t) => {
  const other = { ...legacy, metadata: { name: 'config', namespace: 'default' } };
  t.is(compileLbConfig({ pools: [], advertisements: [], configMaps: [other] }).pools.length, 0);
});

const bad: Array<[string, string, RegExp]> = [
  ['bad YAML', 'address-pools: [', /data\.config: not valid YAML/],
  ['unknown protocol', 'address-pools:\n- name: x\n  protocol: layer3\n  addresses: [10.0.0.0/24]', /address-pools\[0\]\.protocol: must be layer2 or bgp/],
  ['bad range', 'address-pools:\n- name: x\n  protocol: layer2\n  addresses: [10.0.0.9-10.0.0.1]', /addresses\[0\]: .*first address is after the last/],
  ['mixed families', 'address-pools:\n- name: x\n  protocol: layer2\n  addresses: ["10.0.0.1-fd00::1"]', /mixes IPv4 and IPv6/],
  ['bad prefix', 'address-pools:\n- name: x\n  protocol: layer2\n  addresses: [10.0.0.0/33]', /is not a CIDR: prefix length 33 is out of range 0\.\.32 for IPv4/],
  ['no name', 'address-pools:\n- protocol: layer2\n  addresses: [10.0.0.0/24]', /a pool needs a name/],
  ['flag not boolean', 'address-pools:\n- name: x\n  protocol: layer2\n  auto-assign: "yes"\n  addresses: [10.0.0.0/24]', /auto-assign: must be true or false/],
];
for (const [name, config, re] of bad) {
  test(`legacy ConfigMap problem is reported with the field: ${name}`, (t) => {
    const cm: ConfigMap = { ...legacy, data: { config } };
    const c = compileLbConfig({ pools: [], advertisements: [], configMaps: [cm] });
    t.true(c.problems.some((p) => p.object === 'ConfigMap metallb-system/config' && re.test(`${p.field}: ${p.message}`)), JSON.stringify(c.problems));
  });
}

test('overlapping or same-named pools are rejected by name; the CRD wins over the ConfigMap', (t) => {
  const c = compileLbConfig({ pools: [pool('default', ['10.0.0.0/24']), pool('z', ['10.0.0.128/25'])], advertisements: [], configMaps: [legacy] });
  t.deepEqual(c.pools.map((p) => p.origin), ['IPAddressPool metallb-system/default', 'ConfigMap metallb-system/config', 'ConfigMap metallb-system/config']);
  t.true(c.problems.some((p) => p.object === 'IPAddressPool metallb-system/z' && /overlaps 10\.0\.0\.0-10\.0\.0\.255 of pool "default"/.test(p.message)));
  t.true(c.problems.some((p) => p.object === 'ConfigMap metallb-system/config' && /already used by IPAddressPool/.test(p.message)));
});

test('an L2Advertisement naming a missing pool is reported', (t) => {
  const adv: L2Advertisement = { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2', namespace: 'metallb-system' }, spec: { ipAddressPools: ['ghost'] } };
  const c = compileLbConfig({ pools: [pool('p', ['10.0.0.0/24'])], advertisements: [adv], configMaps: [] });
  t.deepEqual(c.problems, [{ object: 'L2Advertisement metallb-system/l2', field: 'spec.ipAddressPools[0]', message: 'no pool named "ghost"' }]);
});
