import test from 'ava';
import { readBgpSettings } from '../../../src/bgp/bgpAgentConfig.ts';
import { ConfigProblems } from '../../../src/common/config.ts';
import { readAgentConfig } from '../../../src/node/agentConfig.ts';
import { checkAllParts } from '../../../src/daemon/agentParts.ts';
import { routingAgentPart as routingPart } from '../../../src/routing/routingAgentPart.ts';

function problems(fn: () => unknown): string[] {
  try { fn(); } catch (err) { if (err instanceof ConfigProblems) return [...err.problems]; throw err; }
  return [];
}

test('defaults: full mesh on 179, pod CIDR only, 120 s graceful restart, BFD 300 ms × 3, status on 127.0.0.1:9179', (t) => {
  t.deepEqual(readBgpSettings(undefined, 64512), {
    asn: 64512, mode: 'full-mesh', routeReflectors: [], port: 179,
    advertise: { podCIDR: true, serviceClusterIPs: false, externalIPs: false, loadBalancerIPs: false },
    gracefulRestartTimeSeconds: 120, bfd: { intervalMs: 300, multiplier: 3 }, statusAddress: { host: '127.0.0.1', port: 9179 },
  });
});

test('the contract\'s example section reads as written; bfd: false and statusAddress: off turn them off', (t) => {
  const s = readBgpSettings({
    mode: 'route-reflector-client', routeReflectors: ['198.18.0.11'], routeReflectorServer: { clusterId: '198.18.0.11' }, port: 1179,
    advertise: { podCIDR: true, serviceClusterIPs: true, externalIPs: true, loadBalancerIPs: true }, gracefulRestartTime: '2m',
    bfd: { intervalMs: 100, multiplier: 5 }, statusAddress: '[::1]:9000',
  }, 65000);
  t.like(s, { mode: 'route-reflector-client', routeReflectors: ['198.18.0.11'], routeReflectorServer: { clusterId: '198.18.0.11' }, port: 1179, gracefulRestartTimeSeconds: 120, bfd: { intervalMs: 100, multiplier: 5 }, statusAddress: { host: '::1', port: 9000 } });
  const off = readBgpSettings({ bfd: false, statusAddress: 'off', gracefulRestartTime: 30 }, 64512);
  t.is(off.bfd, undefined);
  t.is(off.statusAddress, undefined);
  t.is(off.gracefulRestartTimeSeconds, 30);
});

test('every problem names its field and says why, all at once, with the file', (t) => {
  let err: unknown;
  try {
    readBgpSettings({
      mode: 'mesh', routeReflectors: ['rr1'], routeReflectorServer: { clusterId: 'abc' }, port: 0, advertise: { podCidr: true },
      gracefulRestartTime: '3h', bfd: { intervalMs: 'fast' }, statusAddress: '0.0.0.0:9179', color: 'blue',
    }, 0, '/etc/podnet/agent.yaml');
  } catch (e) { err = e; }
  t.true(err instanceof ConfigProblems);
  const p = (err as ConfigProblems).problems;
  t.regex((err as Error).message, /^\/etc\/podnet\/agent\.yaml: /);
  t.true(p.includes('bgpASN: is required when backend is bgp (the cluster AS, e.g. 64512)'));
  t.true(p.includes('bgp.mode: must be one of full-mesh, route-reflector-client, external-only, got "mesh"'));
  t.true(p.includes('bgp.routeReflectors: "rr1" is not an IP address'));
  t.true(p.some((x) => x.startsWith('bgp.routeReflectorServer.clusterId: must be a dotted-quad')));
  t.true(p.includes('bgp.port: must be at least 1, got 0'));
  t.true(p.includes('bgp.advertise.podCidr: is not a known field'));
  t.true(p.some((x) => x.startsWith('bgp.gracefulRestartTime: must be at most 4095s')));
  t.true(p.includes('bgp.bfd.intervalMs: must be an integer, got "fast"'));
  t.true(p.some((x) => x.startsWith('bgp.statusAddress: must be a loopback address')), 'a non-loopback status address is refused');
  t.true(p.includes('bgp.color: is not a known field'));
});

test('route-reflector-client mode without reflectors is an error', (t) => {
  t.deepEqual(problems(() => readBgpSettings({ mode: 'route-reflector-client' }, 64512)), ['bgp.routeReflectors: is required in route-reflector-client mode (the reflectors\' addresses)']);
});

test('agent config: backend bgp turns the routing part on from the bgp section; problems come out of the agent check', (t) => {
  const base = { nodeIP: '198.18.0.11', backend: 'bgp', bgpASN: 64512 };
  const c = readAgentConfig({ ...base, bgp: { mode: 'full-mesh' } });
  t.deepEqual(c.sections.bgp, { mode: 'full-mesh' });
  t.notThrows(() => checkAllParts([routingPart()], c, 'a.yaml'));
  const noAsn = readAgentConfig({ nodeIP: '198.18.0.11', backend: 'bgp', bgp: {} });
  t.deepEqual(problems(() => checkAllParts([routingPart()], noAsn, 'a.yaml')), ['bgpASN: is required when backend is bgp (the cluster AS, e.g. 64512)']);
  const wrong = readAgentConfig({ nodeIP: '198.18.0.11', backend: 'vxlan', bgp: {} });
  t.regex(problems(() => checkAllParts([routingPart()], wrong, 'a.yaml'))[0]!, /bgp: is only read with backend: bgp \(backend is vxlan\)/);
});

test('BFDProfile is a store kind (metallb.io/v1beta1) with MetalLB\'s ranges checked', async (t) => {
  const { validateObject } = await import('../../../src/store/validate.ts');
  const ok = validateObject({ apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'fast', namespace: 'metallb-system' }, spec: { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 } });
  t.deepEqual(ok.problems, []);
  const bad = validateObject({ apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'x' }, spec: { receiveInterval: 5, detectMultiplier: 1 } });
  t.is(bad.problems.length, 2);
  t.true(bad.problems.some((p) => p.includes('spec.receiveInterval')));
});
