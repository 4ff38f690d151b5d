/**
 * @module node/agentConfig — `podnetd agent --config FILE`: the node part's settings, checked field by field
 * (ConfigError names file and field). Sections that other parts read (`proxy`, `dns`, `lb`, `routing`, `cni`, `bgp`)
 * are passed through untouched for them; any other unknown top-level field is an error.
 *
 * Dual-stack follows Kubernetes' flags: `nodeIP`, `clusterCIDR` and `serviceCIDR` take a comma list of one IPv4
 * and one IPv6 entry (kubelet `--node-ip`, `--cluster-cidr`, `--service-cluster-ip-range`). The singular fields
 * of AgentConfig hold the primary (first) entry, so single-stack readers are unchanged; the plural ones hold all.
 */
import { networkInterfaces } from 'node:os';
import { FieldReader, loadConfigFile } from '../common/config.ts';
import type { IpPrefix } from '../common/ipPrefix.ts';
import { cidrTexts, parseCidrList, parseIpList } from './dualStackConfig.ts';

export interface AgentConfig {
  store?: string;
  nodeName?: string;
  /** The primary node address (first of nodeIPs). */
  nodeIP: string;
  /** Every node address, primary first; at most one per family. */
  nodeIPs: string[];
  clusterCIDR: string;
  clusterCIDRs: string[];
  serviceCIDR: string;
  serviceCIDRs: string[];
  /** Per-node pod subnet length in the IPv4 cluster CIDR (24) and in the IPv6 one (64, kube-controller-manager's default). */
  podSubnetLength: number;
  podSubnetLength6: number;
  mtu: number;
  nodeStateFile: string;
  podCIDRLeaseTTLSeconds: number;
  backend: string;
  tunnelEndpoint?: string;
  vtepMAC?: string;
  bgpASN?: number;
  clusterDNS: string;
  clusterDomain: string;
  controller: { enabled: boolean; leaseTTLSeconds: number; nodePortRange: [number, number] };
  /** Sections of other parts, as written. */
  sections: Record<string, unknown>;
}

export const OTHER_PARTS = ['proxy', 'dns', 'lb', 'routing', 'cni', 'bgp'] as const;

function firstHostIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

export function readAgentConfig(raw: unknown, file?: string): AgentConfig {
  const r = new FieldReader(raw);
  const store = r.string('store');
  const nodeName = r.string('nodeName');
  const nodeIPText = r.string('nodeIP') ?? firstHostIPv4() ?? '';
  const nodeIPs = parseIpList(nodeIPText);
  if (!nodeIPText) r.problem('nodeIP', 'is required: no non-loopback IPv4 address found on this host');
  else if (nodeIPs.problem) r.problem('nodeIP', nodeIPs.problem);
  const cidrs = (field: string, def: string, example: string): IpPrefix[] => {
    const parsed = parseCidrList(r.string(field, def) ?? def, example);
    if (parsed.problem) r.problem(field, parsed.problem);
    return parsed.values;
  };
  const clusterCIDRs = cidrs('clusterCIDR', '10.244.0.0/16', '10.244.0.0/16 or 10.244.0.0/16,fd00:10:244::/56');
  const serviceCIDRs = cidrs('serviceCIDR', '10.96.0.0/16', '10.96.0.0/16 or 10.96.0.0/16,fd00:10:96::/112');
  const bits = (family: 4 | 6, def: number) => clusterCIDRs.find((p) => p.addr.family === family)?.prefixLen ?? def;
  const podSubnetLength = r.int('podSubnetLength', 24, { min: bits(4, 8), max: 30 });
  // kube-controller-manager's rule: at most 16 bits between the cluster CIDR and a node's subnet.
  const podSubnetLength6 = r.int('podSubnetLength6', 64, { min: bits(6, 48), max: 126 });
  if (podSubnetLength6 - bits(6, podSubnetLength6) > 16) {
    r.problem('podSubnetLength6', `/${podSubnetLength6} is more than 16 bits longer than the IPv6 cluster CIDR /${bits(6, 0)} (too many node subnets to lease)`);
  }
  const mtu = r.int('mtu', 1450, { min: 576, max: 9000 });
  const nodeStateFile = r.string('nodeStateFile', '/run/podnet/node.json');
  const podCIDRLeaseTTLSeconds = r.int('podCIDRLeaseTTLSeconds', 60, { min: 2, max: 86400 * 7 });
  const backend = r.oneOf('backend', ['vxlan', 'host-gw', 'cross-subnet', 'ipip', 'bgp'], 'vxlan');
  const tunnelEndpoint = r.string('tunnelEndpoint');
  const vtepMAC = r.string('vtepMAC');
  if (vtepMAC && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(vtepMAC)) r.problem('vtepMAC', `must be a lowercase MAC address, got "${vtepMAC}"`);
  const asn = r.int('bgpASN', 0, { min: 0, max: 4294967295 });
  const clusterDNS = r.string('clusterDNS', '10.96.0.10');
  const clusterDomain = r.string('clusterDomain', 'cluster.local');
  const c = r.child('controller');
  const controller = {
    enabled: c.bool('enabled', true),
    leaseTTLSeconds: c.int('leaseTTLSeconds', 15, { min: 2, max: 3600 }),
    nodePortRange: parseRange(c.string('nodePortRange', '30000-32767'), c),
  };
  c.rejectUnknown();
  const sections: Record<string, unknown> = {};
  for (const part of OTHER_PARTS) {
    if (r.has(part)) sections[part] = (raw as Record<string, unknown>)[part];
    r.child(part); // marks it as known
  }
  r.rejectUnknown();
  r.throwIfProblems(file);
  return {
    ...(store ? { store } : {}), ...(nodeName ? { nodeName } : {}),
    nodeIP: nodeIPs.values[0] ?? nodeIPText, nodeIPs: nodeIPs.values,
    clusterCIDR: cidrTexts(clusterCIDRs)[0]!, clusterCIDRs: cidrTexts(clusterCIDRs),
    serviceCIDR: cidrTexts(serviceCIDRs)[0]!, serviceCIDRs: cidrTexts(serviceCIDRs), podSubnetLength, podSubnetLength6, mtu,
    nodeStateFile, podCIDRLeaseTTLSeconds, backend, ...(tunnelEndpoint ? { tunnelEndpoint } : {}), ...(vtepMAC ? { vtepMAC } : {}),
    ...(asn ? { bgpASN: asn } : {}), clusterDNS, clusterDomain, controller, sections,
  };
}

function parseRange(text: string, r: FieldReader): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo < 1 || hi > 65535 || lo > hi) {
    r.problem('nodePortRange', `must be FIRST-LAST such as 30000-32767, got "${text}"`);
    return [30000, 32767];
  }
  return [lo, hi];
}

export function loadAgentConfig(path: string | undefined): AgentConfig {
  return path ? readAgentConfig(loadConfigFile(path), path) : readAgentConfig({});
}
