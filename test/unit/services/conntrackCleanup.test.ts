/**
 * Which UDP conntrack entries a sync makes stale (kube-proxy pkg/proxy/conntrack/cleanup_test.go, in spirit):
 * removed endpoints of UDP ports, and UDP ports that gain their first endpoint; never TCP.
 */
import test from 'ava';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { planConntrackCleanup, conntrackArgs, parseConntrackListing, unansweredEntries, entryDeleteArgs } from '../../../src/services/conntrackCleanup.ts';
import { svc, ep, slice, NODE } from './_modelFixtures.ts';

const dns = svc('dns', { type: 'NodePort', ports: [{ name: 'dns', protocol: 'UDP', port: 53, nodePort: 30053 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }] });
const ports = [{ name: 'dns', protocol: 'UDP' as const, port: 5353 }, { name: 'dns-tcp', protocol: 'TCP' as const, port: 5353 }];
const model = (ips: string[], services = [dns]) => compileServiceModel({ services, slices: [slice('dns', ips.map((i) => ep(i)), { ports })], node: NODE });

test('a removed UDP endpoint: entries to the ClusterIP and the NodePort DNATed to it', (t) => {
  const plan = planConntrackCleanup(model(['10.244.1.5', '10.244.2.5']), model(['10.244.2.5']));
  t.deepEqual(plan.filters.map(conntrackArgs), [
    ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '53', '--orig-dst', '10.96.0.10', '--reply-src', '10.244.1.5'],
    ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '30053', '--reply-src', '10.244.1.5'],
  ]);
  t.deepEqual(plan.newlyActive, []);
});

test('first endpoint of a UDP port, a new UDP Service, and the first sync: its addresses are reconciled', (t) => {
  const want = [{ family: 'IPv4', address: '10.96.0.10', port: 53, endpoints: ['10.244.1.5'] }];
  t.deepEqual(planConntrackCleanup(model([]), model(['10.244.1.5'])), { filters: [], newlyActive: want }, 'no endpoints before');
  t.deepEqual(planConntrackCleanup(model([], []), model(['10.244.1.5'])), { filters: [], newlyActive: want }, 'no such Service before');
  t.deepEqual(planConntrackCleanup(null, model(['10.244.1.5'])), { filters: [], newlyActive: want }, 'the proxy\'s first sync');
});

test('no change, a port that already had endpoints, or a TCP-only change: nothing to delete or list', (t) => {
  const none = { filters: [], newlyActive: [] };
  t.deepEqual(planConntrackCleanup(model(['10.244.1.5']), model(['10.244.1.5'])), none);
  t.deepEqual(planConntrackCleanup(model(['10.244.1.5']), model(['10.244.1.5', '10.244.2.5'])), none);
  t.deepEqual(planConntrackCleanup(null, model([])), none, 'first sync, no endpoints: nothing can answer yet');
  const tcpOnly = svc('web', { clusterIP: '10.96.0.11' });
  const m = (ips: string[]) => compileServiceModel({ services: [tcpOnly], slices: [slice('web', ips.map((i) => ep(i)))], node: NODE });
  t.deepEqual(planConntrackCleanup(m(['10.244.1.5']), m([])), none);
  t.deepEqual(planConntrackCleanup(null, m(['10.244.1.5'])), none);
});

// `conntrack -L -p udp -f ipv4` as the lab printed it: a flow created before the first sync (not DNATed: its
// reply comes "from" the ClusterIP, masqueraded to the node), one DNATed to a current endpoint, one to a gone
// endpoint, one unrelated (BFD), and the tool's own summary line.
const LISTING = `udp      17 24 src=10.244.0.2 dst=10.96.0.10 sport=33148 dport=53 [UNREPLIED] src=10.96.0.10 dst=198.18.0.11 sport=53 dport=33148 mark=0 use=1
udp      17 119 src=10.244.0.2 dst=10.96.0.10 sport=55282 dport=53 src=10.244.1.5 dst=10.244.0.2 sport=5353 dport=55282 [ASSURED] mark=0 use=1
udp      17 30 src=10.244.0.3 dst=10.96.0.10 sport=40000 dport=53 src=10.244.9.9 dst=10.244.0.3 sport=5353 dport=40000 mark=0 use=1
udp      17 29 src=198.18.0.11 dst=198.18.0.13 sport=64166 dport=3784 [UNREPLIED] src=198.18.0.13 dst=198.18.0.11 sport=3784 dport=64166 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.`;

test('a listing: the entries to a newly active address that no current endpoint answers, each deleted by its tuple', (t) => {
  const entries = parseConntrackListing(LISTING, 'IPv4');
  t.is(entries.length, 4);
  t.deepEqual(entries[0], { family: 'IPv4', src: '10.244.0.2', dst: '10.96.0.10', sport: 33148, dport: 53, replySrc: '10.96.0.10' });
  const stale = unansweredEntries(entries, planConntrackCleanup(null, model(['10.244.1.5'])).newlyActive);
  t.deepEqual(stale.map((e) => e.sport), [33148, 40000], 'the un-DNATed flow and the one DNATed elsewhere; the current one and BFD stay');
  t.deepEqual(entryDeleteArgs(stale[0]!), ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-src', '10.244.0.2', '--orig-dst', '10.96.0.10', '--sport', '33148', '--dport', '53']);
});
