/**
 * The nftables backend against a real kernel: rules applied inside a "node" namespace, real TCP/UDP traffic from
 * a client namespace to ClusterIPs and NodePorts, answered by backend namespaces (see proxyTopology.ts).
 * Modelled on kubernetes test/e2e/network/service.go ("should serve a basic endpoint", "should be rejected when no
 * endpoints exist", NodePort) and networking.go ("should recreate its rules if they are deleted").
 */
import test from 'ava';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel, type ServiceModel } from '../../../src/services/serviceModel.ts';
import { NftBackend } from '../../../src/services/nftables/nftBackend.ts';
import { svc, ep, slice } from '../../unit/services/_modelFixtures.ts';
import { buildTopology, answers, probe, nftIn, NODE_IP, isNoAnswer } from './_proxyTopology.ts';
import type { Service, EndpointSlice } from '../../../src/store/types.ts';

const PREFIX = uniquePrefix('pxn');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));

const NODE = { name: 'node', nodePortIPs: [NODE_IP] };
const web = svc('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [
  { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 },
  { name: 'udp', protocol: 'UDP', port: 81, targetPort: 8080 },
] });
const empty = svc('empty', { clusterIP: '10.96.0.20' });
const ports = [{ name: 'http', protocol: 'TCP' as const, port: 8080 }, { name: 'udp', protocol: 'UDP' as const, port: 8080 }];

function model(services: Service[], slices: EndpointSlice[]): ServiceModel {
  return compileServiceModel({ services, slices, node: NODE });
}

test.serial('ClusterIP and NodePort reach both backends; no endpoints → refused; unused port → refused', async (t) => {
  const topo = await buildTopology(t, `${PREFIX}a`);
  const backend = new NftBackend({ netns: topo.node, clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false });
  const eps = topo.backends.map((b) => ep(b.ip, { nodeName: 'node' }));
  const r = await backend.sync(model([web, empty], [slice('web', eps, { ports })]));
  t.is(r.kind, 'full');

  const listed = JSON.parse(await nftIn(topo.node, ['-j', 'list', 'map', 'ip', 'podnet-proxy', 'service-ips'])) as { nftables: Array<{ map?: { elem?: unknown[] } }> };
  const elems = listed.nftables.find((x) => x.map)!.map!.elem ?? [];
  t.is(elems.length, 2, 'one service-ips element per ClusterIP port');

  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 40), ['b1', 'b2'], 'random choice spreads over both backends');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 81, 40, 'udp'), ['b1', 'b2'], 'UDP port on the same ClusterIP');
  t.deepEqual(await answers(topo.client, NODE_IP, 30080, 40), ['b1', 'b2'], 'NodePort on the node address');
  t.is(await probe(topo.client, '10.96.0.20', 80), 'refused', 'no endpoints: rejected at once, not a timeout');
  t.is(await probe(topo.client, '10.96.0.10', 8443), 'refused', 'unused port on a live ClusterIP');
  t.is(await probe(topo.client, NODE_IP, 30081), 'refused', 'unallocated NodePort is not ours: plain closed port');
});

test.serial('an endpoint change is sent as a diff; a flushed table is detected and repaired; restart adopts', async (t) => {
  const topo = await buildTopology(t, `${PREFIX}b`);
  const opts = { netns: topo.node, clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false };
  const backend = new NftBackend(opts);
  const [b1, b2] = topo.backends;
  const other = svc('other', { clusterIP: '10.96.0.30' });
  const slices = (ips: string[]) => [slice('web', ips.map((i) => ep(i)), { ports }), slice('other', [ep(b1!.ip)], { ports })];
  await backend.sync(model([web, other], slices([b1!.ip, b2!.ip])));

  const r = await backend.sync(model([web, other], slices([b1!.ip])));
  t.is(r.kind, 'incremental');
  const tx = backend.appliers.ip.lastTransaction;
  t.notRegex(tx, /add table|add map|other|nat-prerouting/, 'no skeleton and no unrelated service in the diff');
  const lines = tx.trim().split('\n');
  // Ports sorted by id: ns/other has slot 0 of the shared map eps-tcp-0, ns/web slot 1 (keys 65536-131071); web's
  // UDP port is slot 0 of eps-udp-0.
  t.deepEqual(lines, [
    'delete element ip podnet-proxy eps-tcp-0 { 65536-98303, 98304-131071 }',
    'add element ip podnet-proxy eps-tcp-0 { 65536-131071 : 10.244.1.2 . 8080 }',
    'delete element ip podnet-proxy eps-udp-0 { 0-32767, 32768-65535 }',
    'add element ip podnet-proxy eps-udp-0 { 0-65535 : 10.244.1.2 . 8080 }',
    'delete element ip podnet-proxy hairpin-pairs { 10.244.2.2 . 10.244.2.2 }',
  ], `only web's endpoints (its slot of the shared map) and b2's hairpin pair change:\n${tx}`);
  t.notRegex(tx, /chain|rule/, 'map elements only: no rule is rewritten (no table re-validation in the kernel)');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 8), ['b1']);

  t.is((await backend.sync(model([web, other], slices([b1!.ip])))).kind, 'noop', 'nothing changed, nothing sent');

  await nftIn(topo.node, ['flush', 'table', 'ip', 'podnet-proxy']);
  t.true(isNoAnswer(await probe(topo.client, '10.96.0.10', 80)), 'flushed table: service broken');
  t.true(await backend.driftDetected());
  t.is((await backend.sync(model([web, other], slices([b1!.ip])))).kind, 'full');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 4), ['b1'], 'repaired');

  // A new podnetd adopts the table: full sync, no flush of the table, stale chains of a removed service go.
  const restarted = new NftBackend(opts);
  await restarted.sync(model([web], slices([b1!.ip, b2!.ip]).slice(0, 1)));
  const chains = await nftIn(topo.node, ['list', 'chains', 'ip']);
  t.notRegex(chains, /ns\/other\//, 'chains of the deleted service removed');
  t.notRegex(await nftIn(topo.node, ['list', 'maps', 'ip']), /ns\/other\//, 'and its endpoint dispatch map');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 40), ['b1', 'b2']);
  t.true(isNoAnswer(await probe(topo.client, '10.96.0.30', 80)), 'deleted service no longer answers');
  await restarted.cleanup();
  t.true(isNoAnswer(await probe(topo.client, '10.96.0.10', 80)), 'cleanup removed the table');
  t.deepEqual(await nftIn(topo.node, ['list', 'tables']), '', 'no podnet table left');
});
