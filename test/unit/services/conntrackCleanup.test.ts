/**
 * Which UDP conntrack entries a sync makes stale (kube-proxy pkg/proxy/conntrack/cleanup_test.go, in spirit):
 * removed endpoints of UDP ports, and UDP ports that gain their first endpoint; never TCP.
 */
import test from 'ava';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { staleConntrackFilters, conntrackArgs } from '../../../src/services/conntrackCleanup.ts';
import { svc, ep, slice, NODE } from './_modelFixtures.ts';

const dns = svc('dns', { type: 'NodePort', ports: [{ name: 'dns', protocol: 'UDP', port: 53, nodePort: 30053 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }] });
const ports = [{ name: 'dns', protocol: 'UDP' as const, port: 5353 }, { name: 'dns-tcp', protocol: 'TCP' as const, port: 5353 }];
const model = (ips: string[]) => compileServiceModel({ services: [dns], slices: [slice('dns', ips.map((i) => ep(i)), { ports })], node: NODE });

test('a removed UDP endpoint: entries to the ClusterIP and the NodePort DNATed to it', (t) => {
  const f = staleConntrackFilters(model(['10.244.1.5', '10.244.2.5']), model(['10.244.2.5']));
  t.deepEqual(f.map(conntrackArgs), [
    ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '53', '--orig-dst', '10.96.0.10', '--reply-src', '10.244.1.5'],
    ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '30053', '--reply-src', '10.244.1.5'],
  ]);
});

test('first endpoint of a UDP port: entries to its addresses, whatever their reply source', (t) => {
  const f = staleConntrackFilters(model([]), model(['10.244.1.5']));
  t.deepEqual(f.map((x) => [x.origDst, x.origPortDst, x.replySrc]), [['10.96.0.10', 53, null], [null, 30053, null]]);
});

test('no change, first sync, or TCP-only change: nothing to delete', (t) => {
  t.deepEqual(staleConntrackFilters(model(['10.244.1.5']), model(['10.244.1.5'])), []);
  t.deepEqual(staleConntrackFilters(null, model(['10.244.1.5'])), []);
  const tcpOnly = svc('web', { clusterIP: '10.96.0.11' });
  const m = (ips: string[]) => compileServiceModel({ services: [tcpOnly], slices: [slice('web', ips.map((i) => ep(i)))], node: NODE });
  t.deepEqual(staleConntrackFilters(m(['10.244.1.5']), m([])), []);
});
