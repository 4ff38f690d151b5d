/**
 * @module store/validateKinds — per-kind checks of the fields podnet relies on, and the defaults the API server
 * would fill in (port protocol TCP, targetPort = port, Service type ClusterIP), so every backend hands consumers
 * the same shape.
 */
import type { Checker, Raw } from './validateChecks.ts';
import type { KindName } from './types.ts';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

function checkService(c: Checker, o: Raw): void {
  const spec = c.map(o.spec, 'spec', true);
  if (!spec) return;
  spec.type ??= 'ClusterIP';
  c.oneOf(spec.type, 'spec.type', ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']);
  c.stringMap(spec.selector, 'spec.selector');
  const ports = c.list(spec.ports, 'spec.ports');
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    const port = c.map(p, path, true);
    if (!port) return;
    c.port(port.port, `${path}.port`, true);
    port.protocol ??= 'TCP';
    c.oneOf(port.protocol, `${path}.protocol`, PROTOCOLS);
    port.targetPort ??= port.port;
    c.portOrName(port.targetPort, `${path}.targetPort`);
    if (port.nodePort !== undefined) c.port(port.nodePort, `${path}.nodePort`);
    const name = c.string(port.name, `${path}.name`);
    if (ports.length > 1 && !name) c.add(`${path}.name`, 'is required when a Service has more than one port');
    if (name) {
      if (names.has(name)) c.add(`${path}.name`, `duplicate port name "${name}"`);
      names.add(name);
    }
  });
  if (spec.clusterIP !== 'None') c.ip(spec.clusterIP, 'spec.clusterIP');
  c.list(spec.clusterIPs, 'spec.clusterIPs').forEach((ip, i) => { if (ip !== 'None') c.ip(ip, `spec.clusterIPs[${i}]`, true); });
  c.ipList(spec.externalIPs, 'spec.externalIPs');
  c.ip(spec.loadBalancerIP, 'spec.loadBalancerIP');
  c.oneOf(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', ['Cluster', 'Local']);
  c.oneOf(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', ['Cluster', 'Local']);
  c.oneOf(spec.sessionAffinity, 'spec.sessionAffinity', ['None', 'ClientIP']);
  c.bool(spec.publishNotReadyAddresses, 'spec.publishNotReadyAddresses');
  if (spec.type === 'ExternalName') c.string(spec.externalName, 'spec.externalName', true);
}

function checkPod(c: Checker, o: Raw): void {
  const spec = c.map(o.spec, 'spec', true);
  if (!spec) return;
  const containers = c.list(spec.containers, 'spec.containers', true);
  if (spec.containers !== undefined && containers.length === 0) c.add('spec.containers', 'must list at least one container');
  containers.forEach((x, i) => {
    const path = `spec.containers[${i}]`;
    const ctr = c.map(x, path, true);
    if (!ctr) return;
    c.string(ctr.name, `${path}.name`, true);
    c.list(ctr.command, `${path}.command`).forEach((a, j) => c.string(a, `${path}.command[${j}]`, true));
    c.list(ctr.ports, `${path}.ports`).forEach((pp, j) => {
      const p = c.map(pp, `${path}.ports[${j}]`, true);
      if (!p) return;
      c.port(p.containerPort, `${path}.ports[${j}].containerPort`, true);
      p.protocol ??= 'TCP';
      c.oneOf(p.protocol, `${path}.ports[${j}].protocol`, PROTOCOLS);
      c.string(p.name, `${path}.ports[${j}].name`);
    });
  });
  c.string(spec.nodeName, 'spec.nodeName');
  c.bool(spec.hostNetwork, 'spec.hostNetwork');
  const status = c.map(o.status, 'status');
  if (!status) return;
  c.ip(status.podIP, 'status.podIP');
  c.list(status.podIPs, 'status.podIPs').forEach((x, i) => c.ip(c.map(x, `status.podIPs[${i}]`, true)?.ip, `status.podIPs[${i}].ip`, true));
  c.oneOf(status.phase, 'status.phase', ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);
}

function checkNode(c: Checker, o: Raw): void {
  const spec = c.map(o.spec, 'spec');
  if (spec) {
    c.cidr(spec.podCIDR, 'spec.podCIDR');
    c.list(spec.podCIDRs, 'spec.podCIDRs').forEach((x, i) => c.cidr(x, `spec.podCIDRs[${i}]`, true));
  }
  const status = c.map(o.status, 'status');
  c.list(status?.addresses, 'status.addresses').forEach((x, i) => {
    const a = c.map(x, `status.addresses[${i}]`, true);
    if (!a) return;
    c.string(a.type, `status.addresses[${i}].type`, true);
    const addr = c.string(a.address, `status.addresses[${i}].address`, true);
    if (addr && (a.type === 'InternalIP' || a.type === 'ExternalIP')) c.ip(addr, `status.addresses[${i}].address`);
  });
}

function checkEndpointSlice(c: Checker, o: Raw): void {
  c.oneOf(o.addressType, 'addressType', ['IPv4', 'IPv6', 'FQDN']);
  if (o.addressType === undefined) c.add('addressType', 'is required');
  o.endpoints ??= [];
  c.list(o.endpoints, 'endpoints').forEach((x, i) => {
    const e = c.map(x, `endpoints[${i}]`, true);
    if (!e) return;
    const addrs = c.list(e.addresses, `endpoints[${i}].addresses`, true);
    if (o.addressType !== 'FQDN') addrs.forEach((a, j) => c.ip(a, `endpoints[${i}].addresses[${j}]`, true));
    const cond = c.map(e.conditions, `endpoints[${i}].conditions`);
    for (const k of ['ready', 'serving', 'terminating']) c.bool(cond?.[k], `endpoints[${i}].conditions.${k}`);
  });
  c.list(o.ports, 'ports').forEach((x, i) => {
    const p = c.map(x, `ports[${i}]`, true);
    if (!p) return;
    c.port(p.port, `ports[${i}].port`);
    c.oneOf(p.protocol, `ports[${i}].protocol`, PROTOCOLS);
  });
}

function checkConfigMap(c: Checker, o: Raw): void {
  c.stringMap(o.data, 'data');
}

function checkIPAddressPool(c: Checker, o: Raw): void {
  const spec = c.map(o.spec, 'spec', true);
  if (!spec) return;
  c.list(spec.addresses, 'spec.addresses', true).forEach((x, i) => {
    const s = c.string(x, `spec.addresses[${i}]`, true);
    if (s && !isAddressRange(s)) c.add(`spec.addresses[${i}]`, `must be a CIDR or a range FIRST-LAST, got "${s}"`);
  });
  c.bool(spec.autoAssign, 'spec.autoAssign');
}

function checkL2Advertisement(c: Checker, o: Raw): void {
  const spec = c.map(o.spec, 'spec');
  c.list(spec?.ipAddressPools, 'spec.ipAddressPools').forEach((x, i) => c.string(x, `spec.ipAddressPools[${i}]`, true));
  c.list(spec?.interfaces, 'spec.interfaces').forEach((x, i) => c.string(x, `spec.interfaces[${i}]`, true));
}

function checkBGPPeer(c: Checker, o: Raw): void {
  const spec = c.map(o.spec, 'spec', true);
  if (!spec) return;
  c.int(spec.myASN, 'spec.myASN', 1, 4294967295, true);
  c.int(spec.peerASN, 'spec.peerASN', 1, 4294967295, true);
  c.ip(spec.peerAddress, 'spec.peerAddress', true);
  c.ip(spec.sourceAddress, 'spec.sourceAddress');
  c.port(spec.peerPort, 'spec.peerPort');
}

function checkBFDProfile(c: Checker, o: Raw): void {
  const spec = c.map(o.spec, 'spec');
  c.int(spec?.receiveInterval, 'spec.receiveInterval', 10, 60000);
  c.int(spec?.transmitInterval, 'spec.transmitInterval', 10, 60000);
  c.int(spec?.detectMultiplier, 'spec.detectMultiplier', 2, 255);
}

function checkLease(c: Checker, o: Raw): void {
  const spec = c.map(o.spec, 'spec');
  c.string(spec?.holderIdentity, 'spec.holderIdentity');
  c.int(spec?.leaseDurationSeconds, 'spec.leaseDurationSeconds', 1, 86400 * 365);
}

function isAddressRange(s: string): boolean {
  if (s.includes('/')) return /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(s);
  const parts = s.split('-').map((p) => p.trim());
  return parts.length === 2 && parts.every((p) => /^[0-9a-fA-F:.]+$/.test(p));
}

/** Kind → its check; Namespace has nothing beyond metadata. */
export const KIND_CHECKS: Record<KindName, (c: Checker, o: Raw) => void> = {
  Node: checkNode,
  Namespace: () => undefined,
  Service: checkService,
  Pod: checkPod,
  ConfigMap: checkConfigMap,
  EndpointSlice: checkEndpointSlice,
  IPAddressPool: checkIPAddressPool,
  L2Advertisement: checkL2Advertisement,
  BGPPeer: checkBGPPeer,
  BFDProfile: checkBFDProfile,
  Lease: checkLease,
};
