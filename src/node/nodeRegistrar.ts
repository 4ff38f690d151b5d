/**
 * @module node/nodeRegistrar — podnetd's node part: lease a pod CIDR (file/etcd) or read Node.spec.podCIDR
 * (kube), register the Node object, write node.json for the CNI plugin, and keep the lease renewed. On shutdown
 * the lease is kept, not released: a restart takes the same subnet back, and a node that is really gone loses
 * it when the TTL runs out (flannel's behaviour). A dual-stack node (an IPv4 and an IPv6 cluster CIDR) holds one
 * lease per family; node.json and Node.spec.podCIDRs list them primary family first, as Kubernetes does.
 */
import type { HeldLease, Store } from '../store/store.ts';
import { keepLease, retryUpdate } from '../store/store.ts';
import { recordLeaseLoss } from '../common/leaseLosses.ts';
import { readNodeState } from '../ipam/nodeState.ts';
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { ipFamilyOf } from '../common/ipAddress.ts';
import { leasePodCidr } from './podCidrLease.ts';
import { desiredNode } from './nodeObject.ts';
import { writeNodeStateFile, type NodeStateFile } from './nodeStateFile.ts';

export interface NodeRegistrarOptions {
  store: Store;
  nodeName: string;
  nodeIP: string;
  /** Every node address, primary first; defaults to [nodeIP]. */
  nodeIPs?: string[];
  clusterCIDR: string;
  /** Every cluster CIDR, primary first (dual-stack: one per family); defaults to [clusterCIDR]. */
  clusterCIDRs?: string[];
  serviceCIDR: string;
  /** Node subnet length in the IPv4 pool (24) and in the IPv6 pool (subnetBits6, default 64). */
  subnetBits: number;
  subnetBits6?: number;
  mtu: number;
  leaseTtlSeconds: number;
  nodeStateFile: string;
  annotations: Record<string, string>;
  backend?: string;
  clusterDNS?: string;
  clusterDomain?: string;
  logger?: Logger;
  /** How often to look for Node.spec.podCIDR on the kube store until the controller-manager sets it. */
  kubePollMs?: number;
}

export class NodeRegistrar {
  #o: NodeRegistrarOptions;
  #log: Logger;
  /** One held lease per cluster CIDR, same order as #clusterCidrs. */
  #leases: Array<{ cidr: string; lease: HeldLease; stopRenew: () => void } | undefined> = [];
  #stopped = false;
  state: NodeStateFile | undefined;

  constructor(opts: NodeRegistrarOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'node', node: opts.nodeName });
  }

  /** Lease (or read) the pod CIDR, register the Node, write node.json. Resolves with what was written. */
  async start(): Promise<NodeStateFile> {
    const kube = this.#o.store.backend === 'kube';
    let podCIDRs: string[];
    if (kube) podCIDRs = await this.#waitForKubePodCidr();
    else {
      const previous = await this.#previousCidrs();
      podCIDRs = [];
      for (let i = 0; i < this.#clusterCidrs.length; i++) podCIDRs.push(await this.#leaseCidr(i, previous));
    }
    await this.#register(kube ? undefined : podCIDRs);
    this.state = {
      nodeName: this.#o.nodeName, podCIDR: podCIDRs[0]!, podCIDRs, clusterCIDR: this.#o.clusterCIDR,
      clusterCIDRs: this.#clusterCidrs, serviceCIDR: this.#o.serviceCIDR, mtu: this.#o.mtu, nodeIP: this.#o.nodeIP,
      ...(this.#o.backend ? { backend: this.#o.backend } : {}),
      ...(this.#o.clusterDNS ? { clusterDNS: this.#o.clusterDNS } : {}),
      ...(this.#o.clusterDomain ? { clusterDomain: this.#o.clusterDomain } : {}),
    };
    await writeNodeStateFile(this.#o.nodeStateFile, this.state);
    this.#log.info({ event: 'nodeRegistered', podCIDRs, file: this.#o.nodeStateFile }, `node ${this.#o.nodeName} registered with pod CIDR ${podCIDRs.join(',')}`);
    return this.state;
  }

  stop(): void {
    this.#stopped = true;
    for (const l of this.#leases) l?.stopRenew();
  }

  get #clusterCidrs(): string[] {
    return this.#o.clusterCIDRs?.length ? this.#o.clusterCIDRs : [this.#o.clusterCIDR];
  }

  async #previousCidrs(): Promise<string[]> {
    const out: string[] = [];
    try {
      const st = readNodeState(this.#o.nodeStateFile);
      if (st?.nodeName === undefined || st.nodeName === this.#o.nodeName) out.push(...(st?.podCIDRs ?? []));
    } catch (err) {
      this.#log.warn({ event: 'nodeStateUnreadable', err: describeError(err) }, 'ignoring unreadable node state file');
    }
    const node = await this.#o.store.get('Node', this.#o.nodeName);
    out.push(...(node?.spec?.podCIDRs ?? []));
    if (node?.spec?.podCIDR) out.push(node.spec.podCIDR);
    return [...new Set(out)];
  }

  /** Lease a subnet from the i-th cluster CIDR (its family's pool), keep it renewed. */
  async #leaseCidr(i: number, previous: string[]): Promise<string> {
    const clusterCIDR = this.#clusterCidrs[i]!;
    const v6 = ipFamilyOf(clusterCIDR.split('/')[0]!) === 6;
    const { cidr, lease } = await leasePodCidr(this.#o.store, {
      nodeName: this.#o.nodeName, clusterCIDR, subnetBits: v6 ? this.#o.subnetBits6 ?? 64 : this.#o.subnetBits,
      ttlSeconds: this.#o.leaseTtlSeconds, previous,
    });
    this.#leases[i]?.stopRenew();
    const stopRenew = keepLease(lease, Math.max(200, (this.#o.leaseTtlSeconds * 1000) / 3), (err) => { recordLeaseLoss('pod-cidr'); void this.#onLeaseLost(i, cidr, err); });
    this.#leases[i] = { cidr, lease, stopRenew };
    return cidr;
  }

  /** The lease ran out (the store was unreachable longer than the TTL): take the subnet back if still free. */
  async #onLeaseLost(i: number, cidr: string, err: Error): Promise<void> {
    if (this.#stopped) return;
    this.#log.warn({ event: 'podCidrLeaseLost', err: describeError(err) }, `pod CIDR lease for ${cidr} lost; re-leasing`);
    try {
      const again = await this.#leaseCidr(i, [cidr]);
      if (again !== cidr) {
        this.#log.error({ event: 'podCidrChanged', from: cidr, to: again }, `pod CIDR ${cidr} was taken by another node; this node now has ${again}: pods must be recreated`);
        const podCIDRs = this.#leases.map((l) => l!.cidr);
        await this.#register(podCIDRs);
        if (this.state) await writeNodeStateFile(this.#o.nodeStateFile, (this.state = { ...this.state, podCIDR: podCIDRs[0]!, podCIDRs }));
      }
    } catch (e) {
      this.#log.error({ event: 'podCidrReleaseFailed', err: describeError(e) }, 're-leasing the pod CIDR failed');
    }
  }

  async #register(podCIDRs: string[] | undefined): Promise<void> {
    await retryUpdate(this.#o.store, 'Node', this.#o.nodeName, undefined, (cur) => desiredNode(cur, {
      nodeName: this.#o.nodeName, nodeIP: this.#o.nodeIP, annotations: this.#o.annotations,
      ...(this.#o.nodeIPs ? { nodeIPs: this.#o.nodeIPs } : {}),
      ownsStatus: this.#o.store.backend !== 'kube', ...(podCIDRs?.length ? { podCIDR: podCIDRs[0]!, podCIDRs } : {}),
    }));
  }

  async #waitForKubePodCidr(): Promise<string[]> {
    for (let logged = false; ; logged = true) {
      const node = await this.#o.store.get('Node', this.#o.nodeName);
      const cidrs = node?.spec?.podCIDRs?.length ? node.spec.podCIDRs : node?.spec?.podCIDR ? [node.spec.podCIDR] : [];
      if (cidrs.length > 0) return cidrs;
      if (!logged) this.#log.warn({ event: 'waitingForPodCidr' }, `Node ${this.#o.nodeName} has no spec.podCIDR yet (is the controller-manager running with --allocate-node-cidrs?); waiting`);
      await new Promise((r) => setTimeout(r, this.#o.kubePollMs ?? 2000));
      if (this.#stopped) throw new Error('stopped while waiting for Node.spec.podCIDR');
    }
  }

  /** The primary family's pod CIDR lease. */
  get lease(): HeldLease | undefined {
    return this.#leases[0]?.lease;
  }
}
