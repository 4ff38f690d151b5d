import test from 'ava';
import { readFileSync } from 'node:fs';
import { planLab } from '../../../src/lab/addressPlan.ts';
import { runningStatus, sameStatus } from '../../../src/lab/kubelet.ts';
import { podContainerId, podNetnsOf, podResolvConf } from '../../../src/lab/kubeletPodNames.ts';
import { pickNode } from '../../../src/lab/kubeletScheduler.ts';
import type { PodRecord } from '../../../src/lab/kubeletSandbox.ts';
import { etcdArgv, etcdHost, etcdHostStoreSpec, etcdStoreSpec } from '../../../src/lab/labEtcd.ts';
import { agentConfigFor, nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import { labPaths } from '../../../src/lab/labState.ts';
import { readAgentConfig } from '../../../src/node/agentConfig.ts';

const meta = (name: string, uid?: string) => ({ metadata: { name, namespace: 'shop', ...(uid ? { uid } : {}) } });

test('pod names: namespace <lab>-pod-<ns>-<name>, container id per pod instance, ClusterFirst resolv.conf', (t) => {
  t.is(podNetnsOf('demo', meta('web-1')), 'demo-pod-shop-web-1');
  t.regex(podContainerId(meta('web-1', 'u1')), /^[0-9a-f]{64}$/);
  t.not(podContainerId(meta('web-1', 'u1')), podContainerId(meta('web-1', 'u2')), 're-created pod, new sandbox id');
  t.is(podResolvConf('shop', '10.96.0.10'),
    'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
});

test('status of a running sandbox; an unchanged status is not rewritten, a change is', (t) => {
  const rec: PodRecord = { key: 'shop/web-1', uid: 'u', netns: 'x', containerId: 'c', ifname: 'eth0',
    podIPs: ['10.244.1.5', 'fd00::5'], processes: [{ name: 'p', ns: 'x', pid: process.pid, startTime: startTimeOfSelf(), argv: [], log: '' }] };
  const s = runningStatus(rec, '198.18.0.11', undefined);
  t.like(s, { phase: 'Running', hostIP: '198.18.0.11', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00::5' }] });
  t.is(s.conditions?.[0]?.status, 'True');
  const again = runningStatus(rec, '198.18.0.11', s);
  t.is(again.conditions?.[0]?.lastTransitionTime, s.conditions?.[0]?.lastTransitionTime, 'transition time kept');
  t.true(sameStatus(s, { ...again, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'other' }] }));
  const dead = runningStatus({ ...rec, processes: [{ ...rec.processes[0]!, startTime: 'not-this-one' }] }, '198.18.0.11', s);
  t.like(dead, { phase: 'Failed' });
  t.false(sameStatus(s, dead));
});

function startTimeOfSelf(): string {
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

test('round robin over the nodes', (t) => {
  const nodes = ['n1', 'n2', 'n3'];
  let cursor = 1;
  const placed: string[] = [];
  for (let i = 0; i < 4; i++) ({ node: placed[i]!, cursor } = pickNode(nodes, cursor));
  t.deepEqual(placed, ['n2', 'n3', 'n1', 'n2']);
});

test('agent config per node: accepted by podnetd\'s own reader, per-node files, routing only when the lab routes', (t) => {
  const paths = labPaths('demo', '/run/podnet-lab');
  const vx = planLab({ name: 'demo', nodes: 2, routing: 'vxlan', store: 'file' });
  const files = nodeFiles(paths, 'n2');
  const raw = agentConfigFor(vx, vx.hosts[1]!, 'file:/x', files);
  const c = readAgentConfig(JSON.parse(JSON.stringify(raw)), 'podnetd.json');
  t.like(c, { nodeName: 'n2', nodeIP: '198.18.0.12', nodeStateFile: '/run/podnet-lab/demo/nodes/n2/node.json',
    backend: 'vxlan', clusterCIDR: '10.244.0.0/16', store: 'file:/x' });
  t.deepEqual(c.sections.routing, { masquerade: true });
  const none = planLab({ name: 'demo', nodes: 2, routing: 'none', store: 'file' });
  t.is(readAgentConfig(agentConfigFor(none, none.hosts[0]!, 'file:/x', files)).sections.routing, undefined);
});

test('agent config: both underlay addresses always; --ip-family dual adds the IPv6 cluster and service CIDRs', (t) => {
  const paths = labPaths('demo', '/run/podnet-lab');
  const files = nodeFiles(paths, 'n1');
  const single = planLab({ name: 'demo', nodes: 2, routing: 'vxlan', store: 'file' });
  const s = readAgentConfig(JSON.parse(JSON.stringify(agentConfigFor(single, single.hosts[0]!, 'file:/x', files))), 'podnetd.json');
  t.like(s, { nodeIP: '198.18.0.11', nodeIPs: ['198.18.0.11', 'fd00:198:18::11'], clusterCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.0/16'] });
  const dual = planLab({ name: 'demo', nodes: 2, routing: 'vxlan', store: 'file', ipFamily: 'dual' });
  const raw = agentConfigFor(dual, dual.hosts[0]!, 'file:/x', files);
  const d = readAgentConfig(JSON.parse(JSON.stringify(raw)), 'podnetd.json');
  t.like(d, { clusterCIDR: '10.244.0.0/16', clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], podSubnetLength6: 64,
    serviceCIDRs: ['10.96.0.0/16', 'fd00:10:96::/112'] });
  t.deepEqual((d.sections.proxy as { clusterCIDRs: string[] }).clusterCIDRs, ['10.244.0.0/16', 'fd00:10:244::/56'],
    'the proxy tells pod traffic from outside traffic in both families');
});

test('etcd: on the gateway host, over the underlay for nodes, a unix socket for the host', (t) => {
  const flat = planLab({ name: 'demo', nodes: 2, routing: 'vxlan', store: 'etcd' });
  const cross = planLab({ name: 'demo', nodes: 2, routing: 'cross-subnet', store: 'etcd' });
  t.is(etcdHost(flat), 'fabric');
  t.is(etcdHost(cross), 'router');
  t.is(etcdStoreSpec(flat), 'etcd:http://198.18.0.1:2379');
  t.is(etcdHostStoreSpec('/run/podnet-lab/demo/etcd'), 'etcd:unix:///run/podnet-lab/demo/etcd/client.sock:0');
  const argv = etcdArgv(flat, '/d');
  t.is(argv[argv.indexOf('--listen-client-urls') + 1], 'http://198.18.0.1:2379,http://127.0.0.1:2379,unix://client.sock:0');
  t.is(argv[argv.indexOf('--data-dir') + 1], '/d/data');
});
