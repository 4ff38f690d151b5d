/**
 * `lab up --proxy-mode nftables|iptables` (CreateLabOptions.proxyMode): the mode reaches every node's agent config
 * (`proxy.mode`, read back through the agent's own config reader), nftables by default, anything else refused
 * naming the flag.
 */
import test from 'ava';
import { planLab } from '../../../src/lab/addressPlan.ts';
import { agentConfigFor, nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import { labPaths } from '../../../src/lab/labState.ts';
import { readAgentConfig } from '../../../src/node/agentConfig.ts';
import { UsageError } from '../../../src/common/cli.ts';

const files = nodeFiles(labPaths('demo', '/run/podnet-lab'), 'n1');
const proxyOf = (plan: ReturnType<typeof planLab>) =>
  readAgentConfig(JSON.parse(JSON.stringify(agentConfigFor(plan, plan.hosts[0]!, 'file:/x', files))), 'podnetd.json').sections.proxy as { mode: string };

test('proxy mode: nftables by default, iptables when asked', (t) => {
  t.is(proxyOf(planLab({ name: 'demo', nodes: 1, routing: 'vxlan', store: 'file' })).mode, 'nftables');
  t.is(proxyOf(planLab({ name: 'demo', nodes: 1, routing: 'vxlan', store: 'file', proxyMode: 'iptables' })).mode, 'iptables');
});

test('proxy mode: an unknown mode is a usage error naming --proxy-mode', (t) => {
  const err = t.throws(() => planLab({ name: 'demo', nodes: 1, routing: 'vxlan', store: 'file', proxyMode: 'ipvs' as 'iptables' }), { instanceOf: UsageError });
  t.regex(err!.message, /--proxy-mode: must be one of nftables, iptables, got "ipvs"/);
});
