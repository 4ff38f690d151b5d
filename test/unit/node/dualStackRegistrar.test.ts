import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../../src/store/memoryStore.ts';
import { NodeRegistrar, type NodeRegistrarOptions } from '../../../src/node/nodeRegistrar.ts';
import { readNodeState } from '../../../src/ipam/nodeState.ts';
import { isInPool, leaseNameFor, parseClusterCidr, poolSize, poolSubnetAt } from '../../../src/node/podCidrPool.ts';

function opts(store: MemoryStore, nodeName: string, dir: string): NodeRegistrarOptions {
  return {
    store, nodeName, nodeIP: '198.18.0.11', nodeIPs: ['198.18.0.11', 'fd00:198:18::11'],
    clusterCIDR: '10.244.0.0/16', clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], serviceCIDR: '10.96.0.0/16',
    subnetBits: 24, subnetBits6: 64, mtu: 1450, leaseTtlSeconds: 30, nodeStateFile: join(dir, nodeName, 'node.json'), annotations: {},
  };
}

test('the IPv6 pool: a /56 holds 256 /64s; leases are named per subnet; foreign subnets are not the pool\'s', (t) => {
  const v6 = parseClusterCidr('fd00:10:244::/56');
  t.is(poolSize(v6, 64), 256);
  t.is(poolSubnetAt(v6, 64, 3), 'fd00:10:244:3::/64');
  t.is(poolSubnetAt(v6, 64, 255), 'fd00:10:244:ff::/64');
  t.is(leaseNameFor('fd00:10:244:3::/64'), 'podcidr-fd00-10-244-3---64');
  t.true(isInPool(v6, 64, 'fd00:10:244:3::/64'));
  t.false(isInPool(v6, 64, 'fd00:10:245::/64'));
  t.false(isInPool(v6, 64, '10.244.3.0/24'));
  t.throws(() => poolSize(parseClusterCidr('fd00:10::/32'), 64), { message: /more than 16 bits/ });
});

test('a dual-stack node leases one subnet per family: Node.spec.podCIDRs and node.json carry both, IPv4 first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-node-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new MemoryStore();
  const reg = new NodeRegistrar(opts(store, 'n1', dir));
  const state = await reg.start();
  reg.stop();
  t.is(state.podCIDRs.length, 2);
  t.regex(state.podCIDRs[0]!, /^10\.244\.\d+\.0\/24$/);
  t.regex(state.podCIDRs[1]!, /^fd00:10:244:([0-9a-f]{1,4})?:\/64$/);
  t.deepEqual(state.clusterCIDRs, ['10.244.0.0/16', 'fd00:10:244::/56']);
  const node = await store.get('Node', 'n1');
  t.deepEqual(node?.spec?.podCIDRs, state.podCIDRs);
  t.is(node?.spec?.podCIDR, state.podCIDRs[0]);
  t.deepEqual(node?.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address), ['198.18.0.11', 'fd00:198:18::11']);
  t.is((await store.getLease(leaseNameFor(state.podCIDRs[1]!)))?.holder, 'n1');
  t.deepEqual(readNodeState(join(dir, 'n1', 'node.json'))?.podCIDRs, state.podCIDRs, 'the CNI IPAM reads both (usePodCidrIPv6)');

  // Another node gets other subnets in both families; a restart gets both back.
  const other = new NodeRegistrar(opts(store, 'n2', dir));
  const b = await other.start();
  other.stop();
  t.not(b.podCIDRs[1], state.podCIDRs[1]);
  const again = new NodeRegistrar(opts(store, 'n1', dir));
  t.deepEqual((await again.start()).podCIDRs, state.podCIDRs);
  again.stop();
});
