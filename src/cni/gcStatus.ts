/**
 * @module cni/gcStatus — CNI GC and STATUS.
 *
 * GC (1.1.0): forward to the IPAM (it releases leases of attachments not in `cni.dev/valid-attachments`), then
 * delete this network's host veths (found by their alias) whose attachment is not valid — what a `kill -9` in the
 * middle of an ADD leaves — and drop the released addresses from the masquerade set. Errors do not stop the sweep;
 * they are reported together at the end.
 * STATUS: forwarded to the IPAM (exhausted ranges, no pod CIDR yet = 50).
 */
import { parseHostVethAlias } from './attachmentNames.ts';
import { CniCode, CniError } from './cniError.ts';
import type { CniRequest } from './cniRequest.ts';
import { compileNetConf } from './netConf.ts';
import type { PodnetDeps } from './podnetDeps.ts';
import { validAttachments } from '../ipam/ipamPlugin.ts';

export async function gc(req: CniRequest, deps: PodnetDeps): Promise<void> {
  const conf = compileNetConf(req.config);
  const valid = validAttachments(req.config);
  const failures: string[] = [];
  const ipam = deps.ipamFor(conf.ipamType);
  try {
    await ipam.gc(req);
  } catch (err) {
    failures.push(`IPAM GC: ${(err as Error).message}`);
  }
  try {
    for (const link of await deps.dataplane.listHostLinks(`podnet/${conf.name}/`)) {
      const owner = parseHostVethAlias(link.alias);
      if (!owner || valid.some((a) => a.containerID === owner.containerId && (a.ifname ?? owner.ifname) === owner.ifname)) continue;
      try {
        await deps.dataplane.deleteHostLink(link.name);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  } catch (err) {
    failures.push((err as Error).message);
  }
  if (conf.ipMasq && ipam.released.length > 0) {
    await deps.dataplane.removeMasq([...ipam.released]).catch((err: Error) => failures.push(err.message));
  }
  if (failures.length > 0) throw new CniError(CniCode.systemFailure, `GC incomplete: ${failures.join('; ')}`);
}

export async function status(req: CniRequest, deps: PodnetDeps): Promise<void> {
  let conf;
  try {
    conf = compileNetConf(req.config);
  } catch (err) {
    throw new CniError(CniCode.statusNotAvailable, (err as Error).message);
  }
  await deps.ipamFor(conf.ipamType).status(req);
}
