/**
 * iptables planner and restore text (kube-proxy iptables proxier_test.go style): statistic cascade, REJECT vs
 * DROP without endpoints, NodePorts only on the chosen node addresses, a partial restore, IPv6, ClientIP
 * affinity (`-m recent`), loadBalancerSourceRanges, ETP Local's short-circuit and the unused-port reject.
 */
import test from 'ava';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { planIptables, svcChain } from '../../../src/services/iptables/iptPlanner.ts';
import { renderIptTable, renderClusterIPSet } from '../../../src/services/iptables/iptBackend.ts';
import { svc, ep, slice, NODE } from './_modelFixtures.ts';
import type { Service, EndpointSlice } from '../../../src/store/types.ts';

const plan = (services: Service[], slices: EndpointSlice[], family: 'IPv4' | 'IPv6' = 'IPv4') =>
  planIptables(compileServiceModel({ services, slices, node: NODE }), family, { clusterCIDRs: ['10.244.0.0/16', 'fd00:244::/56'], masqueradeAll: false });

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
  t.true(reject.some((r) => r.startsWith('-d 198.18.0.11/32') && r.includes('--dport 30001') && r.endsWith('-j REJECT')));
  t.false(reject.some((r) => r.includes('127.0.0.1')), 'no localhost NodePorts');
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

test('unused port: after the per-port rules, anything still addressed to a ClusterIP is rejected', (t) => {
  const d = plan([svc('web', {})], [slice('web', [ep('10.244.1.5')])]);
  const reject = d.filter.get('PODNET-REJECT')!;
  t.deepEqual(reject[0], '-m conntrack ! --ctstate NEW -j RETURN');
  t.is(reject.at(-1)!, '-m set --match-set PODNET-CLUSTER-IPS dst -m comment --comment "unused port" -j REJECT');
  t.deepEqual(d.clusterIPs, ['10.96.0.10']);
});

test('ClusterIP set: filled aside and swapped in whole, idempotent creates', (t) => {
  t.is(renderClusterIPSet('PODNET-CLUSTER-IPS6', 'IPv6', ['fd00:96::1']), [
    'create PODNET-CLUSTER-IPS6 hash:ip family inet6 maxelem 1048576',
    'create PODNET-CLUSTER-IPS6-TMP hash:ip family inet6 maxelem 1048576',
    'flush PODNET-CLUSTER-IPS6-TMP', 'add PODNET-CLUSTER-IPS6-TMP fd00:96::1',
    'swap PODNET-CLUSTER-IPS6-TMP PODNET-CLUSTER-IPS6', 'destroy PODNET-CLUSTER-IPS6-TMP', ''].join('\n'));
});

test('ClientIP affinity: a --rcheck per endpoint before the cascade, --set in the endpoint chain', (t) => {
  const s = svc('web', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
  const d = plan([s], [slice('web', [ep('10.244.1.5'), ep('10.244.2.5')])]);
  const m = compileServiceModel({ services: [s], slices: [], node: NODE });
  const rules = d.nat.get(svcChain(m.ports[0]!))!;
  t.regex(rules[1]!, /^-m recent --name (PODNET-SEP-\S+) --rcheck --seconds 60 --reap --rsource -j \1$/);
  t.regex(rules[3]!, /--probability 0\.5/);
  const sep = rules[1]!.split(' ')[3]!;
  t.true(d.nat.get(sep)!.includes(`-m recent --name ${sep} --set --rsource`));
});

test('LB source ranges: FW chain sends allowed sources on, the rest is dropped in filter', (t) => {
  const s = svc('lb', { type: 'LoadBalancer', loadBalancerSourceRanges: ['198.18.0.2/32'], ports: [{ name: 'http', port: 80, nodePort: 30002 }] },
    { status: { loadBalancer: { ingress: [{ ip: '198.18.0.200' }] } } });
  const d = plan([s], [slice('lb', [ep('10.244.1.5')])]);
  const svcs = d.nat.get('PODNET-SERVICES')!;
  const toFw = svcs.find((r) => r.startsWith('-d 198.18.0.200/32'))!;
  t.regex(toFw, /-j PODNET-FW-/);
  const fw = d.nat.get(toFw.split(' ').at(-1)!)!;
  t.deepEqual(fw.map((r) => r.replace(/PODNET-EXT-\S+/, 'EXT')), ['-s 198.18.0.2/32 -j EXT']);
  t.true(d.filter.get('PODNET-FIREWALL')!.some((r) => r.startsWith('-d 198.18.0.200/32') && r.endsWith('-j DROP')));
});

test('ETP Local: the node itself is masqueraded to any endpoint, others reach local endpoints only', (t) => {
  const s = svc('loc', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30003 }] });
  const d = plan([s], [slice('loc', [ep('10.244.1.5', { nodeName: 'node-a' }), ep('10.244.2.5', { nodeName: 'node-b' })])]);
  const ext = [...d.nat.entries()].find(([n]) => n.startsWith('PODNET-EXT-'))![1];
  t.is(ext[0], '-m addrtype --src-type LOCAL -j PODNET-MARK-MASQ');
  t.regex(ext[1]!, /^-m addrtype --src-type LOCAL -j PODNET-SVC-/);
  t.is(ext.length, 3, 'one local endpoint: one unconditional jump');
});

test('IPv6: /128 matches, bracketed DNAT, only IPv6 cluster CIDRs and node addresses', (t) => {
  const s = svc('v6', { type: 'NodePort', clusterIP: 'fd00:96::10', clusterIPs: ['fd00:96::10'], ipFamilies: ['IPv6'], ports: [{ name: 'http', port: 80, nodePort: 30004 }] });
  const d = plan([s], [slice('v6', [ep('fd00:244:1::5')], { family: 'IPv6' })], 'IPv6');
  const svcs = d.nat.get('PODNET-SERVICES')!;
  t.true(svcs.some((r) => r.startsWith('-d fd00:96::10/128 -p tcp')));
  t.true(svcs.includes('-d fd00::11/128 -j PODNET-NODEPORTS'));
  const sep = [...d.nat.entries()].find(([n]) => n.startsWith('PODNET-SEP-'))![1];
  t.is(sep.at(-1), '-p tcp -j DNAT --to-destination [fd00:244:1::5]:8080');
  const svcRules = [...d.nat.entries()].find(([n]) => n.startsWith('PODNET-SVC-'))![1];
  t.is(svcRules[0], '! -s fd00:244::/56 -d fd00:96::10/128 -p tcp -m tcp --dport 80 -j PODNET-MARK-MASQ');
  t.deepEqual(plan([s], [], 'IPv4').nat.get('PODNET-SERVICES'), ['-d 198.18.0.11/32 -j PODNET-NODEPORTS']);
});

test('full restore after a restart: chains a previous run left (and the plan lacks) are deleted, kept ones rewritten', (t) => {
  const next = plan([svc('web', {})], [slice('web', [ep('10.244.1.5')])]);
  const text = renderIptTable('nat', null, next.nat, ['PODNET-SERVICES', 'PODNET-SVC-0123456789ABCDEF']);
  t.regex(text, /^:PODNET-SVC-0123456789ABCDEF - \[0:0\]$/m, 'flushed first (it may still be referenced until the rewrite)');
  t.regex(text, /^-X PODNET-SVC-0123456789ABCDEF$/m);
  t.notRegex(text, /^-X PODNET-SERVICES$/m);
  t.regex(text, /^:PODNET-SERVICES - \[0:0\]$/m);
});
