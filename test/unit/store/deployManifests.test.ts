/** deploy/: the DaemonSet and RBAC say what issue 4 asks for (host network, control-plane tolerations, CNI
 * install init container, least rights). Parsed as YAML; not applied to a cluster (none is available here). */
import test from 'ava';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';

const docs = (f: string) => YAML.parseAllDocuments(readFileSync(new URL(`../../../deploy/${f}`, import.meta.url), 'utf8')).map((d) => d.toJS() as Record<string, any>);

test('the DaemonSet runs on the host network on every node, control plane included, after installing the CNI', (t) => {
  const ds = docs('podnet-daemonset.yaml').find((d) => d.kind === 'DaemonSet')!;
  const pod = ds.spec.template.spec;
  t.true(pod.hostNetwork);
  t.true(pod.tolerations.some((x: { key?: string }) => x.key === 'node-role.kubernetes.io/control-plane'));
  t.deepEqual(pod.initContainers.map((c: { command: string[] }) => c.command.slice(0, 2)), [['/opt/podnet/bin/podnetctl', 'install-cni']]);
  t.is(pod.serviceAccountName, 'podnet');
  t.true(pod.volumes.some((v: { configMap?: { name: string } }) => v.configMap?.name === 'podnet-config'));
});

test('RBAC grants reads, Node and Service-status updates and namespaced leases, and no EndpointSlice writes', (t) => {
  const role = docs('podnet-rbac.yaml').find((d) => d.kind === 'ClusterRole')!;
  const writes = role.rules.filter((r: { verbs: string[] }) => r.verbs.some((v) => ['create', 'update', 'patch', 'delete'].includes(v)));
  t.deepEqual(writes.map((r: { resources: string[] }) => r.resources.join(',')).sort(), ['events', 'nodes', 'services/status']);
  t.false(role.rules.some((r: { verbs: string[] }) => r.verbs.includes('*')));
  const cm = docs('podnet-config.yaml')[0]!;
  t.regex(cm.data['agent.yaml'], /store: kube/);
});
