/**
 * The iptables backend against a real kernel (iptables-restore --noflush inside a "node" namespace): ClusterIP,
 * NodePort, REJECT without endpoints, a partial restore for one endpoint change, and a mode switch that leaves
 * no rules of the other mode behind (KEP-3866 "Switching between kube-proxy modes").
 */
import test from 'ava';
import { uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { IptBackend } from '../../../src/services/iptables/iptBackend.ts';
import { NftBackend } from '../../../src/services/nftables/nftBackend.ts';
import { cleanupOtherModes } from '../../../src/services/backendTable.ts';
import { svc, ep, slice } from '../../unit/services/_modelFixtures.ts';
import { buildTopology, answers, probe, nftIn, NODE_IP } from './_proxyTopology.ts';
import { runTool, findTool } from '../../../src/common/systemTools.ts';
import type { Service, EndpointSlice } from '../../../src/store/types.ts';

const PREFIX = uniquePrefix('pxi');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));

const NODE = { name: 'node', nodePortIPs: [NODE_IP] };
const web = svc('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }] });
const empty = svc('empty', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30090 }] });
const model = (services: Service[], slices: EndpointSlice[]) => compileServiceModel({ services, slices, node: NODE });

async function iptablesSave(ns: string): Promise<string> {
  return (await runTool('ip', ['netns', 'exec', ns, findTool('iptables-save')!])).stdout;
}

test.serial('iptables mode: ClusterIP, NodePort, reject without endpoints, partial restore, switch to nftables cleans up', async (t) => {
  const topo = await buildTopology(t, PREFIX);
  const opts = { netns: topo.node, clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false };
  const ipt = new IptBackend(opts);
  const [b1, b2] = topo.backends;
  const slices = (ips: string[]) => [slice('web', ips.map((i) => ep(i)))];
  t.is((await ipt.sync(model([web, empty], slices([b1!.ip, b2!.ip])))).kind, 'full');

  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 40), ['b1', 'b2']);
  t.deepEqual(await answers(topo.client, NODE_IP, 30080, 40), ['b1', 'b2']);
  t.is(await probe(topo.client, '10.96.0.20', 80), 'refused');
  t.is(await probe(topo.client, NODE_IP, 30090), 'refused');

  t.is((await ipt.sync(model([web, empty], slices([b1!.ip])))).kind, 'incremental');
  t.notRegex(ipt.lastRestore, /PODNET-POSTROUTING|PODNET-REJECT/, 'unchanged chains are not rewritten');
  t.regex(ipt.lastRestore, /^-X PODNET-SEP-/m, 'the removed endpoint chain is deleted');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 6), ['b1']);

  // Someone flushes the nat table: the canary jump is gone, the next sync is a full one and repairs it.
  await runTool('ip', ['netns', 'exec', topo.node, findTool('iptables')!, '-t', 'nat', '-F']);
  t.true(await ipt.driftDetected());
  t.is((await ipt.sync(model([web, empty], slices([b1!.ip])))).kind, 'full');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 4), ['b1'], 'repaired');

  // Switch to nftables: the iptables rules go, the service keeps working through the new mode.
  const nft = new NftBackend(opts);
  await cleanupOtherModes('nftables', opts);
  t.notRegex(await iptablesSave(topo.node), /PODNET/);
  await nft.sync(model([web, empty], slices([b1!.ip])));
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 4), ['b1']);
  // ...and back: the nftables table goes.
  await cleanupOtherModes('iptables', opts);
  t.notRegex(await nftIn(topo.node, ['list', 'ruleset']), /podnet-proxy/);
});
