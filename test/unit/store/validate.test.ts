import test from 'ava';
import { formatProblem, parseJsonManifest, parseManifests } from '../../../src/store/validate.ts';

const GOOD = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]`;

test('every problem names file, document, object and field; the bad document is skipped, the others load', (t) => {
  const text = [
    GOOD,
    'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: http}]}',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p1}\nspec: {containers: [{name: c}]}',
  ].join('\n---\n');
  const r = parseManifests(text, 'app.yaml');
  t.deepEqual(r.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`), ['Service/web', 'Pod/p1']);
  t.deepEqual(r.problems.map(formatProblem), [
    'app.yaml: document 2 (Service default/web): spec.ports[0].port: must be an integer 1-65535, got "http"',
  ]);
});

test('API defaults are filled in: namespace, protocol, targetPort, Service type', (t) => {
  const r = parseManifests('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 53, protocol: UDP}, {port: 80}]}', 'f.yaml');
  t.deepEqual(r.problems.map((p) => p.message), [
    'spec.ports[0].name: is required when a Service has more than one port',
    'spec.ports[1].name: is required when a Service has more than one port',
  ]);
  const ok = parseManifests('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 53, protocol: UDP}]}', 'f.yaml');
  const svc = ok.objects[0]!.object;
  t.is(svc.metadata.namespace, 'default');
  t.deepEqual((svc as { spec: unknown }).spec, { type: 'ClusterIP', ports: [{ port: 53, protocol: 'UDP', targetPort: 53 }] });
});

test('a syntax error anywhere rejects the whole file (a half-written file is never half-applied)', (t) => {
  const half = `${GOOD}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: other\n`;
  const r = parseManifests(half, 'half.yaml');
  t.deepEqual(r.objects, []);
  t.regex(r.syntaxError ?? '', /^half\.yaml: document 2: cannot parse/);
  t.regex(parseJsonManifest('{"kind": "Service", ', 'x.json').syntaxError ?? '', /^x\.json: cannot parse JSON/);
});

test('unknown kinds, wrong apiVersions, bad names and bad addresses are named precisely', (t) => {
  const text = [
    'apiVersion: v1\nkind: Deployment\nmetadata: {name: d}',
    'apiVersion: v2\nkind: Node\nmetadata: {name: Node_1}\nspec: {podCIDR: 10.244.1.0/33}',
    'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.300]}]',
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [10.77.1.220-10.77.1.240, nonsense]}',
  ].join('\n---\n');
  const msgs = parseManifests(text, 'm.yaml').problems.map(formatProblem);
  t.true(msgs[0]!.startsWith('m.yaml: document 1 (Deployment default/d)') || msgs[0]!.startsWith('m.yaml: document 1 (Deployment d)'));
  t.regex(msgs[0]!, /kind: unknown kind "Deployment"/);
  t.true(msgs.includes('m.yaml: document 2 (Node Node_1): apiVersion: must be v1 for Node, got "v2"'), msgs.join('\n'));
  t.true(msgs.some((m) => m.includes('document 2 (Node Node_1): metadata.name: must be a lowercase DNS name')));
  t.true(msgs.includes('m.yaml: document 2 (Node Node_1): spec.podCIDR: must be a CIDR such as 10.244.1.0/24, got "10.244.1.0/33"'));
  t.true(msgs.includes('m.yaml: document 3 (EndpointSlice default/e): endpoints[0].addresses[0]: must be an IP address, got "10.0.0.300"'));
  t.true(msgs.includes('m.yaml: document 4 (IPAddressPool metallb-system/p): spec.addresses[1]: must be a CIDR or a range FIRST-LAST, got "nonsense"'));
});

test('a kind: List and JSON arrays count their items as documents', (t) => {
  const list = JSON.stringify({ kind: 'List', items: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'B' } },
  ] });
  const r = parseJsonManifest(list, 'l.json');
  t.deepEqual(r.objects.map((o) => o.object.metadata.name), ['a']);
  t.regex(formatProblem(r.problems[0]!), /^l\.json: document 2 \(Namespace B\): metadata\.name/);
});
