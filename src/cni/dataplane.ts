/**
 * @module cni/dataplane — the kernel seam of the CNI plugin: the few operations an attachment needs, in CNI terms.
 * add/del/check talk only to this interface; `iprouteDataplane.ts` implements it. Tests inject failures through
 * it (see `FailureHook`), never through a mutable global.
 */
import type { AttachmentPlan } from './attachmentPlan.ts';

export interface LinkSnapshot {
  name: string;
  mac: string;
  mtu: number;
  kind: string;
  up: boolean;
  master?: string;
  /** CIDRs, e.g. 10.244.1.5/32 (link-local IPv6 excluded). */
  addresses: string[];
  /** Routes through the link in every table: dst as a CIDR (default → 0.0.0.0/0, ::/0), gw when via one. */
  routes: Array<{ dst: string; gw?: string }>;
}

export interface MasqSpec {
  podIps: string[];
  exceptCidrs: string[];
  comment: string;
}

export interface Dataplane {
  /**
   * Create the veth inside the pod (pod end addressed, routed and up) with its host end in the host namespace.
   * Throws CniError 100 if the pod already has the interface. Leaves nothing behind when it throws.
   */
  createPodSide(plan: AttachmentPlan): Promise<void>;
  /** Host end up, its addresses and routes, host sysctls, the bridge (bridge mode). */
  configureHostSide(plan: AttachmentPlan): Promise<void>;
  /** Set net.* sysctls inside the pod. */
  setPodSysctls(netns: string, sysctls: Record<string, string>): Promise<void>;
  /** Delete a link in the host namespace (a veth's peer goes with it); false when it did not exist. */
  deleteHostLink(name: string): Promise<boolean>;
  applyMasq(spec: MasqSpec): Promise<void>;
  removeMasq(podIps: string[]): Promise<void>;
  /** The pod interface, or null when the netns or the interface is missing. */
  inspectPod(netns: string, ifname: string): Promise<LinkSnapshot | null>;
  inspectHost(name: string): Promise<LinkSnapshot | null>;
  /** Host links whose alias starts with `aliasPrefix` (podnet tags its host veths, see attachmentNames.ts). */
  listHostLinks(aliasPrefix: string): Promise<Array<{ name: string; alias: string }>>;
  /** The MTU of the interface holding the default route, or null. */
  uplinkMtu(): Promise<number | null>;
}
