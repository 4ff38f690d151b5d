/**
 * A UDP client keeps sending from one source port to a ClusterIP; its endpoint is replaced. Without cleanup the
 * conntrack entry keeps steering it to the old endpoint (k/k#139628); with cleanup the next datagram reaches the
 * new one. Mirrors kubernetes test/e2e/network/conntrack.go "should be able to preserve UDP traffic when server
 * pod cycles for a ClusterIP service".
 */
import test from 'ava';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { NftBackend } from '../../../src/services/nftables/nftBackend.ts';
import { staleConntrackFilters, deleteConntrackEntries } from '../../../src/services/conntrackCleanup.ts';
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

  const filters = staleConntrackFilters(before, after);
  const r = await deleteConntrackEntries(filters, { netns: topo.node });
  t.deepEqual(r.errors, []);
  t.true(r.deleted >= 1, 'the stale entry was deleted');
  t.is(await sendFromFixedPort(topo.client), 'b2', 'the same client flow now reaches the new endpoint');
});
