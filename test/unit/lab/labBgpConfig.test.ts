/**
 * `lab up --routing bgp`: every node's agent config selects the bgp backend with the cluster AS and a bgp section
 * that podnetd's own readers accept (full mesh by default; a test's overrides merged in), and routing is on.
 */
import test from 'ava';
import { readAgentConfig } from '../../../src/node/agentConfig.ts';
import { readBgpSettings } from '../../../src/bgp/bgpAgentConfig.ts';
import { planLab } from '../../../src/lab/addressPlan.ts';
import { agentConfigFor, agentRoutes, LAB_BGP_ASN, nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import { labPaths } from '../../../src/lab/labState.ts';

const plan = planLab({ name: 'demo', nodes: 3, routing: 'bgp', store: 'file' });
const files = nodeFiles(labPaths('demo', '/run/podnet-lab'), 'n1');

test('bgp lab: backend bgp, AS 64512, a full mesh, routing on', (t) => {
  t.true(agentRoutes(plan));
  const c = readAgentConfig(JSON.parse(JSON.stringify(agentConfigFor(plan, plan.hosts[0]!, 'file:/x', files))), 'podnetd.json');
  t.like(c, { backend: 'bgp', bgpASN: LAB_BGP_ASN, nodeIP: '198.18.0.11' });
  t.deepEqual(c.sections.routing, { masquerade: true });
  const s = readBgpSettings(c.sections.bgp, c.bgpASN ?? 0, 'podnetd.json');
  t.like(s, { asn: 64512, mode: 'full-mesh', port: 179 });
});

test('bgp lab: overrides (route-reflector client, BFD timers) are merged into the section', (t) => {
  const raw = agentConfigFor(plan, plan.hosts[1]!, 'file:/x', files, {},
    { mode: 'route-reflector-client', routeReflectors: ['198.18.0.1'], bfd: { intervalMs: 100, multiplier: 3 } });
  const c = readAgentConfig(JSON.parse(JSON.stringify(raw)));
  t.like(readBgpSettings(c.sections.bgp, c.bgpASN ?? 0), {
    mode: 'route-reflector-client', routeReflectors: ['198.18.0.1'], bfd: { intervalMs: 100, multiplier: 3 } });
});

test('other labs carry no bgp settings', (t) => {
  const vx = planLab({ name: 'demo', nodes: 2, routing: 'vxlan', store: 'file' });
  const c = readAgentConfig(JSON.parse(JSON.stringify(agentConfigFor(vx, vx.hosts[0]!, 'file:/x', files))));
  t.is(c.bgpASN, undefined);
  t.is(c.sections.bgp, undefined);
});
