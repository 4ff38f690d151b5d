/**
 * The nftables proxy backend (the default): one table per family (`ip podnet-proxy`, `ip6 podnet-proxy`),
 * planned by nftPlanner and applied by NftApplier. See src/services/README.md for the layout and numbers.
 */
import type { ProxyBackend, BackendSyncResult, BackendOptions } from '../backend.ts';
import type { ServiceModel } from '../serviceModel.ts';
import { planNftables, NftPlanCache } from './nftPlanner.ts';
import { NftApplier } from './nftApplier.ts';
import { NftCli, type NftRunner } from './nftRunner.ts';

export class NftBackend implements ProxyBackend {
  readonly mode = 'nftables' as const;
  readonly appliers: { ip: NftApplier; ip6: NftApplier };
  readonly #plans = { ip: new NftPlanCache(), ip6: new NftPlanCache() };

  constructor(readonly opts: BackendOptions, runner: NftRunner = new NftCli(opts.netns ? { netns: opts.netns } : {})) {
    this.appliers = { ip: new NftApplier(runner, 'ip'), ip6: new NftApplier(runner, 'ip6') };
  }

  async sync(model: ServiceModel, opts: { full?: boolean } = {}): Promise<BackendSyncResult> {
    const res: BackendSyncResult = { kind: 'noop', chainsWritten: 0, elementsChanged: 0 };
    // ip6 first: nft fetches its cache across families, so the (usually tiny) ip6 table is cheapest to sync
    // before the big ip table is loaded into a fresh namespace.
    for (const family of ['ip6', 'ip'] as const) {
      const desired = planNftables(model, family, { clusterCIDRs: this.opts.clusterCIDRs, masqueradeAll: this.opts.masqueradeAll, endpointChains: this.opts.endpointChains === true }, this.#plans[family]);
      const r = await this.appliers[family].apply(desired, opts);
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
