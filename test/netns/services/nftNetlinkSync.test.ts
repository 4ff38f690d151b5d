/**
 * Incremental syncs through nf_tables netlink (no `nft` on the change path) against a real kernel:
 * - after every change (endpoint added / replaced / removed, services added with affinity, LB + ETP Local, NodePort and
 *   IPv6, a port changed, services removed), the table listed by `nft -j` equals what a full `nft -f` sync of the
 *   same state produces in a second namespace (synced in full at every step of the same sequence) (same chains, same rules, same elements);
 * - with map dispatch (the default), an endpoint change of a live service port sends map elements only, no rule;
 * - real traffic through the ClusterIP follows the endpoint set;
 * - a batch the kernel rejects is rolled back whole and followed by a full resync that repairs the table.
 */
import test, { type ExecutionContext } from 'ava';
import { makeNetns, uniquePrefix, rootSnapshot } from '../../helpers/netnsFixture.ts';
import { compileServiceModel, type ServiceModel } from '../../../src/services/serviceModel.ts';
import { NftBackend } from '../../../src/services/nftables/nftBackend.ts';
import { NftCli, type NftRunner } from '../../../src/services/nftables/nftRunner.ts';
import { NfnlBatchSocket } from '../../../src/netlink/nftables/nfnlBatchSocket.ts';
import { svc, ep, slice } from '../../unit/services/_modelFixtures.ts';
import { buildTopology, answers, probe, nftIn, NODE_IP, NODE_IP6 } from './_proxyTopology.ts';
import type { Service, EndpointSlice } from '../../../src/store/types.ts';
import type { InlineDispatch } from '../../../src/services/nftables/nftPlanner.ts';

const PREFIX = uniquePrefix('pxl');
const root = rootSnapshot(PREFIX);
test.after.always('root namespace untouched', (t) => t.deepEqual(root.leaks(), []));

const NODE = { name: 'node', nodePortIPs: [NODE_IP, NODE_IP6] };
const CIDRS = ['10.244.0.0/16', 'fd00:244::/48'];
const tcp = [{ name: 'http', protocol: 'TCP' as const, port: 8080 }];
const udp = [{ name: 'http', protocol: 'UDP' as const, port: 8080 }];

function model(services: Service[], slices: EndpointSlice[]): ServiceModel {
  return compileServiceModel({ services, slices, node: NODE });
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** `nft -j list table` without handles, chains and sets by name, set elements sorted: comparable across namespaces. */
async function tableState(ns: string, family: 'ip' | 'ip6'): Promise<string[]> {
  const out = JSON.parse(await nftIn(ns, ['-j', 'list', 'table', family, 'podnet-proxy'])) as { nftables: Array<Record<string, Json>> };
  const strip = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'handle').map(([k, x]) => [k, k === 'elem' && Array.isArray(x) ? x.map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : strip(x)]));
    return v;
  };
  return out.nftables.filter((o) => !('metainfo' in o)).map((o) => JSON.stringify(strip(o))).sort();
}

const web = (port = 80) => svc('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', protocol: 'TCP', port, targetPort: 8080, nodePort: 30080 }] });
const aff = svc('aff', { clusterIP: '10.96.0.30', sessionAffinity: 'ClientIP', ports: [{ name: 'http', protocol: 'UDP', port: 53, targetPort: 8080 }] });
const lb = svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.40', externalTrafficPolicy: 'Local', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30090 }] },
  { status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } } });
const v6 = svc('v6', { clusterIP: 'fd00:96::1', clusterIPs: ['fd00:96::1'], ipFamilies: ['IPv6'], ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] });
const empty = svc('empty', { clusterIP: '10.96.0.20' });

/** The change sequence: each step is [what, model]. */
function steps(): Array<[string, ServiceModel]> {
  const e = (ip: string) => ep(ip, { nodeName: 'node' });
  return [
    ['start', model([web(), empty], [slice('web', [e('10.244.1.2'), e('10.244.1.3')], { ports: tcp })])],
    ['endpoint added', model([web(), empty], [slice('web', [e('10.244.1.2'), e('10.244.1.3'), e('10.244.1.4')], { ports: tcp })])],
    ['endpoint replaced', model([web(), empty], [slice('web', [e('10.244.1.2'), e('10.244.1.5'), e('10.244.1.4')], { ports: tcp })])],
    ['endpoint removed', model([web(), empty], [slice('web', [e('10.244.1.2'), e('10.244.1.4')], { ports: tcp })])],
    ['services added', model([web(), empty, aff, lb, v6], [slice('web', [e('10.244.1.2'), e('10.244.1.4')], { ports: tcp }),
      slice('aff', [e('10.244.2.2'), e('10.244.2.3')], { ports: udp }), slice('lb', [e('10.244.3.2')], { ports: tcp }),
      slice('v6', [e('fd00:244::2'), e('fd00:244::3')], { ports: tcp, family: 'IPv6' })])],
    ['endpoints of empty', model([web(), empty, aff, lb, v6], [slice('web', [e('10.244.1.2'), e('10.244.1.4')], { ports: tcp }),
      slice('aff', [e('10.244.2.2')], { ports: udp }), slice('lb', [e('10.244.3.2')], { ports: tcp }), slice('empty', [e('10.244.4.2')]),
      slice('v6', [e('fd00:244::3')], { ports: tcp, family: 'IPv6' })])],
    ['port changed', model([web(8080), empty, aff, lb, v6], [slice('web', [e('10.244.1.2'), e('10.244.1.4')], { ports: tcp }),
      slice('aff', [e('10.244.2.2')], { ports: udp }), slice('lb', [e('10.244.3.2')], { ports: tcp }), slice('empty', [e('10.244.4.2')]),
      slice('v6', [e('fd00:244::3')], { ports: tcp, family: 'IPv6' })])],
    ['services removed', model([web(8080)], [slice('web', [e('10.244.1.2')], { ports: tcp })])],
  ];
}

/**
 * The reference: the same sequence of models, each synced IN FULL through `nft -f` in a second namespace. One
 * backend for the whole sequence, so ports keep the same dispatch slots (offsets in the shared maps) as in the
 * incremental run: a slot is history, not a function of the current model alone.
 */
function fullSyncReference(t: ExecutionContext, name: string, endpointChains = false, dispatch?: InlineDispatch): (m: ServiceModel) => Promise<{ ip: string[]; ip6: string[] }> {
  const ns = makeNetns(t, PREFIX, name);
  const backend = new NftBackend({ netns: ns, clusterCIDRs: CIDRS, masqueradeAll: false, endpointChains }, undefined, { netlink: false, ...(dispatch ? { dispatch } : {}) });
  return async (m) => {
    await backend.sync(m, { full: true });
    return { ip: await tableState(ns, 'ip'), ip6: await tableState(ns, 'ip6') };
  };
}

const LAYOUTS: Array<[string, boolean, InlineDispatch]> = [['inline (maps)', false, 'map'], ['inline (cascade)', false, 'cascade'], ['endpoint chains', true, 'map']];
for (const [layout, endpointChains, dispatch] of LAYOUTS) {
  const tag = layout[0]! + dispatch[0]!;
  test.serial(`${layout}: each incremental change sent through netlink leaves the table a full nft -f sync would`, async (t) => {
    const ns = makeNetns(t, PREFIX, `inc${tag}`);
    // Count every use of `nft` (transactions and listings): none is allowed after the first, full, sync.
    const cli = new NftCli({ netns: ns });
    let nftCalls = 0;
    const runner: NftRunner = { apply: (s) => (nftCalls++, cli.apply(s)), query: (a) => (nftCalls++, cli.query(a)) };
    const backend = new NftBackend({ netns: ns, clusterCIDRs: CIDRS, masqueradeAll: false, endpointChains }, runner, { dispatch });
    const reference = fullSyncReference(t, `f${tag}`, endpointChains, dispatch);
    let i = 0;
    for (const [what, m] of steps()) {
      const r = await backend.sync(m);
      t.is(r.kind, i === 0 ? 'full' : 'incremental', what);
      if (i === 0) nftCalls = 0;
      else t.is(nftCalls, 0, `${what}: nothing sent or listed through nft`);
      if (layout === 'inline (maps)' && /^endpoint (added|replaced|removed)/.test(what)) {
        const ops = backend.appliers.ip.lastOps.map((o) => `${o.op} ${'set' in o && typeof o.set === 'string' ? o.set : ''}`.trim());
        t.true(ops.length > 0 && ops.every((o) => /^(newElems|delElems) (eps-|hairpin-pairs)/.test(o)), `${what}: map elements only, no rule: ${ops.join(', ')}`);
      }
      const want = await reference(m);
      t.deepEqual(await tableState(ns, 'ip'), want.ip, `${what}: ip table`);
      t.deepEqual(await tableState(ns, 'ip6'), want.ip6, `${what}: ip6 table`);
      i++;
    }
    t.is(backend.appliers.ip.netlinkFallbacks + backend.appliers.ip6.netlinkFallbacks, 0, 'no batch was rejected');

    // The drift check reads one chain over netlink: no nft, and it notices a flushed table.
    t.false(await backend.driftDetected(), 'intact table: no drift');
    t.is(nftCalls, 0, 'drift check without nft');
    const looks = backend.appliers.ip.driftLooks;
    t.false(await backend.driftDetected(), 'still intact');
    t.is(backend.appliers.ip.driftLooks, looks, 'nothing committed since the last look: the nf_tables generation alone answers');
    await nftIn(ns, ['add', 'table', 'ip', 'someone-else']);
    t.false(await backend.driftDetected(), 'another table changed: ours is looked at, and intact');
    t.is(backend.appliers.ip.driftLooks, looks + 1, 'the generation moved: one look');
    await nftIn(ns, ['flush', 'table', 'ip', 'podnet-proxy']);
    t.true(await backend.driftDetected(), 'flushed table: drift');
  });
}

test.serial('traffic through the ClusterIP follows endpoint changes made through netlink', async (t) => {
  const topo = await buildTopology(t, `${PREFIX}t`);
  const [b1, b2] = topo.backends;
  const backend = new NftBackend({ netns: topo.node, clusterCIDRs: CIDRS, masqueradeAll: false });
  const at = (ips: string[], port = 80) => model([web(port)], [slice('web', ips.map((x) => ep(x, { nodeName: 'node' })), { ports: tcp })]);
  t.is((await backend.sync(at([b1!.ip]))).kind, 'full');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 6), ['b1']);

  t.is((await backend.sync(at([b1!.ip, b2!.ip]))).kind, 'incremental');
  t.true(backend.appliers.ip.lastOps.length > 0, 'sent through netlink');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 40), ['b1', 'b2'], 'endpoint added');
  t.deepEqual(await answers(topo.client, NODE_IP, 30080, 40), ['b1', 'b2'], 'NodePort too');

  await backend.sync(at([b2!.ip]));
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 8), ['b2'], 'endpoint removed');

  await backend.sync(at([b2!.ip], 8080));
  t.deepEqual(await answers(topo.client, '10.96.0.10', 8080, 6), ['b2'], 'port changed: new port served');
  t.is(await probe(topo.client, '10.96.0.10', 80), 'refused', 'old port: unused port of a live ClusterIP');
  t.is(backend.appliers.ip.netlinkFallbacks, 0);
});

test.serial('a batch the kernel rejects changes nothing, and a full resync through nft -f follows', async (t) => {
  const topo = await buildTopology(t, `${PREFIX}r`);
  const [b1, b2] = topo.backends;
  const backend = new NftBackend({ netns: topo.node, clusterCIDRs: CIDRS, masqueradeAll: false });
  const at = (ips: string[]) => model([web()], [slice('web', ips.map((x) => ep(x, { nodeName: 'node' })), { ports: tcp })]);
  await backend.sync(at([b1!.ip, b2!.ip]));
  const before = await tableState(topo.node, 'ip');

  // Atomicity, directly: flush every chain of the services, then delete an element that does not exist.
  const sock = await NfnlBatchSocket.open({ netns: `/var/run/netns/${topo.node}` });
  t.teardown(() => sock.close());
  const chains = [...backend.appliers.ip.lastTransaction.matchAll(/add chain ip podnet-proxy (\S+)/g)].map((m) => m[1]!);
  t.true(chains.length > 0);
  const err = await t.throwsAsync(sock.commit({ family: 2, table: 'podnet-proxy', ops: [
    ...chains.map((chain) => ({ op: 'flushChain' as const, chain })),
    { op: 'delElems', set: 'cluster-ips', elems: [{ key: Uint8Array.of(10, 96, 9, 9) }] },
  ] }));
  t.is((err as { code?: string }).code, 'ENOENT', String(err));
  t.regex(String(err), /deleting 1 element\(s\) from cluster-ips/, 'the error names the rejected operation');
  t.deepEqual(await tableState(topo.node, 'ip'), before, 'nothing of the batch was applied');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 40), ['b1', 'b2']);

  // Someone removes an element our next diff deletes: the kernel refuses that DELSETELEM (ENOENT) and, the batch
  // being atomic, also the rule changes before it.
  await nftIn(topo.node, ['delete', 'element', 'ip', 'podnet-proxy', 'hairpin-pairs', `{ ${b2!.ip} . ${b2!.ip} }`]);
  const r = await backend.sync(at([b1!.ip]));
  t.is(backend.appliers.ip.netlinkFallbacks, 1, 'the batch was rejected');
  t.is(r.kind, 'full', 'and a full resync followed');
  t.deepEqual(await answers(topo.client, '10.96.0.10', 80, 8), ['b1'], 'the change is in place after the resync');
  t.deepEqual(await tableState(topo.node, 'ip'), (await fullSyncReference(t, 'fr')(at([b1!.ip]))).ip, 'table equals a full sync of the state');
});
