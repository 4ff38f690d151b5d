/**
 * @module store/types — the Kubernetes objects podnet reads and writes (design §1), typed as the API defines them.
 * Only the fields podnet uses are declared; everything else in a manifest is kept as-is (objects round-trip).
 * Validation of untrusted input lives in store/validate*.ts; these types describe objects that passed it.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}

export interface KubeObject<K extends string = string> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type IPFamily = 'IPv4' | 'IPv6';

// ---- core/v1 Node ----
export interface NodeAddress { type: 'InternalIP' | 'ExternalIP' | 'Hostname' | 'InternalDNS' | 'ExternalDNS'; address: string }
export interface Node extends KubeObject<'Node'> {
  spec?: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean; taints?: Array<{ key: string; value?: string; effect: string }> };
  status?: {
    addresses?: NodeAddress[];
    conditions?: Array<{ type: string; status: 'True' | 'False' | 'Unknown'; lastHeartbeatTime?: string; reason?: string; message?: string }>;
  };
}

// ---- core/v1 Namespace ----
export interface Namespace extends KubeObject<'Namespace'> {
  status?: { phase?: 'Active' | 'Terminating' };
}

// ---- core/v1 Service ----
export interface ServicePort {
  name?: string;
  protocol?: Protocol;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: IPFamily[];
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  externalIPs?: string[];
  externalName?: string;
  loadBalancerIP?: string;
  loadBalancerSourceRanges?: string[];
  loadBalancerClass?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  healthCheckNodePort?: number;
  sessionAffinity?: 'None' | 'ClientIP';
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  publishNotReadyAddresses?: boolean;
  allocateLoadBalancerNodePorts?: boolean;
  trafficDistribution?: 'PreferClose' | 'PreferSameZone' | 'PreferSameNode';
}

export interface LoadBalancerIngress { ip?: string; hostname?: string; ipMode?: 'VIP' | 'Proxy'; ports?: Array<{ port: number; protocol: Protocol }> }

export interface Service extends KubeObject<'Service'> {
  spec: ServiceSpec;
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] }; conditions?: unknown[] };
}

// ---- discovery.k8s.io/v1 EndpointSlice ----
export interface EndpointConditions { ready?: boolean; serving?: boolean; terminating?: boolean }
export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind: string; name: string; namespace?: string; uid?: string };
  hints?: { forZones?: Array<{ name: string }>; forNodes?: Array<{ name: string }> };
}
export interface EndpointPort { name?: string; protocol?: Protocol; port?: number; appProtocol?: string }
export interface EndpointSlice extends KubeObject<'EndpointSlice'> {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: Endpoint[];
  ports?: EndpointPort[];
}

// ---- core/v1 Pod ----
export interface ContainerPort { name?: string; containerPort: number; protocol?: Protocol; hostPort?: number }
export interface Container { name: string; image?: string; command?: string[]; args?: string[]; ports?: ContainerPort[] }
export interface PodCondition { type: string; status: 'True' | 'False' | 'Unknown'; lastTransitionTime?: string }
export interface Pod extends KubeObject<'Pod'> {
  spec: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    hostNetwork?: boolean;
    containers: Container[];
    terminationGracePeriodSeconds?: number;
  };
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    podIP?: string;
    podIPs?: Array<{ ip: string }>;
    hostIP?: string;
    conditions?: PodCondition[];
    /** Why the pod is in its phase (e.g. the lab kubelet's `SandboxCreateFailed`), and the details. */
    reason?: string;
    message?: string;
  };
}

// ---- core/v1 ConfigMap (the legacy MetalLB config lives in metallb-system/config) ----
export interface ConfigMap extends KubeObject<'ConfigMap'> {
  data?: Record<string, string>;
}

// ---- metallb.io ----
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}
export interface IPAddressPool extends KubeObject<'IPAddressPool'> {
  spec: {
    addresses: string[];
    autoAssign?: boolean;
    avoidBuggyIPs?: boolean;
    serviceAllocation?: { priority?: number; namespaces?: string[]; namespaceSelectors?: LabelSelector[]; serviceSelectors?: LabelSelector[] };
  };
}
export interface L2Advertisement extends KubeObject<'L2Advertisement'> {
  spec?: { ipAddressPools?: string[]; ipAddressPoolSelectors?: LabelSelector[]; nodeSelectors?: LabelSelector[]; interfaces?: string[] };
}
export interface BGPPeer extends KubeObject<'BGPPeer'> {
  spec: {
    myASN: number;
    peerASN: number;
    peerAddress: string;
    sourceAddress?: string;
    peerPort?: number;
    holdTime?: string;
    keepaliveTime?: string;
    routerID?: string;
    nodeSelectors?: LabelSelector[];
    password?: string;
    bfdProfile?: string;
    ebgpMultiHop?: boolean;
    enableGracefulRestart?: boolean;
  };
}
/** metallb.io/v1beta1 BFDProfile: timers a BGPPeer's `bfdProfile` names (milliseconds, like MetalLB). */
export interface BFDProfile extends KubeObject<'BFDProfile'> {
  spec?: {
    receiveInterval?: number;
    transmitInterval?: number;
    detectMultiplier?: number;
    echoMode?: boolean;
    passiveMode?: boolean;
    minimumTtl?: number;
  };
}

/** Every kind podnet knows, with its apiVersion and whether it is namespaced. */
export const KINDS = {
  Node: { apiVersion: 'v1', namespaced: false },
  Namespace: { apiVersion: 'v1', namespaced: false },
  Service: { apiVersion: 'v1', namespaced: true },
  Pod: { apiVersion: 'v1', namespaced: true },
  ConfigMap: { apiVersion: 'v1', namespaced: true },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', namespaced: true },
  IPAddressPool: { apiVersion: 'metallb.io/v1beta1', namespaced: true },
  L2Advertisement: { apiVersion: 'metallb.io/v1beta1', namespaced: true },
  BGPPeer: { apiVersion: 'metallb.io/v1beta2', namespaced: true },
  BFDProfile: { apiVersion: 'metallb.io/v1beta1', namespaced: true },
  Lease: { apiVersion: 'coordination.k8s.io/v1', namespaced: true },
} as const;

export type KindName = keyof typeof KINDS;

export interface KindMap {
  Node: Node;
  Namespace: Namespace;
  Service: Service;
  Pod: Pod;
  ConfigMap: ConfigMap;
  EndpointSlice: EndpointSlice;
  IPAddressPool: IPAddressPool;
  L2Advertisement: L2Advertisement;
  BGPPeer: BGPPeer;
  BFDProfile: BFDProfile;
  Lease: KubeObject<'Lease'> & { spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string } };
}

/** `namespace/name` (or `name` for cluster-scoped kinds): the key of an object within its kind. */
export function objectKey(o: { metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}
