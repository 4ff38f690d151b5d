/**
 * iptables planner and restore text (kube-proxy iptables proxier_test.go style): statistic cascade, REJECT vs
 * DROP without endpoints, NodePorts only on the chosen node addresses, and a partial restore.
 */
import test from 'ava';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { planIptables, svcChain } from '../../../src/services/iptables/iptPlanner.ts';
import { renderIptTable } from '../../../src/services/iptables/iptBackend.ts';
import { svc, ep, slice, NODE } from './_modelFixtures.ts';
import type { Service, EndpointSlice } from '../../../src/store/types.ts';

const plan = (services: Service[], slices: EndpointSlice[]) =>
  planIptables(compileServiceModel({ services, slices, node: NODE }), { clusterCIDRs: ['10.244.0.0/16'] });

test('three endpoints: probabilities 1/3, 1/2, then the last unconditionally; DNAT in SEP chains', (t) => {
  const d = plan([svc('web', {})], [slice('web', [ep('10.244.1.5'), ep('10.244.2.5'), ep('10.244.3.5')])]);
  const m = compileServiceModel({ services: [svc('web', {})], slices: [], node: NODE });
  const rules = d.nat.get(svcChain(m.ports[0]!))!;
  t.is(rules[0], '! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j PODNET-MARK-MASQ');
  t.regex(rules[1]!, /--probability 0\.3333333333 -j PODNET-SEP-[0-9A-F]{16}$/);
  t.regex(rules[2]!, /--probability 0\.5000000000 -j PODNET-SEP-/);
  t.regex(rules[3]!, /^-j PODNET-SEP-/);
  const seps = [...d.nat.entries()].filter(([n]) => n.startsWith('PODNET-SEP-'));
  t.is(seps.length, 3);
  t.true(seps.every(([n]) => n.length <= 28), 'iptables chain names fit 28 characters');
});

test('no endpoints → REJECT; ITP Local with endpoints elsewhere → DROP; NodePort only on node addresses', (t) => {
  const d = plan([svc('a', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30001 }] }), svc('b', { clusterIP: '10.96.0.11', internalTrafficPolicy: 'Local' })],
    [slice('b', [ep('10.244.2.5', { nodeName: 'node-b' })])]);
  const reject = d.filter.get('PODNET-REJECT')!;
  t.true(reject.some((r) => r.startsWith('-d 10.96.0.10/32') && r.endsWith('-j REJECT')));
  t.true(reject.some((r) => r.includes('--dport 30001') && r.includes('--dst-type LOCAL') && r.endsWith('-j REJECT')));
  t.true(reject.some((r) => r.startsWith('-d 10.96.0.11/32') && r.endsWith('-j DROP')));
  t.deepEqual(d.nat.get('PODNET-SERVICES')!.filter((r) => r.includes('PODNET-NODEPORTS')), ['-d 198.18.0.11/32 -j PODNET-NODEPORTS']);
});

test('restore text: full declares every chain; partial only changed ones and deletes removed ones', (t) => {
  const a = plan([svc('web', {})], [slice('web', [ep('10.244.1.5'), ep('10.244.2.5')])]);
  const b = plan([svc('web', {})], [slice('web', [ep('10.244.1.5')])]);
  const full = renderIptTable('nat', null, a.nat);
  t.regex(full, /^\*nat\n:PODNET-SERVICES - \[0:0\]/);
  t.regex(full, /COMMIT\n$/);
  const partial = renderIptTable('nat', a.nat, b.nat);
  t.notRegex(partial, /PODNET-SERVICES|PODNET-POSTROUTING/);
  t.regex(partial, /^-X PODNET-SEP-/m);
  t.is(renderIptTable('nat', b.nat, b.nat), '');
});
