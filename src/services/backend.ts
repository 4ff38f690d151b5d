/**
 * The proxy backend seam: three methods, one explicit table of modes (no import-time registration).
 * Cleanup asks every mode, so switching modes leaves no orphaned rules (KEP-3866 "Switching between modes").
 */
import type { ServiceModel } from './serviceModel.ts';
import type { Logger } from '../common/logger.ts';

export type ProxyMode = 'nftables' | 'iptables' | 'ipvs';
export const PROXY_MODES: readonly ProxyMode[] = ['nftables', 'iptables', 'ipvs'];

export interface BackendSyncResult {
  kind: 'full' | 'incremental' | 'noop';
  /** Rules / chains written and map elements changed, for metrics. */
  chainsWritten: number;
  elementsChanged: number;
}

export interface ProxyBackend {
  readonly mode: ProxyMode;
  /** Make the kernel match `model`; `full` forces a full resync. Throws on failure (then the next sync is full). */
  sync(model: ServiceModel, opts?: { full?: boolean }): Promise<BackendSyncResult>;
  /** Cheap check that our rules are still in place; true = drifted (the next sync will be full). */
  driftDetected(): Promise<boolean>;
  /** Remove everything this mode installed. */
  cleanup(): Promise<void>;
}

export interface BackendOptions {
  /** Run the tools inside this named network namespace (tests, bench). */
  netns?: string;
  clusterCIDRs: string[];
  masqueradeAll: boolean;
  /** nftables: kube-proxy's per-endpoint chains instead of inline DNAT (see src/services/README.md). */
  endpointChains?: boolean;
  /** Where a backend reports what the proxy runner cannot see (nftables: a netlink batch rejected, resynced). */
  logger?: Logger;
}
