/**
 * @module node/agentConfig — `podnetd agent --config FILE`: the node part's settings, checked field by field
 * (ConfigError names file and field). Sections that other parts read (`proxy`, `dns`, `lb`, `routing`, `cni`)
 * are passed through untouched for them; any other unknown top-level field is an error.
 */
import { ipFamilyOf } from '../common/ipAddress.ts';
import { networkInterfaces } from 'node:os';
import { FieldReader, loadConfigFile } from '../common/config.ts';
import { parseIpv4Cidr } from './podCidrPool.ts';

export interface AgentConfig {
  store?: string;
  nodeName?: string;
  nodeIP: string;
  clusterCIDR: string;
  serviceCIDR: string;
  podSubnetLength: number;
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

export const OTHER_PARTS = ['proxy', 'dns', 'lb', 'routing', 'cni'] as const;

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
  const nodeIP = r.string('nodeIP') ?? firstHostIPv4() ?? '';
  if (!nodeIP) r.problem('nodeIP', 'is required: no non-loopback IPv4 address found on this host');
  else if (ipFamilyOf(nodeIP) === undefined) r.problem('nodeIP', `must be an IP address, got "${nodeIP}"`);
  const cidr = (field: string, def: string) => {
    const v = r.string(field, def);
    try { parseIpv4Cidr(v, field); } catch (err) { r.problem(field, (err as Error).message.replace(`${field}: `, '')); }
    return v;
  };
  const clusterCIDR = cidr('clusterCIDR', '10.244.0.0/16');
  const serviceCIDR = cidr('serviceCIDR', '10.96.0.0/16');
  const bits = Number(clusterCIDR.split('/')[1]);
  const podSubnetLength = r.int('podSubnetLength', 24, { min: Number.isFinite(bits) ? bits : 8, max: 30 });
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
    ...(store ? { store } : {}), ...(nodeName ? { nodeName } : {}), nodeIP, clusterCIDR, serviceCIDR, podSubnetLength, mtu,
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
