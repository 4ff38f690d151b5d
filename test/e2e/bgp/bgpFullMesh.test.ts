/**
 * `lab up --routing bgp` end to end (issue 8, "Done when"): three dual-stack nodes whose podnetd agents peer in an
 * iBGP full mesh (IPv4 sessions carrying IPv4 and IPv6 NLRI). Pods on different nodes reach each other, on both
 * families, over BGP-learned routes (proto 159) with no overlay device;
 * `podnetctl bgp status` on a node shows its peers Established with prefix counts; and a podnetd restart — SIGTERM
 * then start, and kill -9 then start — keeps a running TCP stream between pods flowing while the restarted node's
 * routes stay on its peers (graceful restart, RFC 4724).
 */
import test from 'ava';
import {
  bgpKernelPrefixes, bgpKernelRoutes, bgpStatus, labWait, nodeAddressFor, podCidrsOf, podnetctlIn, podPerNode, restartPodnetd,
  sharedBgpCluster, vxlanLinks, waitPodsReachEachOther, type RunningPod,
} from './helpers/bgpLab.ts';
import { startTcpStream } from './helpers/tcpStream.ts';

const shared = sharedBgpCluster(3, undefined, { ipFamily: 'dual' });
let pods: RunningPod[] = [];

test.before(async () => {
  const { lab, store } = await shared.start();
  pods = await podPerNode(lab, store);
});
test.after.always(() => shared.cleanup());

test.serial('full mesh: pods on different nodes reach each other over BGP routes (proto 159), no vxlan device', async (t) => {
  const { lab } = shared.get();
  const cidrs = lab.nodes.flatMap((n) => podCidrsOf(lab, n.id).map((cidr) => ({ id: n.id, cidr })));
  t.log(`pod CIDRs: ${cidrs.map((c) => `${c.id} ${c.cidr}`).join(', ')}`);
  for (const n of lab.nodes) {
    const others = cidrs.filter((c) => c.id !== n.id);
    await labWait(`${n.id} has the other nodes' pod CIDRs from BGP`, async () => {
      const have = await bgpKernelPrefixes(lab, n.id);
      return others.every((c) => have.has(c.cidr));
    });
    const routes = [...await bgpKernelRoutes(lab, n.id, 4), ...await bgpKernelRoutes(lab, n.id, 6)];
    for (const { id, cidr } of others) {
      t.is(routes.find((x) => x.dst === cidr)?.gateway, nodeAddressFor(lab, id, cidr), `${n.id}: ${cidr} via ${id}'s underlay address`);
    }
    t.false(routes.some((r) => cidrs.some((c) => c.id === n.id && c.cidr === r.dst)), `${n.id} installs no BGP route for its own pod CIDRs`);
    t.deepEqual(await vxlanLinks(lab, n.id), [], `${n.id} has no vxlan device`);
  }
  await waitPodsReachEachOther(lab, pods);
  t.pass();
});

test.serial('podnetctl bgp status in a node shows its peers Established with prefix counts', async (t) => {
  const { lab } = shared.get();
  const peers = await labWait('n1 reports two Established peers', async () => {
    const s = await bgpStatus(lab, 'n1');
    return s.length === 2 && s.every((p) => /established/i.test(p.state)) ? s : undefined;
  });
  t.deepEqual(peers.map((p) => p.peer).sort(), ['198.18.0.12', '198.18.0.13']);
  const own = podCidrsOf(lab, 'n1').length;
  for (const p of peers) {
    const node = lab.nodes.find((n) => n.interfaces[0]!.address === p.peer)!;
    t.is(p.peerAs, 64512);
    t.is(p.received, podCidrsOf(lab, node.id).length, `${p.peer}: its pod CIDR(s) received`);
    t.is(p.accepted, p.received, `${p.peer}: and in use`);
    t.is(p.advertised, own, `${p.peer}: our pod CIDR(s) advertised`);
  }
  const text = await podnetctlIn(lab, 'n1', ['bgp', 'status']);
  t.is(text.code, 0, text.stderr);
  t.log(text.stdout.trim());
  for (const a of ['198.18.0.12', '198.18.0.13']) t.regex(text.stdout, new RegExp(`${a.replace(/\./g, '\\.')}\\s.*Established`, 'i'));
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test.serial(`graceful restart: a TCP stream between pods keeps flowing while n2's podnetd restarts (${signal})`, async (t) => {
    const { lab } = shared.get();
    const n2Cidrs = podCidrsOf(lab, 'n2');
    const n1Cidrs = podCidrsOf(lab, 'n1');
    const p1 = pods.find((p) => p.node === 'n1')!;
    const p2 = pods.find((p) => p.node === 'n2')!;
    const stream = await startTcpStream(lab, p1.name, p2.name, p2.ip, signal === 'SIGTERM' ? 9001 : 9002);
    t.teardown(() => stream.stop());

    // Sample both directions' kernel routes all through the restart: none may disappear.
    const missing: string[] = [];
    let sampling = true;
    let samples = 0;
    const sampler = (async () => {
      while (sampling) {
        samples++;
        const [on1, on2, on3] = await Promise.all(['n1', 'n2', 'n3'].map((n) => bgpKernelPrefixes(lab, n)));
        for (const c of n2Cidrs) if (!on1.has(c)) missing.push(`n1 lost ${c}`);
        for (const c of n2Cidrs) if (!on3.has(c)) missing.push(`n3 lost ${c}`);
        for (const c of n1Cidrs) if (!on2.has(c)) missing.push(`n2 lost ${c}`);
      }
    })();
    const before = stream.latest()!;
    const t0 = Date.now();
    await restartPodnetd(lab, 'n2', signal);
    await labWait('n2 back with both peers Established', async () => {
      const s = await bgpStatus(lab, 'n2');
      return s.length === 2 && s.every((p) => /established/i.test(p.state));
    });
    const downMs = Date.now() - t0;
    const after = await stream.waitForMore(50 * 1024);
    sampling = false;
    await sampler;
    t.log(`n2's podnetd ${signal} → sessions Established again after ${downMs} ms; ${samples} samples of the three kernels meanwhile`);
    t.log(`stream: ${before.recv} → ${after.recv} bytes echoed across the restart; longest gap between receptions ${after.maxStallMs} ms`);
    t.is(after.end, undefined, 'the connection was never reset');
    t.deepEqual([...new Set(missing)], [], 'the restarted node\'s routes stayed on its peers and its own kernel routes stayed');
  });
}
