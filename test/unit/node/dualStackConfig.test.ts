import test from 'ava';
import { readAgentConfig } from '../../../src/node/agentConfig.ts';
import { desiredNode } from '../../../src/node/nodeObject.ts';

test('single-stack configs read as before: the plural fields hold the one entry', (t) => {
  const c = readAgentConfig({ nodeIP: '198.18.0.11' });
  t.like(c, { nodeIP: '198.18.0.11', nodeIPs: ['198.18.0.11'], clusterCIDR: '10.244.0.0/16', clusterCIDRs: ['10.244.0.0/16'],
    serviceCIDR: '10.96.0.0/16', serviceCIDRs: ['10.96.0.0/16'], podSubnetLength: 24, podSubnetLength6: 64 });
});

test('dual-stack comma lists (kubelet --node-ip, --cluster-cidr style): primary first in the singular fields', (t) => {
  const c = readAgentConfig({ nodeIP: '198.18.0.11, fd00:198:18::11', clusterCIDR: '10.244.0.0/16,fd00:10:244::/56',
    serviceCIDR: '10.96.0.0/16,fd00:10:96::/112' });
  t.like(c, { nodeIP: '198.18.0.11', nodeIPs: ['198.18.0.11', 'fd00:198:18::11'], clusterCIDR: '10.244.0.0/16',
    clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], serviceCIDRs: ['10.96.0.0/16', 'fd00:10:96::/112'], podSubnetLength6: 64 });
  const v6first = readAgentConfig({ nodeIP: 'fd00:198:18::11,198.18.0.11' });
  t.is(v6first.nodeIP, 'fd00:198:18::11');
});

test('dual-stack lists are checked: one entry per family, valid CIDRs, subnet lengths inside the cluster CIDR', (t) => {
  const err = t.throws(() => readAgentConfig({ nodeIP: '198.18.0.11,198.18.0.12', clusterCIDR: '10.244.0.0/16,fd00:10:244::/56,fd00:1::/56',
    serviceCIDR: '10.96.0.0/16,fd00:10:96::/200' }, 'agent.yaml'));
  t.is(err!.message, [
    'agent.yaml: 3 problems:',
    '  nodeIP: a second address must be of the other family (dual-stack is one IPv4 and one IPv6), got two IPv4 in "198.18.0.11,198.18.0.12"',
    '  clusterCIDR: at most two CIDRs (one IPv4, one IPv6), got 3 in "10.244.0.0/16,fd00:10:244::/56,fd00:1::/56"',
    '  serviceCIDR: must be a CIDR such as 10.96.0.0/16 or 10.96.0.0/16,fd00:10:96::/112, got "fd00:10:96::/200": prefix length 200 is out of range 0..128 for IPv6',
  ].join('\n'));
  t.throws(() => readAgentConfig({ nodeIP: '198.18.0.11', clusterCIDR: '10.244.0.0/16,fd00:10:244::/56', podSubnetLength6: 48 }),
    { message: /podSubnetLength6/ });
  t.throws(() => readAgentConfig({ nodeIP: '198.18.0.11', clusterCIDR: '10.244.0.0/16,fd00:10:244::/40' }),
    { message: /podSubnetLength6/ }, 'more than 16 bits between the cluster CIDR and /64: refused like kube-controller-manager');
});

test('the Node publishes one InternalIP per node address and both pod CIDRs', (t) => {
  const node = desiredNode(undefined, { nodeName: 'n1', nodeIP: '198.18.0.11', nodeIPs: ['198.18.0.11', 'fd00:198:18::11'],
    podCIDR: '10.244.3.0/24', podCIDRs: ['10.244.3.0/24', 'fd00:10:244:3::/64'], annotations: {}, ownsStatus: true })!;
  t.deepEqual(node.status!.addresses, [
    { type: 'InternalIP', address: '198.18.0.11' }, { type: 'InternalIP', address: 'fd00:198:18::11' }, { type: 'Hostname', address: 'n1' },
  ]);
  t.deepEqual(node.spec, { podCIDR: '10.244.3.0/24', podCIDRs: ['10.244.3.0/24', 'fd00:10:244:3::/64'] });
});
