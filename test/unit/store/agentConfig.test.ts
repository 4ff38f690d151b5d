import test from 'ava';
import { readAgentConfig } from '../../../src/node/agentConfig.ts';

test('defaults follow the design: cluster CIDR 10.244.0.0/16 in /24s, service CIDR 10.96.0.0/16, node.json path', (t) => {
  const c = readAgentConfig({ nodeIP: '198.18.0.11' });
  t.like(c, { clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16', podSubnetLength: 24, nodeStateFile: '/run/podnet/node.json', clusterDNS: '10.96.0.10' });
  t.deepEqual(c.controller, { enabled: true, leaseTTLSeconds: 15, nodePortRange: [30000, 32767] });
});

test('every problem is named by field; other parts\' sections pass through', (t) => {
  const err = t.throws(() => readAgentConfig({ nodeIP: 'x', clusterCIDR: '10.244.0.0/99', controller: { nodePortRange: '5-1' }, typo: 1, proxy: { mode: 'nftables' } }, 'agent.yaml'));
  t.is(err!.message, [
    'agent.yaml: 4 problems:',
    '  nodeIP: must be an IP address, got "x"',
    '  clusterCIDR: must be a CIDR such as 10.244.0.0/16 or 10.244.0.0/16,fd00:10:244::/56, got "10.244.0.0/99": prefix length 99 is out of range 0..32 for IPv4',
    '  controller.nodePortRange: must be FIRST-LAST such as 30000-32767, got "5-1"',
    '  typo: is not a known field',
  ].join('\n'));
  t.deepEqual(readAgentConfig({ nodeIP: '10.0.0.1', proxy: { mode: 'nftables' } }).sections, { proxy: { mode: 'nftables' } });
});
