/**
 * `podnetd agent` composition: every part's config section is checked before anything starts, errors name the
 * file and the field, absent sections leave a part off, and the lab's generated config enables every part.
 * The parts running together are tested end to end in test/e2e/demo/labDemo.test.ts.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { AgentPart } from '../../../src/common/agentPart.ts';
import { checkAllParts } from '../../../src/daemon/agentParts.ts';
import { routingAgentPart } from '../../../src/routing/routingAgentPart.ts';
import { lbAgentPart } from '../../../src/lb/lbAgentPart.ts';
import { proxyAgentPart, readProxySection } from '../../../src/services/proxyAgentPart.ts';
import { dnsAgentPart, dnsEndpointSlice, dnsService, readDnsSection } from '../../../src/dns/dnsAgentPart.ts';
import { cniAgentPart } from '../../../src/cni/handoff/cniAgentPart.ts';
import { readAgentConfig } from '../../../src/node/agentConfig.ts';
import { FieldReader } from '../../../src/common/config.ts';
import { describeError } from '../../../src/common/errors.ts';
import { planLab } from '../../../src/lab/addressPlan.ts';
import { agentConfigFor, nodeFiles } from '../../../src/lab/labNodeFiles.ts';
import { labPaths } from '../../../src/lab/labState.ts';

const parts = (): AgentPart[] => [routingAgentPart(), proxyAgentPart(), dnsAgentPart(), lbAgentPart(), cniAgentPart()];
const config = (extra: Record<string, unknown>) => readAgentConfig({ nodeIP: '198.18.0.11', ...extra }, '/etc/podnet/podnetd.yaml');

test('the lab\'s agent config enables proxy, dns, lb and cni, and every part accepts it', (t) => {
  const plan = planLab({ name: 'demo', nodes: 2, routing: 'vxlan', store: 'file' });
  const files = nodeFiles(labPaths('demo', '/run/podnet-lab'), 'n1');
  const c = readAgentConfig(JSON.parse(JSON.stringify(agentConfigFor(plan, plan.hosts[0]!, 'file:/x', files))), 'podnetd.json');
  t.deepEqual(Object.keys(c.sections).sort(), ['cni', 'dns', 'lb', 'proxy', 'routing']);
  t.is((c.sections.cni as { handoffSocket: string }).handoffSocket, '/run/podnet-lab/demo/nodes/n1/cni.sock');
  for (const p of parts()) t.notThrows(() => p.check?.(c, 'podnetd.json'), p.name);
});

test('bad fields: each part\'s check fails naming the file and the field', (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['proxy', { proxy: { mode: 'fast' } }, /proxy\.mode/],
    ['proxy', { proxy: { minSyncPeriod: 'soon' } }, /proxy\.minSyncPeriod/],
    ['proxy', { proxy: { clusterCIDRs: ['10.0.0.0/99'] } }, /proxy\.clusterCIDRs/],
    ['dns', { dns: { ttl: -1 } }, /dns\.ttl/],
    ['dns', { dns: { listen: 'nowhere' } }, /dns\.listen/],
    ['dns', { dns: { pods: 'all' } }, /dns\.pods/],
    ['lb', { lb: { speakers: 3 } }, /lb\.speakers/],
    ['cni', { cni: { handoffSocket: 'cni.sock' } }, /cni\.handoffSocket/],
    ['routing', { routing: { vni: 1 << 25 } }, /routing\.vni/],
  ];
  for (const [name, extra, field] of cases) {
    const part = parts().find((p) => p.name === name)!;
    const err = t.throws(() => part.check!(config(extra), '/etc/podnet/podnetd.yaml'), undefined, `${name} ${JSON.stringify(extra)}`);
    const text = describeError(err);
    t.regex(text, field);
    t.regex(text, /\/etc\/podnet\/podnetd\.yaml/);
  }
});

test('the shipped deploy ConfigMap turns every part on and every part accepts it', (t) => {
  const cm = parseAllDocuments(readFileSync(new URL('../../../deploy/podnet-config.yaml', import.meta.url), 'utf8'))[0]!.toJS() as { data: Record<string, string> };
  const c = readAgentConfig({ ...parseYaml(cm.data['agent.yaml']!), nodeIP: '10.0.0.5' }, 'agent.yaml');
  t.deepEqual(Object.keys(c.sections).sort(), ['cni', 'dns', 'lb', 'proxy', 'routing']);
  t.notThrows(() => checkAllParts(parts(), c, 'agent.yaml'));
});

test('several bad sections: one error lists every section\'s problems, naming the file once', (t) => {
  const c = config({ proxy: { mode: 'fast' }, dns: { ttl: -1 }, routing: { vni: 1 << 25 } });
  const err = t.throws(() => checkAllParts(parts(), c, '/etc/podnet/podnetd.yaml'));
  const text = describeError(err);
  t.regex(text, /^\/etc\/podnet\/podnetd\.yaml: 3 problems/);
  for (const field of [/proxy\.mode/, /dns\.ttl/, /routing\.vni/]) t.regex(text, field);
});

test('a part is off without its section or with enabled: false; defaults follow the agent config', (t) => {
  t.is(readProxySection(new FieldReader({}, 'proxy'), '10.244.0.0/16', false), undefined);
  t.is(readProxySection(new FieldReader({ enabled: false }, 'proxy'), '10.244.0.0/16', true), undefined);
  const proxy = readProxySection(new FieldReader({}, 'proxy'), '10.244.0.0/16', true)!;
  t.like(proxy.options, { mode: 'nftables', minSyncMs: 1000, syncPeriodMs: 30_000, nodePortAddresses: 'primary' });
  t.deepEqual(proxy.options.backend.clusterCIDRs, ['10.244.0.0/16']);
  t.deepEqual(proxy.healthz, { host: '0.0.0.0', port: 10256 });
  // A dual-stack agent's proxy masquerades by both cluster CIDRs unless told otherwise.
  const dual = config({ clusterCIDR: '10.244.0.0/16,fd00:10:244::/56', nodeIP: '198.18.0.11,fd00:198:18::11', proxy: {} });
  t.deepEqual(readProxySection(new FieldReader({}, 'proxy'), dual.clusterCIDRs, true)!.options.backend.clusterCIDRs, ['10.244.0.0/16', 'fd00:10:244::/56']);
  t.is(readDnsSection(new FieldReader({}, 'dns'), '198.18.0.11', false), undefined);
  const dns = readDnsSection(new FieldReader({ upstreams: 'none' }, 'dns'), '198.18.0.11', true, { upstreams: 'none' })!;
  t.deepEqual(dns.listen, { host: '198.18.0.11', port: 53 });
  t.deepEqual(dns.upstreams, []);
  t.true(dns.publish);
  const listed = { upstreams: ['198.18.0.1', '198.18.0.2:5353'] };
  const r = new FieldReader(listed, 'dns');
  t.deepEqual(readDnsSection(r, '198.18.0.11', true, listed)!.upstreams, [{ host: '198.18.0.1', port: 53 }, { host: '198.18.0.2', port: 5353 }]);
  t.deepEqual(r.problems, []);
});

test('kube-dns: a selector-less Service at the cluster DNS address and one ready endpoint per node', (t) => {
  const svc = dnsService('10.96.0.10', 53);
  t.like(svc, { metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10', type: 'ClusterIP' } });
  t.is(svc.spec.selector, undefined, 'no selector: the endpoints controller leaves its slices alone');
  t.deepEqual(svc.spec.ports?.map((p) => `${p.port}/${p.protocol}`), ['53/UDP', '53/TCP']);
  const slice = dnsEndpointSlice('n2', '198.18.0.12', 53);
  t.is(slice.metadata.name, 'kube-dns-n2');
  t.is(slice.metadata.labels?.['kubernetes.io/service-name'], 'kube-dns');
  t.deepEqual(slice.endpoints, [{ addresses: ['198.18.0.12'], nodeName: 'n2', conditions: { ready: true, serving: true, terminating: false } }]);
  t.deepEqual(slice.ports?.map((p) => `${p.name}:${p.port}/${p.protocol}`), ['dns:53/UDP', 'dns-tcp:53/TCP']);
});
