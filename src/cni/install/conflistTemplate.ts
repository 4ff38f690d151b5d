/**
 * @module cni/install/conflistTemplate — the conflist `podnetctl install-cni` (and podnetd) writes. Pure.
 *
 * cniVersion 1.1.0 unless a reference plugin is chained: Debian's containernetworking-plugins (v1.1.1) speak CNI up
 * to 1.0.0, and a runtime uses one version for the whole list.
 */
export interface ConflistOptions {
  name: string;
  mode: 'routed' | 'bridge';
  ipMasq: boolean;
  ipv6: boolean;
  portmap: boolean;
  mtu?: number;
  dataDir?: string;
  nodeStateFile?: string;
  clusterCIDRs?: string[];
}

export function renderConflist(o: ConflistOptions): string {
  const ranges: unknown[] = [[{ subnet: 'usePodCidr' }]];
  if (o.ipv6) ranges.push([{ subnet: 'usePodCidrIPv6' }]);
  const podnet: Record<string, unknown> = {
    type: 'podnet',
    mode: o.mode,
    ipMasq: o.ipMasq,
    ...(o.mtu ? { mtu: o.mtu } : {}),
    ...(o.clusterCIDRs?.length ? { clusterCIDRs: o.clusterCIDRs } : {}),
    ...(o.nodeStateFile ? { nodeStateFile: o.nodeStateFile } : {}),
    capabilities: { ips: true, mac: true },
    ipam: {
      type: 'podnet-ipam',
      ranges,
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(o.nodeStateFile ? { nodeStateFile: o.nodeStateFile } : {}),
    },
  };
  const plugins: unknown[] = [podnet];
  if (o.portmap) plugins.push({ type: 'portmap', snat: true, capabilities: { portMappings: true } });
  return `${JSON.stringify({ cniVersion: o.portmap ? '1.0.0' : '1.1.0', name: o.name, plugins }, null, 2)}\n`;
}
