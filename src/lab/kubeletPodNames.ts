/**
 * @module lab/kubeletPodNames — names the lab kubelet gives a pod's pieces. Pure.
 *
 * Namespace `<lab>-pod-<namespace>-<name>` (what `lab exec` resolves: `web-1` → `<lab>-pod-default-web-1`,
 * `ns/web-1` → `<lab>-pod-ns-web-1`). Kubernetes namespaces may contain dashes, so two pods can map to one name
 * (`a-b/c` and `a/b-c`); the kubelet refuses the second (see kubelet.ts) rather than share a namespace.
 * The container id (CNI_CONTAINERID) is derived from the pod's uid, as a runtime's sandbox id is per pod
 * instance: a pod deleted and re-created under the same name gets a new one, so a stale lease never matches.
 */
import { createHash } from 'node:crypto';
import type { Pod } from '../store/types.ts';
import { labPrefix } from './labNames.ts';

export const POD_IFNAME = 'eth0';

export function podKey(pod: Pick<Pod, 'metadata'>): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

export function podNetnsName(lab: string, namespace: string, name: string): string {
  return `${labPrefix(lab)}pod-${namespace}-${name}`;
}

export function podNetnsOf(lab: string, pod: Pick<Pod, 'metadata'>): string {
  return podNetnsName(lab, pod.metadata.namespace ?? 'default', pod.metadata.name);
}

/** 64 hex characters, like a runtime's sandbox id. */
export function podContainerId(pod: Pick<Pod, 'metadata'>): string {
  const identity = pod.metadata.uid ?? `${podKey(pod)}@${pod.metadata.creationTimestamp ?? ''}`;
  return createHash('sha256').update(`podnet-lab/${identity}`).digest('hex');
}

/** File-name-safe key for per-pod files (records, logs). */
export function podFileKey(pod: Pick<Pod, 'metadata'>): string {
  return `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}`;
}

/** The `/etc/netns/<ns>/resolv.conf` of a pod: the cluster DNS and Kubernetes' search path (ClusterFirst). */
export function podResolvConf(namespace: string, dnsIp: string, clusterDomain = 'cluster.local'): string {
  return `nameserver ${dnsIp}\nsearch ${namespace}.svc.${clusterDomain} svc.${clusterDomain} ${clusterDomain}\noptions ndots:5\n`;
}
