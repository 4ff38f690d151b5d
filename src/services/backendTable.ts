/**
 * The one explicit table of proxy modes. `ipvs` needs the kernel's ip_vs module: on a kernel without it,
 * start-up fails with a message naming the module and the modes to use instead.
 */
import { existsSync } from 'node:fs';
import { PodnetError, UnsupportedKernelError } from '../common/errors.ts';
import { findTool } from '../common/systemTools.ts';
import type { ProxyBackend, ProxyMode, BackendOptions } from './backend.ts';
import { NftBackend } from './nftables/nftBackend.ts';
import { IptBackend } from './iptables/iptBackend.ts';

/** ip_vs is loaded when /proc/net/ip_vs exists (it appears with the module, in every namespace). */
export function kernelHasIpvs(procRoot = '/proc'): boolean {
  return existsSync(`${procRoot}/net/ip_vs`);
}

export function createBackend(mode: ProxyMode, opts: BackendOptions): ProxyBackend {
  switch (mode) {
    case 'nftables':
      return new NftBackend(opts);
    case 'iptables':
      // Checked here, not in the constructor: cleanupOtherModes builds one to remove rules, ipset or not.
      if (!findTool('ipset')) throw new PodnetError('PODNET_TOOL_MISSING', 'proxy mode iptables needs ipset (Debian package ipset), which is not installed');
      return new IptBackend(opts);
    case 'ipvs':
      if (!kernelHasIpvs()) {
        throw new UnsupportedKernelError('proxy mode ipvs', 'ip_vs', 'use --mode nftables (the default) or --mode iptables');
      }
      throw new PodnetError('PODNET_MODE_UNAVAILABLE', 'proxy mode ipvs: this build has the IPVS message codec but no IPVS backend; use --mode nftables (the default) or --mode iptables');
  }
}

/**
 * Remove what the other modes installed (a previous run in another mode); ipvs has nothing to clean here. A mode
 * whose tool is not installed cannot have left rules behind, so it is skipped.
 */
export async function cleanupOtherModes(keep: ProxyMode, opts: BackendOptions): Promise<void> {
  if (keep !== 'nftables' && findTool('nft')) await new NftBackend(opts).cleanup();
  if (keep !== 'iptables' && findTool('iptables-restore')) await new IptBackend(opts).cleanup();
}
