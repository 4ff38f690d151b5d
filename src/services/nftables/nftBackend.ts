/**
 * The nftables proxy backend (the default): one table per family (`ip podnet-proxy`, `ip6 podnet-proxy`),
 * planned by nftPlanner and applied by NftApplier. See src/services/README.md for the layout and numbers.
 */
import type { ProxyBackend, BackendSyncResult, BackendOptions } from '../backend.ts';
import type { ServiceModel } from '../serviceModel.ts';
import { planNftables, planNftablesParts, NftPlanCache, type InlineDispatch } from './nftPlanner.ts';
import { NftApplier, type NftBatchCommitter } from './nftApplier.ts';
import { NftCli, type NftRunner } from './nftRunner.ts';
import type { Logger } from '../../common/logger.ts';
import { NfnlBatchSocket } from '../../netlink/nftables/nfnlBatchSocket.ts';
import { resolveNetnsRef } from '../../netlink/netnsRef.ts';
import { NetlinkSocket } from '../../netlink/netlinkSocket.ts';
import { NETLINK_NETFILTER } from '../../netlink/constants.ts';
import { chainVerdictTargets, setNames, rulesetGeneration } from '../../netlink/nftables/nftRuleDump.ts';

export interface NftBackendOptions {
  /** Incremental syncs as nf_tables netlink batches (default true); false = every sync through `nft -f`. */
  netlink?: boolean;
  logger?: Logger;
  /** Inline endpoint choice: 'map' (default: endpoint changes are map elements only) or the older rule 'cascade'. */
  dispatch?: InlineDispatch;
}

export class NftBackend implements ProxyBackend {
  readonly mode = 'nftables' as const;
  readonly appliers: { ip: NftApplier; ip6: NftApplier };
  readonly #plans = { ip: new NftPlanCache(), ip6: new NftPlanCache() };
  readonly #dispatch: InlineDispatch;

  constructor(readonly opts: BackendOptions, runner: NftRunner = new NftCli(opts.netns ? { netns: opts.netns } : {}), more: NftBackendOptions = {}) {
    // One NETLINK_NETFILTER socket for both tables, opened (inside opts.netns) on the first incremental sync.
    let socket: Promise<NftBatchCommitter> | null = null;
    const netlink = more.netlink === false ? undefined : () => (socket ??= NfnlBatchSocket.open(opts.netns ? { netns: resolveNetnsRef(opts.netns) } : {}));
    // The drift check's socket: requests and dumps (NfnlBatchSocket only commits batches).
    let query: Promise<NetlinkSocket> | null = null;
    const querySocket = async () => {
      query ??= NetlinkSocket.open({ protocol: NETLINK_NETFILTER, timeoutMs: 10_000, ...(opts.netns ? { netns: resolveNetnsRef(opts.netns) } : {}) });
      return query.catch((err: unknown) => {
        query = null; // try again at the next check
        throw err;
      });
    };
    const chainVerdicts = async (family: number, table: string, chain: string) => chainVerdictTargets(await querySocket(), family, table, chain);
    const listSets = async (family: number, table: string) => setNames(await querySocket(), family, table);
    const generation = async () => rulesetGeneration(await querySocket());
    this.#dispatch = more.dispatch ?? 'map';
    const logger = more.logger ?? opts.logger;
    const ao = { ...(netlink ? { netlink, chainVerdicts, setNames: listSets, generation } : {}), ...(logger ? { logger: logger.child({ subsystem: 'nftables' }) } : {}) };
    this.appliers = { ip: new NftApplier(runner, 'ip', ao), ip6: new NftApplier(runner, 'ip6', ao) };
  }

  async sync(model: ServiceModel, opts: { full?: boolean } = {}): Promise<BackendSyncResult> {
    const res: BackendSyncResult = { kind: 'noop', chainsWritten: 0, elementsChanged: 0 };
    // ip6 first: nft fetches its cache across families, so the (usually tiny) ip6 table is cheapest to sync
    // before the big ip table is loaded into a fresh namespace.
    for (const family of ['ip6', 'ip'] as const) {
      const planOpts = { clusterCIDRs: this.opts.clusterCIDRs, masqueradeAll: this.opts.masqueradeAll, endpointChains: this.opts.endpointChains === true, dispatch: this.#dispatch };
      const parts = planNftablesParts(model, family, planOpts, this.#plans[family]);
      const r = await this.appliers[family].applyPlan(parts, () => planNftables(model, family, planOpts, this.#plans[family]), opts);
      if (r.kind === 'full' || (r.kind === 'incremental' && res.kind === 'noop')) res.kind = r.kind;
      res.chainsWritten += r.stats.chainsWritten;
      res.elementsChanged += r.stats.elementsAdded + r.stats.elementsDeleted;
    }
    return res;
  }

  async driftDetected(): Promise<boolean> {
    const v4 = await this.appliers.ip.driftDetected();
    const v6 = await this.appliers.ip6.driftDetected();
    return v4 || v6;
  }

  async cleanup(): Promise<void> {
    await this.appliers.ip.cleanup();
    await this.appliers.ip6.cleanup();
  }
}
