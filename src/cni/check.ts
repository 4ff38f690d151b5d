/**
 * @module cni/check — CNI CHECK: is the attachment still what prevResult says? The IPAM reservation, the pod
 * interface (exists, is a veth, its MAC as prevResult has it — a later `tuning` may have changed it and updated
 * prevResult), every address, every route in prevResult (later plugins may add more), and the host veth with its
 * route (routed) or bridge port (bridge). Reports every drift found, not just the first.
 */
import { hostVethName } from './attachmentNames.ts';
import { CniCode, CniError } from './cniError.ts';
import type { CniRequest } from './cniRequest.ts';
import type { CniResult } from './cniTypes.ts';
import type { LinkSnapshot } from './dataplane.ts';
import { compileNetConf, type PodnetConf } from './netConf.ts';
import type { PodnetDeps } from './podnetDeps.ts';
import { canonicalIp } from '../common/ipAddress.ts';

const canonCidr = (c: string) => {
  const [ip, len] = c.split('/');
  return `${canonicalIp(ip!) ?? ip}/${len ?? (c.includes(':') ? 128 : 32)}`;
};

function podDrift(req: CniRequest, prev: CniResult, pod: LinkSnapshot): string[] {
  const drift: string[] = [];
  const index = (prev.interfaces ?? []).findIndex((i) => i.name === req.ifname && i.sandbox);
  const expected = prev.interfaces?.[index];
  if (pod.kind && pod.kind !== 'veth') drift.push(`${req.ifname} is a ${pod.kind}, not a veth`);
  if (expected?.mac && expected.mac.toLowerCase() !== pod.mac.toLowerCase()) {
    drift.push(`${req.ifname} has MAC ${pod.mac}, prevResult says ${expected.mac}`);
  }
  const have = new Set(pod.addresses.map(canonCidr));
  for (const ip of (prev.ips ?? []).filter((i) => i.interface === undefined || i.interface === index)) {
    if (!have.has(canonCidr(ip.address))) drift.push(`address ${ip.address} is missing from ${req.ifname}`);
  }
  for (const r of prev.routes ?? []) {
    const found = pod.routes.some((x) => canonCidr(x.dst) === canonCidr(r.dst)
      && (!r.gw || canonicalIp(x.gw ?? '') === canonicalIp(r.gw)));
    if (!found) drift.push(`route ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing in the pod`);
  }
  return drift;
}

function hostDrift(conf: PodnetConf, name: string, host: LinkSnapshot | null, prev: CniResult): string[] {
  if (!host) return [`host interface ${name} is missing`];
  const drift: string[] = [];
  if (!host.up) drift.push(`host interface ${name} is down`);
  if (conf.mode === 'bridge' && host.master !== conf.bridge) drift.push(`${name} is not a port of bridge ${conf.bridge}`);
  if (conf.mode === 'routed') {
    for (const ip of prev.ips ?? []) {
      const bare = ip.address.split('/')[0]!;
      const dst = canonCidr(`${bare}/${bare.includes(':') ? 128 : 32}`);
      if (!host.routes.some((r) => canonCidr(r.dst) === dst)) drift.push(`host route ${dst} dev ${name} is missing`);
    }
  }
  return drift;
}

export async function check(req: CniRequest, deps: PodnetDeps): Promise<void> {
  const conf = compileNetConf(req.config);
  const prev = conf.prevResult;
  if (!prev) throw new CniError(CniCode.invalidConfig, 'CHECK needs prevResult (the result of ADD) in the configuration');
  await deps.ipamFor(conf.ipamType).check(req);
  const pod = await deps.dataplane.inspectPod(req.netns, req.ifname);
  const hostName = hostVethName(req.containerId, req.ifname);
  const drift = pod ? podDrift(req, prev, pod) : [`interface ${req.ifname} is missing in ${req.netns}`];
  drift.push(...hostDrift(conf, hostName, await deps.dataplane.inspectHost(hostName), prev));
  if (drift.length > 0) throw new CniError(CniCode.drift, `attachment ${req.containerId}/${req.ifname} drifted: ${drift.join('; ')}`);
}
