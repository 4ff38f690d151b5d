/**
 * @module node/nodeRegistrar — podnetd's node part: lease a pod CIDR (file/etcd) or read Node.spec.podCIDR
 * (kube), register the Node object, write node.json for the CNI plugin, and keep the lease renewed. On shutdown
 * the lease is kept, not released: a restart takes the same subnet back, and a node that is really gone loses
 * it when the TTL runs out (flannel's behaviour).
 */
import type { HeldLease, Store } from '../store/store.ts';
import { keepLease, retryUpdate } from '../store/store.ts';
import { readNodeState } from '../ipam/nodeState.ts';
import { describeError } from '../common/errors.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { leasePodCidr } from './podCidrLease.ts';
import { desiredNode } from './nodeObject.ts';
import { writeNodeStateFile, type NodeStateFile } from './nodeStateFile.ts';

export interface NodeRegistrarOptions {
  store: Store;
  nodeName: string;
  nodeIP: string;
  clusterCIDR: string;
  serviceCIDR: string;
  subnetBits: number;
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
  #lease: HeldLease | undefined;
  #stopRenew: (() => void) | undefined;
  #stopped = false;
  state: NodeStateFile | undefined;

  constructor(opts: NodeRegistrarOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? silentLogger).child({ subsystem: 'node', node: opts.nodeName });
  }

  /** Lease (or read) the pod CIDR, register the Node, write node.json. Resolves with what was written. */
  async start(): Promise<NodeStateFile> {
    const kube = this.#o.store.backend === 'kube';
    const podCIDRs = kube ? await this.#waitForKubePodCidr() : [await this.#leaseCidr()];
    await this.#register(kube ? undefined : podCIDRs[0]);
    this.state = {
      nodeName: this.#o.nodeName, podCIDR: podCIDRs[0]!, podCIDRs, clusterCIDR: this.#o.clusterCIDR,
      clusterCIDRs: [this.#o.clusterCIDR], serviceCIDR: this.#o.serviceCIDR, mtu: this.#o.mtu, nodeIP: this.#o.nodeIP,
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
    this.#stopRenew?.();
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
    if (node?.spec?.podCIDR) out.push(node.spec.podCIDR);
    return [...new Set(out)];
  }

  async #leaseCidr(): Promise<string> {
    const previous = await this.#previousCidrs();
    const { cidr, lease } = await leasePodCidr(this.#o.store, {
      nodeName: this.#o.nodeName, clusterCIDR: this.#o.clusterCIDR, subnetBits: this.#o.subnetBits,
      ttlSeconds: this.#o.leaseTtlSeconds, previous,
    });
    this.#lease = lease;
    this.#stopRenew?.();
    this.#stopRenew = keepLease(lease, Math.max(200, (this.#o.leaseTtlSeconds * 1000) / 3), (err) => void this.#onLeaseLost(cidr, err));
    return cidr;
  }

  /** The lease ran out (the store was unreachable longer than the TTL): take the subnet back if still free. */
  async #onLeaseLost(cidr: string, err: Error): Promise<void> {
    if (this.#stopped) return;
    this.#log.warn({ event: 'podCidrLeaseLost', err: describeError(err) }, `pod CIDR lease for ${cidr} lost; re-leasing`);
    try {
      const again = await this.#leaseCidr();
      if (again !== cidr) {
        this.#log.error({ event: 'podCidrChanged', from: cidr, to: again }, `pod CIDR ${cidr} was taken by another node; this node now has ${again}: pods must be recreated`);
        await this.#register(again);
        if (this.state) await writeNodeStateFile(this.#o.nodeStateFile, (this.state = { ...this.state, podCIDR: again, podCIDRs: [again] }));
      }
    } catch (e) {
      this.#log.error({ event: 'podCidrReleaseFailed', err: describeError(e) }, 're-leasing the pod CIDR failed');
    }
  }

  async #register(podCIDR: string | undefined): Promise<void> {
    await retryUpdate(this.#o.store, 'Node', this.#o.nodeName, undefined, (cur) => desiredNode(cur, {
      nodeName: this.#o.nodeName, nodeIP: this.#o.nodeIP, annotations: this.#o.annotations,
      ownsStatus: this.#o.store.backend !== 'kube', ...(podCIDR ? { podCIDR } : {}),
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

  get lease(): HeldLease | undefined {
    return this.#lease;
  }
}
