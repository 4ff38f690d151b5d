/**
 * @module lb/speakerReport — what a speaker actually announces, published in the store for `podnetctl lb status`
 * (MetalLB's ServiceL2Status, #637): a ConfigMap `podnet-system/podnet-lb-<node>` whose `announcements` key
 * holds JSON [{ip, services, interfaces}]. Written only when the set changes, never per packet.
 */
import type { ConfigMap } from '../store/types.ts';
import { LEASE_NAMESPACE } from '../store/store.ts';

export const REPORT_PREFIX = 'podnet-lb-';

export interface ReportedAnnouncement {
  ip: string;
  services: string[];
  interfaces: string[];
}

export function reportName(node: string): string {
  return `${REPORT_PREFIX}${node}`;
}

export function reportObject(node: string, list: ReportedAnnouncement[], current?: ConfigMap): ConfigMap | undefined {
  const text = JSON.stringify([...list].sort((a, b) => a.ip.localeCompare(b.ip)));
  if (current?.data?.announcements === text) return undefined;
  return {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: reportName(node), namespace: LEASE_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'podnet', 'podnet.io/lb-node': node } },
    data: { node, announcements: text, updated: new Date().toISOString() },
  };
}

export function parseReport(cm: ConfigMap): { node: string; announcements: ReportedAnnouncement[] } | undefined {
  const node = cm.data?.node;
  if (!node || !cm.metadata.name.startsWith(REPORT_PREFIX)) return undefined;
  try {
    return { node, announcements: JSON.parse(cm.data?.announcements ?? '[]') as ReportedAnnouncement[] };
  } catch {
    return undefined;
  }
}
