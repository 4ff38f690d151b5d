/**
 * The announcer on a real L2 segment: three in-process LB instances, each answering in its own node namespace
 * through packet sockets, a client namespace resolving the LB IPs with arping and ndisc6 while tcpdump watches.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import type { Service } from '../../../src/store/types.ts';
import { startLb, type RunningLb } from '../../../src/lb/lbService.ts';
import { ingressIps } from '../../../src/lb/allocationStatus.ts';
import { findTool } from '../../../src/common/systemTools.ts';
import { rootSnapshot, uniquePrefix } from '../../helpers/netnsFixture.ts';
import { arpReplyMacs, buildTopology, startCapture } from './lbTopology.ts';
import { waitFor } from '../../helpers/waitFor.ts';

const run = promisify(execFile);
const IP = findTool('ip')!;
const prefix = uniquePrefix('lb');
const snapshot = rootSnapshot(prefix);
test.after.always('root namespace untouched', (t) => t.deepEqual(snapshot.leaks(), []));

async function inNs(ns: string, cmd: string[], timeoutS = 15): Promise<string> {
  const r = await run(IP, ['netns', 'exec', ns, findTool('timeout')!, String(timeoutS), ...cmd], { encoding: 'utf8' }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return r.stdout;
}

const svc = (name: string, v6 = false): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }], ipFamilies: [v6 ? 'IPv6' : 'IPv4'] },
});

test.serial('one MAC answers ARP and NDP for LB IPs; after the announcer stops, GARP and the next ARP show the new node', async (t) => {
  for (const [tool, pkg] of [['arping', 'arping'], ['ndisc6', 'ndisc6'], ['tcpdump', 'tcpdump']]) {
    if (!findTool(tool!)) return t.fail(`${tool} is not installed (Debian package ${pkg})`);
  }
  const topo = buildTopology(prefix, 3);
  t.teardown(() => topo.destroy());
  const store = new MemoryStore();
  await store.create({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lab', namespace: 'metallb-system' }, spec: { addresses: ['198.18.0.200-198.18.0.250', 'fd00:18::200-fd00:18::250'] } });
  await store.create({ apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'all', namespace: 'metallb-system' }, spec: {} });
  const running = new Map<string, RunningLb>();
  for (const n of topo.nodes) {
    running.set(n.name, await startLb({ store, node: n.name, netns: `/var/run/netns/${n.ns}`, liveness: { ttlSeconds: 2, renewMs: 250, deadAfterMs: 1500 } }));
  }
  t.teardown(async () => { for (const lb of running.values()) await lb.stop(); });
  await store.create(svc('web'));
  await store.create(svc('web6', true));
  const ip4 = await waitFor('an IPv4 address', async () => ingressIps((await store.get('Service', 'web', 'default'))!)[0]);
  const ip6 = await waitFor('an IPv6 address', async () => ingressIps((await store.get('Service', 'web6', 'default'))!)[0]);
  t.is(ip4, '198.18.0.200');
  t.is(ip6, 'fd00:18::200');
  const announcerOf = (ip: string) => waitFor(`an announcer of ${ip}`, () => {
    const owners = [...running].filter(([, lb]) => lb.announcer.announcements().some((a) => a.ip === ip && a.openInterfaces.includes('eth0')));
    return owners.length === 1 ? owners[0]![0] : undefined;
  });
  const owner4 = await announcerOf(ip4);
  const macOf = (name: string) => topo.nodes.find((n) => n.name === name)!.mac;

  // IPv4: exactly one MAC answers, the elected node's.
  let cap = await startCapture(topo.client, 'arp', 30);
  await inNs(topo.client, ['arping', '-c', '3', '-i', 'eth0', ip4]);
  t.deepEqual(arpReplyMacs(await cap.stop(), ip4), [macOf(owner4)]);

  // IPv6: ndisc6 resolves the address to the elected node's MAC, and only one advertisement source is seen.
  const owner6 = await announcerOf(ip6);
  cap = await startCapture(topo.client, 'icmp6 and ip6[40] == 136', 30);
  const nd = await inNs(topo.client, ['ndisc6', '-r', '2', '-w', '1000', ip6, 'eth0']);
  t.regex(nd, new RegExp(`Target link-layer address: ${macOf(owner6)}`, 'i'), nd);
  const naLines = await cap.stop();
  const naSources = new Set(naLines.map((l) => /^\S+ ([0-9a-f:]{17}) >/.exec(l)?.[1]).filter(Boolean));
  t.deepEqual([...naSources], [macOf(owner6)], naLines.join("\n"));

  // Failover: stop the IPv4 announcer; another node takes over with gratuitous ARP, and ARP now gets it.
  cap = await startCapture(topo.client, 'arp', 30);
  await running.get(owner4)!.stop();
  running.delete(owner4);
  const next = await announcerOf(ip4);
  t.not(next, owner4);
  await waitFor('a gratuitous ARP from the new node', () => cap.lines().some((l) => l.includes(macOf(next)) && l.includes(`who-has ${ip4} tell ${ip4}`)) || undefined);
  const garp = await cap.stop();
  t.true(garp.some((l) => l.includes(`Reply ${ip4} is-at ${macOf(next)}`)), 'the burst also has the gratuitous reply');
  cap = await startCapture(topo.client, 'arp', 30);
  await inNs(topo.client, ['arping', '-c', '2', '-i', 'eth0', ip4]);
  t.deepEqual(arpReplyMacs(await cap.stop(), ip4), [macOf(next)]);
  const m = await running.get(next)!.metrics.registry.getSingleMetricAsString('podnet_lb_gratuitous_sent_total');
  t.regex(m, /podnet_lb_gratuitous_sent_total\{protocol="arp",interface="eth0"\} [1-9]/);
});
