/**
 * A UDP client keeps sending from one source port to a ClusterIP; its endpoint is replaced. Without cleanup the
 * conntrack entry keeps steering it to the old endpoint (k/k#139628); with cleanup the next datagram reaches the
 * new one. And a client that started sending before the proxy's first sync (its flow forwarded un-DNATed) reaches
 * the service once the first sync's cleanup ran. Mirrors kubernetes test/e2e/network/conntrack.go "should be able to preserve UDP traffic when server
 * pod cycles for a ClusterIP service".
 */
import test from 'ava';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { NftBackend } from '../../../src/services/nftables/nftBackend.ts';
import { planConntrackCleanup, applyConntrackCleanup } from '../../../src/services/conntrackCleanup.ts';
import { svc, ep, slice } from '../../unit/services/_modelFixtures.ts';
import { buildTopology, NODE_IP } from './_proxyTopology.ts';
import { runTool, findTool } from '../../../src/common/systemTools.ts';

const PREFIX = uniquePrefix('pxc');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));

const udp = svc('udp', { clusterIP: '10.96.0.40', ports: [{ name: 'udp', protocol: 'UDP', port: 81, targetPort: 8080 }] });
const ports = [{ name: 'udp', protocol: 'UDP' as const, port: 8080 }];

async function sendFromFixedPort(ns: string): Promise<string> {
  const r = await runTool('ip', ['netns', 'exec', ns, findTool('socat')!, '-T2', '-', 'UDP:10.96.0.40:81,sourceport=40123,reuseaddr'], { input: 'ping\n', allowFailure: true, timeoutMs: 10_000 });
  return r.stdout.trim() || 'no answer';
}

test.serial('stale UDP entries of a replaced endpoint are deleted, so the client reaches the new one', async (t) => {
  const topo = await buildTopology(t, PREFIX);
  const backend = new NftBackend({ netns: topo.node, clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false });
  const [b1, b2] = topo.backends;
  const model = (ip: string) => compileServiceModel({ services: [udp], slices: [slice('udp', [ep(ip)], { ports })], node: { name: 'node', nodePortIPs: [NODE_IP] } });

  const before = model(b1!.ip);
  await backend.sync(before);
  t.is(await sendFromFixedPort(topo.client), 'b1');

  const after = model(b2!.ip);
  await backend.sync(after);
  t.is(await sendFromFixedPort(topo.client), 'b1', 'without cleanup the old entry still steers the flow to b1');

  const r = await applyConntrackCleanup(planConntrackCleanup(before, after), { netns: topo.node });
  t.deepEqual(r.errors, []);
  t.true(r.deleted >= 1, 'the stale entry was deleted');
  t.is(await sendFromFixedPort(topo.client), 'b2', 'the same client flow now reaches the new endpoint');
});

test.serial('a UDP flow that began before the first sync is not pinned un-DNATed: the first sync\'s cleanup frees it', async (t) => {
  const topo = await buildTopology(t, PREFIX);
  const backend = new NftBackend({ netns: topo.node, clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false });
  const [b1] = topo.backends;
  // As on a lab node, the routing part's masquerade table is there before the proxy's first sync (it also makes
  // the kernel track connections in this namespace). No service rules yet: the datagram leaves by the default
  // route, masqueraded, and its conntrack entry records no DNAT.
  await runTool('ip', ['netns', 'exec', topo.node, findTool('nft')!, '-f', '-'], {
    input: 'table ip test-masq {\n chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n  oifname "toup" masquerade\n }\n}\n' });
  t.is(await sendFromFixedPort(topo.client), 'no answer');
  const model = compileServiceModel({ services: [udp], slices: [slice('udp', [ep(b1!.ip)], { ports })], node: { name: 'node', nodePortIPs: [NODE_IP] } });
  await backend.sync(model);
  t.is(await sendFromFixedPort(topo.client), 'no answer', 'the rules alone do not help: the old entry still steers the flow');
  const r = await applyConntrackCleanup(planConntrackCleanup(null, model), { netns: topo.node });
  t.deepEqual(r.errors, []);
  t.is(r.deleted, 1, 'exactly the pinned entry');
  t.is(await sendFromFixedPort(topo.client), 'b1', 'the same client flow now reaches the endpoint');
});
