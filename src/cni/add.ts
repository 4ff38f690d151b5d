/**
 * @module cni/add — CNI ADD, top to bottom: config → IPAM → pod side → host side → masquerade → result. Every step
 * that made something pushes its undo; any failure unwinds them newest first, so a failed ADD leaves nothing (and
 * a DEL afterwards, which the runtime must send, finds nothing to do).
 */
import { planAttachment, resultOf, type AttachmentPlan } from './attachmentPlan.ts';
import { CniCode, CniError } from './cniError.ts';
import type { CniRequest } from './cniRequest.ts';
import type { CniResult } from './cniTypes.ts';
import { compileNetConf, type PodnetConf } from './netConf.ts';
import type { PodnetDeps } from './podnetDeps.ts';
import { RollbackStack } from './rollbackStack.ts';
import { NodeStateError, type NodeState } from '../ipam/nodeState.ts';

/** VXLAN's encapsulation overhead (IPv4 outer header): what podnetd's default overlay costs on the uplink. */
const OVERLAY_OVERHEAD = 50;

export function nodeStateOf(conf: PodnetConf, deps: PodnetDeps): NodeState | null {
  try {
    return deps.readNodeState(conf.nodeStateFile);
  } catch (err) {
    if (err instanceof NodeStateError) throw new CniError(CniCode.invalidConfig, err.message);
    throw err;
  }
}

async function mtuFor(conf: PodnetConf, node: NodeState | null, deps: PodnetDeps): Promise<number> {
  if (conf.mtu) return conf.mtu;
  if (node?.mtu) return node.mtu;
  const uplink = await deps.dataplane.uplinkMtu();
  return uplink ? uplink - OVERLAY_OVERHEAD : 1500;
}

/** A chained ADD keeps the earlier plugins' interfaces and addresses; ours are appended. */
function mergePrev(prev: CniResult | undefined, ours: CniResult): CniResult {
  if (!prev) return ours;
  const offset = prev.interfaces?.length ?? 0;
  return {
    interfaces: [...(prev.interfaces ?? []), ...(ours.interfaces ?? [])],
    ips: [...(prev.ips ?? []), ...(ours.ips ?? []).map((ip) => ({ ...ip, interface: (ip.interface ?? 0) + offset }))],
    routes: [...(prev.routes ?? []), ...(ours.routes ?? [])],
    ...(ours.dns ?? prev.dns ? { dns: ours.dns ?? prev.dns! } : {}),
  };
}

async function buildAttachment(req: CniRequest, conf: PodnetConf, deps: PodnetDeps, undo: RollbackStack): Promise<CniResult> {
  const hook = async (step: Parameters<NonNullable<PodnetDeps['failureHook']>>[0]) => deps.failureHook?.(step);
  const node = nodeStateOf(conf, deps);
  const mtu = await mtuFor(conf, node, deps);
  const ipam = deps.ipamFor(conf.ipamType);
  const leased = await ipam.add(req);
  undo.push('releasing the IPAM lease', () => ipam.del(req));
  await hook('after-ipam');
  const plan: AttachmentPlan = planAttachment({
    conf, containerId: req.containerId, ifname: req.ifname, netns: req.netns, mtu, ipam: leased,
    clusterCIDRs: conf.clusterCIDRs.length ? conf.clusterCIDRs : (node?.clusterCIDRs ?? []),
  });
  if (plan.podAddresses.length === 0) throw new CniError(CniCode.invalidConfig, `IPAM plugin ${conf.ipamType} returned no address`);
  await deps.dataplane.createPodSide(plan);
  undo.push(`deleting ${plan.hostIfname}`, () => deps.dataplane.deleteHostLink(plan.hostIfname));
  await hook('after-pod-side');
  await deps.dataplane.setPodSysctls(plan.podNetns, plan.podSysctls);
  await deps.dataplane.configureHostSide(plan);
  await hook('after-host-side');
  if (plan.masq) {
    undo.push('removing the masquerade entry', () => deps.dataplane.removeMasq(plan.masq!.podIps));
    await deps.dataplane.applyMasq(plan.masq);
    await hook('after-masq');
  }
  return mergePrev(conf.prevResult, resultOf(plan, leased));
}

export async function add(req: CniRequest, deps: PodnetDeps): Promise<CniResult> {
  const conf = compileNetConf(req.config);
  const undo = new RollbackStack();
  try {
    const result = await buildAttachment(req, conf, deps, undo);
    undo.commit();
    return result;
  } catch (err) {
    const failures = await undo.unwind();
    if (failures.length === 0) throw err;
    const first = err instanceof CniError ? err : new CniError(CniCode.systemFailure, (err as Error).message);
    throw new CniError(first.cniCode, first.message,
      [first.details, `rollback incomplete (DEL will retry): ${failures.join('; ')}`].filter(Boolean).join('; '));
  }
}
