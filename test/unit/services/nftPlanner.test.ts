/**
 * nftables planner and transaction renderer: the model of each kube-proxy behaviour becomes the expected rules
 * (kube-proxy's nftables proxier_test.go asserts rulesets the same way), and a diff carries only the change.
 */
import test from 'ava';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { planNftables, planNftablesParts, NftPlanCache } from '../../../src/services/nftables/nftPlanner.ts';
import { SLOTS_PER_MAP } from '../../../src/services/nftables/nftDispatchMaps.ts';
import { renderIncremental, renderFull } from '../../../src/services/nftables/nftTransaction.ts';
import { NftApplier } from '../../../src/services/nftables/nftApplier.ts';
import { FakeNftRunner } from '../../../src/services/nftables/nftRunner.ts';
import { svc, ep, slice, NODE } from './_modelFixtures.ts';
import type { Service, EndpointSlice } from '../../../src/store/types.ts';

// Most rows use kube-proxy's per-endpoint-chain layout (easiest to compare with its tests); the inline default
// has its own rows below.
const OPTS = { clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false, endpointChains: true };
function plan(services: Service[], slices: EndpointSlice[] = [], family: 'ip' | 'ip6' = 'ip', opts = OPTS) {
  return planNftables(compileServiceModel({ services, slices, node: NODE }), family, opts);
}
const INLINE = { ...OPTS, endpointChains: false };
const CASCADE = { ...INLINE, dispatch: 'cascade' as const };
const chainNamed = (d: ReturnType<typeof plan>, prefix: string) => [...d.chains.entries()].filter(([n]) => n.startsWith(prefix));

test('ClusterIP with two endpoints: vmap element, masquerade of off-cluster sources, random cascade, endpoint chains', (t) => {
  const d = plan([svc('web', {})], [slice('web', [ep('10.244.1.5'), ep('10.244.2.5')])]);
  const [[svcName, rules]] = chainNamed(d, 'svc-') as [[string, string[]]];
  t.regex(svcName, /^svc-[0-9A-F]{8}-ns\/web\/tcp\/http$/);
  t.is(d.maps['service-ips'].get('10.96.0.10 . tcp . 80'), `goto ${svcName}`);
  t.is(rules[0], 'ip daddr 10.96.0.10 tcp dport 80 ip saddr != @cluster-cidrs jump mark-for-masquerade');
  t.deepEqual([...d.sets['cluster-cidrs']], ['10.244.0.0/16']);
  t.regex(rules[1]!, /^numgen random mod 2 0 goto ep-[0-9A-F]{8}-ns\/web\/tcp\/http__10\.244\.1\.5\/8080$/);
  t.regex(rules[2]!, /^goto ep-.*__10\.244\.2\.5\/8080$/);
  const eps = chainNamed(d, 'ep-');
  t.is(eps.length, 2);
  t.deepEqual(eps[0]![1], ['ip saddr 10.244.1.5 jump mark-for-masquerade', 'meta l4proto tcp dnat to 10.244.1.5:8080']);
  t.true(d.sets['cluster-ips'].has('10.96.0.10'));
});

test('inline (default): one dispatch rule, the endpoints are elements of the port\'s interval map', (t) => {
  const d = plan([svc('web', {})], [slice('web', [ep('10.244.1.5'), ep('10.244.2.5'), ep('10.244.3.5')])], 'ip', INLINE);
  t.deepEqual(chainNamed(d, 'ep-'), []);
  const rules = chainNamed(d, 'svc-')[0]![1];
  const [[name, map]] = [...d.dispatchMaps] as [[string, { proto: string; elements: Map<string, string> }]];
  t.is(name, 'eps-tcp-0', 'the first slot of the first shared tcp map');
  t.deepEqual(rules.slice(1), [`meta l4proto tcp dnat ip to numgen random mod 65536 map @${name}`]);
  t.deepEqual([...map.elements], [['0-21844', '10.244.1.5 . 8080'], ['21845-43689', '10.244.2.5 . 8080'], ['43690-65535', '10.244.3.5 . 8080']],
    'three near-equal ranges covering the whole key space');
  t.deepEqual([...d.sets['hairpin-pairs']].sort(), ['10.244.1.5 . 10.244.1.5', '10.244.2.5 . 10.244.2.5', '10.244.3.5 . 10.244.3.5']);
  const fewer = plan([svc('web', {})], [slice('web', [ep('10.244.1.5'), ep('10.244.3.5')])], 'ip', INLINE);
  t.deepEqual(chainNamed(fewer, 'svc-')[0]![1], rules, 'an endpoint removed: the rules are unchanged, only elements differ');
});

test('shared dispatch maps: each port owns a slot (numgen offset) of a map of its protocol; slots survive changes and are reused only after a sync', (t) => {
  const names = Array.from({ length: SLOTS_PER_MAP + 2 }, (_, i) => `s${i}`);
  const services = names.map((n, i) => svc(n, { clusterIP: `10.96.1.${i + 1}`, ports: [{ name: 'http', protocol: i === 0 ? 'UDP' : 'TCP', port: 80, targetPort: 8080 }] }));
  const slices = names.map((n, i) => slice(n, [ep(`10.244.1.${i + 1}`)], { ports: [{ name: 'http', protocol: i === 0 ? 'UDP' : 'TCP', port: 8080 }] }));
  const cache = new NftPlanCache();
  const model = (svcs: Service[], sl: EndpointSlice[]) => compileServiceModel({ services: svcs, slices: sl, node: NODE });
  const sync = (svcs: Service[], sl: EndpointSlice[]) => {
    planNftablesParts(model(svcs, sl), 'ip', INLINE, cache);
    return planNftables(model(svcs, sl), 'ip', INLINE, cache);
  };
  const rule = (d: ReturnType<typeof plan>, svcName: string) => [...d.chains].find(([n]) => n.includes(`/${svcName}/`))![1].at(-1)!;
  const d = sync(services, slices);
  t.deepEqual([...d.dispatchMaps.keys()].sort(), ['eps-tcp-0', 'eps-tcp-1', 'eps-udp-0'], `${SLOTS_PER_MAP} slots per map`);
  t.is(d.dispatchMaps.get('eps-tcp-0')!.elements.size + d.dispatchMaps.get('eps-tcp-1')!.elements.size, SLOTS_PER_MAP + 1);
  const slotRules = new Set(names.slice(1).map((n) => rule(d, n)));
  t.is(slotRules.size, SLOTS_PER_MAP + 1, 'every tcp port has its own slot');
  t.regex(rule(d, 's2'), /numgen random mod 65536 offset \d+ map @eps-tcp-\d$/);
  // Endpoints of s2 change: same rule, other elements.
  const moved = slices.map((x, i) => (i === 2 ? slice('s2', [ep('10.244.9.9'), ep('10.244.9.8')]) : x));
  const d2 = sync(services, moved);
  t.is(rule(d2, 's2'), rule(d, 's2'), 'the slot (and so the rule) stays');
  // s2 deleted, s99 created in the same sync: s99 must not take s2's slot (its elements are deleted by that sync).
  const s99 = svc('s99', { clusterIP: '10.96.2.1' });
  const without = [...services.filter((_, i) => i !== 2), s99];
  const sl99 = [...moved.filter((_, i) => i !== 2), slice('s99', [ep('10.244.2.1')])];
  const d3 = sync(without, sl99);
  t.not(rule(d3, 's99').replace(/^.*(offset \d+ )?map/, ''), '', 'planned');
  t.notDeepEqual(rule(d3, 's99').match(/(offset \d+ )?map @\S+$/)![0], rule(d, 's2').match(/(offset \d+ )?map @\S+$/)![0]);
  // One sync later a new port reuses the freed slot.
  const s100 = svc('s100', { clusterIP: '10.96.2.2' });
  const d4 = sync([...without, s100], [...sl99, slice('s100', [ep('10.244.2.2')])]);
  t.is(rule(d4, 's100').match(/(offset \d+ )?map @\S+$/)![0], rule(d, 's2').match(/(offset \d+ )?map @\S+$/)![0]);
  t.is(rule(d4, 's99'), rule(d3, 's99'));
});

test('inline cascade (dispatch: cascade): the cascade DNATs directly, no endpoint chains, hairpin pairs in a set', (t) => {
  const d = plan([svc('web', {})], [slice('web', [ep('10.244.1.5'), ep('10.244.2.5')])], 'ip', CASCADE);
  t.deepEqual(chainNamed(d, 'ep-'), []);
  const rules = chainNamed(d, 'svc-')[0]![1];
  t.deepEqual(rules.slice(1), ['meta l4proto tcp numgen random mod 2 0 dnat to 10.244.1.5:8080', 'meta l4proto tcp dnat to 10.244.2.5:8080']);
  t.deepEqual([...d.sets['hairpin-pairs']].sort(), ['10.244.1.5 . 10.244.1.5', '10.244.2.5 . 10.244.2.5']);
});

test('inline with affinity: a sticky rule per endpoint refreshes its set, the random choice records the client', (t) => {
  const d = plan([svc('a', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], [slice('a', [ep('10.244.1.5'), ep('10.244.2.5')])], 'ip', INLINE);
  const rules = chainNamed(d, 'svc-')[0]![1];
  t.regex(rules[1]!, /^ip saddr @(aff-[0-9A-F]{8}) meta l4proto tcp update @\1 \{ ip saddr \} dnat to 10\.244\.1\.5:8080$/);
  t.regex(rules[3]!, /^meta l4proto tcp numgen random mod 2 0 update @aff-[0-9A-F]{8} \{ ip saddr \} dnat to 10\.244\.1\.5:8080$/);
  t.is(d.affinitySets.size, 2);
});

test('IPv6 inline: bracketed DNAT targets (cascade), `dnat ip6 to … map` with whole addresses (maps)', (t) => {
  const d = plan([svc('d', { clusterIPs: ['fd00:96::20'] })], [slice('d', [ep('fd00:244::5')], { family: 'IPv6' })], 'ip6', CASCADE);
  t.deepEqual(chainNamed(d, 'svc-')[0]![1].at(-1), 'meta l4proto tcp dnat to [fd00:244::5]:8080');
  const m = plan([svc('d', { clusterIPs: ['fd00:96::20'] })], [slice('d', [ep('fd00:244::5')], { family: 'IPv6' })], 'ip6', INLINE);
  t.regex(chainNamed(m, 'svc-')[0]![1].at(-1)!, /^meta l4proto tcp dnat ip6 to numgen random mod 65536 map @eps-/);
  t.deepEqual([...[...m.dispatchMaps.values()][0]!.elements], [['0-65535', 'fd00:244::5 . 8080']]);
});

test('no endpoints → reject; ITP Local with endpoints only elsewhere → drop', (t) => {
  const d = plan([svc('a', {}), svc('b', { clusterIP: '10.96.0.11', internalTrafficPolicy: 'Local' })], [slice('b', [ep('10.244.2.5', { nodeName: 'node-b' })])]);
  t.is(d.maps['no-endpoint-services'].get('10.96.0.10 . tcp . 80'), 'goto reject-chain');
  t.is(d.maps['no-endpoint-services'].get('10.96.0.11 . tcp . 80'), 'drop');
  t.is(d.maps['service-ips'].size, 0);
});

test('NodePort, externalIP and LB IP go to the external chain; ETP Cluster masquerades and reuses the service chain', (t) => {
  const s = svc('np', { type: 'LoadBalancer', externalIPs: ['203.0.113.250'], ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] },
    { status: { loadBalancer: { ingress: [{ ip: '198.18.0.200' }] } } });
  const d = plan([s], [slice('np', [ep('10.244.1.5')])]);
  const [[ext, rules]] = chainNamed(d, 'ext-') as [[string, string[]]];
  t.is(d.maps['service-nodeports'].get('tcp . 30080'), `goto ${ext}`);
  t.is(d.maps['service-ips'].get('203.0.113.250 . tcp . 80'), `goto ${ext}`);
  t.is(d.maps['service-ips'].get('198.18.0.200 . tcp . 80'), `goto ${ext}`);
  t.deepEqual(rules, ['jump mark-for-masquerade', `goto ${chainNamed(d, 'svc-')[0]![0]}`]);
  t.deepEqual([...d.sets['nodeport-ips']], ['198.18.0.11'], 'no 127.0.0.1 NodePort');
});

test('ETP Local: local endpoints only, host traffic short-circuits to the cluster chain, no local endpoint → drop', (t) => {
  const s = svc('l', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30081 }] });
  const d = plan([s], [slice('l', [ep('10.244.1.5', { nodeName: 'node-a' }), ep('10.244.2.5', { nodeName: 'node-b' })])]);
  const rules = chainNamed(d, 'ext-')[0]![1];
  t.is(rules[0], 'fib saddr type local jump mark-for-masquerade');
  t.regex(rules[1]!, /^fib saddr type local goto svc-/);
  t.regex(rules[2]!, /^goto ep-.*10\.244\.1\.5/);
  t.is(rules.length, 3);
  const none = plan([s], [slice('l', [ep('10.244.2.5', { nodeName: 'node-b' })])]);
  t.is(none.maps['no-endpoint-nodeports'].get('tcp . 30081'), 'drop');
});

test('sessionAffinity: one timed set per endpoint, checked before the random choice, updated in the endpoint chain', (t) => {
  const d = plan([svc('a', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], [slice('a', [ep('10.244.1.5'), ep('10.244.2.5')])]);
  t.deepEqual([...d.affinitySets.values()], [60, 60]);
  const rules = chainNamed(d, 'svc-')[0]![1];
  t.regex(rules[1]!, /^ip saddr @aff-[0-9A-F]{8} goto ep-/);
  t.regex(rules[3]!, /^numgen random mod 2 0 goto/);
  t.regex(chainNamed(d, 'ep-')[0]![1][1]!, /^update @aff-[0-9A-F]{8} \{ ip saddr \}$/);
});

test('loadBalancerSourceRanges: firewall chain for the LB IP only', (t) => {
  const s = svc('fw', { type: 'LoadBalancer', loadBalancerSourceRanges: ['192.0.2.0/24'], ports: [{ name: 'http', port: 80, nodePort: 30082 }] },
    { status: { loadBalancer: { ingress: [{ ip: '198.18.0.201' }] } } });
  const d = plan([s], [slice('fw', [ep('10.244.1.5')])]);
  const [[fw, rules]] = chainNamed(d, 'fw-') as [[string, string[]]];
  t.deepEqual(rules, ['ip saddr != { 192.0.2.0/24 } drop']);
  t.deepEqual([...d.maps['firewall-ips'].entries()], [['198.18.0.201 . tcp . 80', `goto ${fw}`]]);
});

test('IPv6 table: ip6 matches and bracketed DNAT targets; IPv4 ports stay out', (t) => {
  const s = svc('d', { clusterIPs: ['10.96.0.20', 'fd00:96::20'] });
  const d = plan([s], [slice('d', [ep('fd00:244::5')], { family: 'IPv6' })], 'ip6');
  t.deepEqual([...d.maps['service-ips'].keys()], ['fd00:96::20 . tcp . 80']);
  const [[name, rules]] = chainNamed(d, 'ep-') as [[string, string[]]];
  t.notRegex(name, /:/, 'no colon in a chain name');
  t.is(rules[1], 'meta l4proto tcp dnat to [fd00:244::5]:8080');
});

test('incremental transaction: only the changed service; nothing when nothing changed; removed chains flushed then deleted', (t) => {
  const services = [svc('web', {}), svc('other', { clusterIP: '10.96.0.30' })];
  const a = plan(services, [slice('web', [ep('10.244.1.5'), ep('10.244.2.5')]), slice('other', [ep('10.244.3.5')])]);
  const b = plan(services, [slice('web', [ep('10.244.1.5')]), slice('other', [ep('10.244.3.5')])]);
  t.is(renderIncremental(a, a).text, '');
  const { text, stats } = renderIncremental(a, b);
  const lines = text.trim().split('\n');
  t.true(lines.every((l) => l.includes('ns/web/')), text);
  t.is(lines.filter((l) => l.startsWith('flush chain')).length, 2, 'service chain rewritten, dropped endpoint chain flushed');
  t.regex(lines.at(-1)!, /^delete chain ip podnet-proxy ep-.*10\.244\.2\.5/);
  t.is(stats.chainsDeleted, 1);
  t.is(stats.elementsAdded + stats.elementsDeleted, 0, 'the vmap element still points at the same chain');
});

test('full transaction adopts: flushes only what exists, deletes stale podnet chains and sets, never the table', (t) => {
  const d = plan([svc('web', {})], [slice('web', [ep('10.244.1.5')])]);
  const svcChain = chainNamed(d, 'svc-')[0]![0];
  const { text } = renderFull(d, { tableExists: true, chains: new Set(['services', svcChain, 'svc-DEADBEEF-ns/gone/tcp/http']), sets: new Set(['cluster-ips', 'aff-0BADF00D']) });
  t.notRegex(text, /delete table|flush table/);
  t.regex(text, new RegExp(`flush chain ip podnet-proxy ${svcChain.replaceAll('/', '\\/')}\n`));
  t.regex(text, /flush map ip podnet-proxy service-ips/);
  t.regex(text, /delete chain ip podnet-proxy svc-DEADBEEF-ns\/gone\/tcp\/http/);
  t.regex(text, /delete set ip podnet-proxy aff-0BADF00D/);
  const fresh = renderFull(d, { tableExists: false, chains: new Set(), sets: new Set() }).text;
  t.notRegex(fresh, /flush/);
});

test('applier: first sync full, then diffs; a failed transaction makes the next sync full', async (t) => {
  const runner = new FakeNftRunner();
  const applier = new NftApplier(runner, 'ip');
  const a = plan([svc('web', {})], [slice('web', [ep('10.244.1.5')])]);
  const b = plan([svc('web', {})], [slice('web', [ep('10.244.2.5')])]);
  t.is((await applier.apply(a)).kind, 'full');
  t.is((await applier.apply(b)).kind, 'incremental');
  runner.failNext = true;
  await t.throwsAsync(applier.apply(a), { code: 'PODNET_NFT_TRANSACTION_FAILED' });
  t.is((await applier.apply(a)).kind, 'full');
  t.is(runner.applied.length, 3);
});
