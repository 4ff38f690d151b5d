/**
 * @module cni/del — CNI DEL: convergent and idempotent. The lease is released first (it needs no netns), then the
 * host veth is deleted by its deterministic name (its pod end goes with it, so a vanished netns is no obstacle),
 * then the masquerade entry. Missing pieces are success; real failures are collected and reported after every
 * step has been tried, so the runtime's retry has less to do.
 */
import { hostVethName } from './attachmentNames.ts';
import { CniCode, CniError } from './cniError.ts';
import type { CniRequest } from './cniRequest.ts';
import { IN_PROCESS_IPAM } from './ipamClient.ts';
import type { PodnetDeps } from './podnetDeps.ts';

export async function del(req: CniRequest, deps: PodnetDeps): Promise<void> {
  const failures: string[] = [];
  const ipamConf = req.config.ipam as { type?: unknown } | undefined;
  const ipamType = typeof ipamConf?.type === 'string' ? ipamConf.type : IN_PROCESS_IPAM;
  const ipam = deps.ipamFor(ipamType);
  let released: string[] = [];
  try {
    await ipam.del(req);
    released = [...ipam.released];
  } catch (err) {
    failures.push(`releasing the IPAM lease: ${(err as Error).message}`);
  }
  try {
    await deps.dataplane.deleteHostLink(hostVethName(req.containerId, req.ifname));
  } catch (err) {
    failures.push((err as Error).message);
  }
  if (req.config.ipMasq === true) {
    const prevIps = ((req.config.prevResult as { ips?: Array<{ address?: string }> } | undefined)?.ips ?? [])
      .map((i) => i.address?.split('/')[0]).filter((a): a is string => Boolean(a));
    try {
      await deps.dataplane.removeMasq([...new Set([...released, ...prevIps])]);
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  if (failures.length > 0) throw new CniError(CniCode.systemFailure, `DEL incomplete: ${failures.join('; ')}`);
}
