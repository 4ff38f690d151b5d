import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { NodeRegistrar, type NodeRegistrarOptions } from '../../../src/node/nodeRegistrar.ts';
import { readNodeState } from '../../../src/ipam/nodeState.ts';
import { candidateOrder, leaseNameFor, subnetAt, parseIpv4Cidr } from '../../../src/node/podCidrPool.ts';

function opts(store: MemoryStore, nodeName: string, dir: string, extra: Partial<NodeRegistrarOptions> = {}): NodeRegistrarOptions {
  return {
    store, nodeName, nodeIP: '198.18.0.11', clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', subnetBits: 24,
    mtu: 1450, leaseTtlSeconds: 30, nodeStateFile: join(dir, nodeName, 'node.json'),
    annotations: { 'podnet.io/backend': 'vxlan', 'podnet.io/tunnel-endpoint': '198.18.0.11', 'podnet.io/vtep-mac': '0e:00:00:00:00:01' },
    ...extra,
  };
}

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-node-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a node registers its Node object, leases a /24 and writes node.json for the CNI plugin', async (t) => {
  const dir = tmp(t);
  const store = new MemoryStore();
  const reg = new NodeRegistrar(opts(store, 'n1', dir));
  t.teardown(() => reg.stop());
  const state = await reg.start();
  t.regex(state.podCIDR, /^10\.244\.\d+\.0\/24$/);
  const node = await store.get('Node', 'n1');
  t.is(node?.spec?.podCIDR, state.podCIDR);
  t.deepEqual(node?.status?.addresses?.[0], { type: 'InternalIP', address: '198.18.0.11' });
  t.is(node?.metadata.annotations?.['podnet.io/vtep-mac'], '0e:00:00:00:00:01');
  t.is(node?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  t.is((await store.getLease(leaseNameFor(state.podCIDR)))?.holder, 'n1');
  const file = JSON.parse(readFileSync(join(dir, 'n1', 'node.json'), 'utf8')) as Record<string, unknown>;
  t.like(file, { nodeName: 'n1', podCIDR: state.podCIDR, podCIDRs: [state.podCIDR], clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', mtu: 1450 });
  t.deepEqual(readNodeState(join(dir, 'n1', 'node.json'))?.podCIDRs, [state.podCIDR], 'the CNI side reads it');
});

test('a restarted node gets its previous pod CIDR back; another node gets a different one', async (t) => {
  const dir = tmp(t);
  const store = new MemoryStore();
  const first = new NodeRegistrar(opts(store, 'n1', dir));
  const a = await first.start();
  first.stop();
  const other = new NodeRegistrar(opts(store, 'n2', dir));
  const b = await other.start();
  other.stop();
  t.not(a.podCIDR, b.podCIDR);
  const again = new NodeRegistrar(opts(store, 'n1', dir));
  t.is((await again.start()).podCIDR, a.podCIDR);
  again.stop();
});

test('when its name-derived first choice is taken, a node takes the next free subnet', async (t) => {
  const dir = tmp(t);
  const store = new MemoryStore();
  const cluster = parseIpv4Cidr('10.244.0.0/16');
  const first = subnetAt(cluster, 24, candidateOrder(256, 'n9')[0]!);
  await store.acquireLease(leaseNameFor(first), 'someone-else', 300);
  const reg = new NodeRegistrar(opts(store, 'n9', dir));
  const st = await reg.start();
  reg.stop();
  t.not(st.podCIDR, first);
});

test('a full pool is reported, not looped on', async (t) => {
  const dir = tmp(t);
  const store = new MemoryStore();
  const small = { clusterCIDR: '10.244.0.0/23' };
  const a = new NodeRegistrar(opts(store, 'a', dir, small));
  const b = new NodeRegistrar(opts(store, 'b', dir, small));
  await a.start();
  await b.start();
  const c = new NodeRegistrar(opts(store, 'c', dir, small));
  await t.throwsAsync(c.start(), { message: 'no free /24 left in cluster CIDR 10.244.0.0/23: every subnet is leased by another node' });
  a.stop();
  b.stop();
});
