/**
 * @module services/nftables/nftApplier — keeps what was committed in memory and sends only the difference.
 *
 * - First sync, after any failure, and when the drift check fails: a full sync. It lists only the NAMES of our
 *   chains and sets (no rules, no elements) to adopt what a previous podnetd left, and rewrites everything in one
 *   transaction without flushing the table first (traffic never sees an empty table; affinity sets survive).
 * - Every other sync: the diff against the in-memory copy, one transaction, no listing at all. With a netlink
 *   committer (the default in NftBackend) that transaction is one nf_tables netlink batch: `nft` would list every
 *   chain of the table for its cache first (O(table), 87 ms of a 152 ms change at 10,000 services). A diff the
 *   netlink path cannot express (see nftRuleCompiler) goes through `nft -f` as before; a batch the kernel rejects
 *   (rolled back whole) is followed at once by a full resync through `nft -f`, logged.
 * - What changed is found without touching the whole state: nftFragmentLedger diffs only the per-port fragments
 *   the plan cache re-planned (O(ports) identity checks + O(change)), then the ordinary diff runs on that slice.
 * - Drift check: first the namespace's nf_tables generation (one small netlink request; it moves on every commit
 *   by anyone); only when it moved since the last intact look, the rules of one base chain over netlink (O(1));
 *   empty or missing means someone flushed or deleted our table. (`nft list chain` would dump every element of
 *   every set of the table first.)
 *
 * Measured floor (bench/proxy, "kernel commit cpu"): a commit that adds any rule costs the kernel O(table) CPU
 * (~45–59 ms at 10,000 services here), a commit of elements only ~0.1 ms. With map dispatch (nftDispatchMaps) an
 * endpoint change of a live port is elements only; affinity ports and 0 ↔ N endpoints still rewrite a chain.
 * Full syncs list set and map NAMES over netlink (GETSET dump): `nft list sets`/`list maps` take seconds beside
 * 10,000 endpoint maps.
 */
import { TABLE } from './nftNames.ts';
import type { NftFamily } from './nftSkeleton.ts';
import type { NftDesired, NftPlanParts } from './nftPlanner.ts';
import { FragmentLedger, applyDelta, type FragmentDelta } from './nftFragmentLedger.ts';
import { renderFull, renderIncremental, type ExistingObjects, type TransactionStats } from './nftTransaction.ts';
import type { NftRunner } from './nftRunner.ts';
import type { Logger } from '../../common/logger.ts';
import { silentLogger } from '../../common/logger.ts';
import { NFPROTO } from '../../netlink/nftables/nftConstants.ts';
import type { NftOp } from '../../netlink/nftables/nftMessages.ts';
import { planNetlinkIncremental, type NetlinkTransaction } from './nftNetlinkTransaction.ts';

/** Commits one nf_tables batch atomically (NfnlBatchSocket; a fake in unit tests). */
export interface NftBatchCommitter {
  commit(input: { family: number; table: string; ops: readonly NftOp[] }): Promise<void>;
}

export interface NftApplierOptions {
  /** Incremental syncs through netlink; absent = everything through `nft -f`. Called once, on first use. */
  netlink?: () => Promise<NftBatchCommitter>;
  /** Verdict targets of each rule of one of our chains, over netlink (the drift check); absent = `nft list chain`. */
  chainVerdicts?: (family: number, table: string, chain: string) => Promise<string[][]>;
  /** The namespace's nf_tables ruleset generation (NFT_MSG_GETGEN): the drift check looks closer only when it moved. */
  generation?: () => Promise<number>;
  /** Names of the sets and maps of our table, over netlink (full syncs); absent = `nft list sets` + `list maps`. */
  setNames?: (family: number, table: string) => Promise<string[]>;
  logger?: Logger;
}

export interface ApplyResult {
  kind: 'full' | 'incremental' | 'noop';
  stats: TransactionStats;
  /** Lines in the transaction sent, or netlink messages (0 for noop). */
  lines: number;
  /** How it was sent. */
  via: 'nft' | 'netlink';
  /** A netlink batch was rejected and this result is the full resync that followed. */
  fellBack?: boolean;
}

interface NftJsonList {
  nftables?: Array<{ chain?: { table: string; name: string }; set?: { table: string; name: string }; map?: { table: string; name: string }; rule?: unknown }>;
}

/** Names of our objects of the given kinds (`nft -j list sets` shows maps as "map", e.g. the dispatch maps). */
function namesIn(out: string | null, ...kinds: Array<'chain' | 'set' | 'map'>): Set<string> {
  const names = new Set<string>();
  if (!out) return names;
  for (const item of (JSON.parse(out) as NftJsonList).nftables ?? []) {
    for (const kind of kinds) {
      const o = item[kind];
      if (o && o.table === TABLE) names.add(o.name);
    }
  }
  return names;
}

export class NftApplier {
  #committed: NftDesired | null = null;
  #lastText = '';
  #lastDiff: [NftDesired, NftDesired] | null = null;
  #committer: Promise<NftBatchCommitter> | null = null;
  #ledger: FragmentLedger | null = null;
  /** The generation read just before the last drift check that found the table intact (null: none yet). */
  #intactAt: number | null = null;
  readonly #opts: NftApplierOptions;
  /** Drift checks that looked at the chain (the generation had moved), for tests and the bench. */
  driftLooks = 0;
  readonly #log: Logger;
  /** Netlink batches the kernel rejected (each followed by a full resync). */
  netlinkFallbacks = 0;
  /** Operations of the last netlink batch sent. */
  lastOps: readonly NftOp[] = [];

  constructor(readonly runner: NftRunner, readonly family: NftFamily, opts: NftApplierOptions = {}) {
    this.#opts = { ...opts };
    this.#log = opts.logger ?? silentLogger;
  }

  /**
   * Text of the last transaction, as `nft -f` would read it: tests assert an incremental sync carries only the
   * change. A netlink sync renders it on demand (never on the sync path).
   */
  get lastTransaction(): string {
    if (this.#lastDiff) {
      this.#lastText = renderIncremental(...this.#lastDiff).text;
      this.#lastDiff = null;
    }
    return this.#lastText;
  }

  get hasCommitted(): boolean {
    return this.#committed !== null;
  }

  /** Forget what was committed: the next sync is a full one. */
  invalidate(): void {
    this.#committed = null;
  }

  /**
   * Names of our chains and sets. Never `nft list tables`: nft 1.0.6 builds its whole cache (every rule) for it,
   * 30+ s beside a 10,000-service table (measured); `list chains FAMILY` costs ~2 s there and `list sets` ~0.1 s.
   */
  async #existing(): Promise<ExistingObjects> {
    const chains = namesIn(await this.runner.query(['-j', 'list', 'chains', this.family]), 'chain');
    const tableExists = chains.size > 0;
    if (!tableExists) return { tableExists, chains, sets: new Set() };
    if (this.#opts.setNames) {
      try {
        return { tableExists, chains, sets: new Set(await this.#opts.setNames(NFPROTO[this.family], TABLE)) };
      } catch (err) {
        this.#log.warn({ op: 'nftSync', err: err instanceof Error ? err.message : String(err) }, 'listing set names over netlink failed; asking nft');
      }
    }
    const sets = namesIn(await this.runner.query(['-j', 'list', 'sets', this.family]), 'set');
    // `list sets` leaves maps out: the endpoint dispatch maps (eps-*) need their own listing to be adopted or removed.
    for (const name of namesIn(await this.runner.query(['-j', 'list', 'maps', this.family]), 'map')) sets.add(name);
    return { tableExists, chains, sets };
  }

  /**
   * The backend's entry point: `parts` are the planner's per-port fragments, `merge` builds the whole desired
   * state. Full syncs (and contested keys) merge; an incremental sync diffs only the fragments that changed
   * (nftFragmentLedger) and costs O(ports) identity checks plus O(change), never O(elements).
   */
  async applyPlan(parts: NftPlanParts, merge: () => NftDesired, opts: { full?: boolean } = {}): Promise<ApplyResult> {
    const committed = this.#committed;
    const delta = opts.full !== true && committed && this.#ledger ? this.#ledger.delta(committed, parts) : null;
    if (!delta || !committed) {
      this.#ledger = null;
      const r = await this.apply(merge(), opts);
      this.#ledger = FragmentLedger.build(parts.fragments);
      return r;
    }
    const r = await this.#applyDelta(committed, delta, merge);
    if (r.fellBack) this.#ledger = FragmentLedger.build(parts.fragments);
    else this.#ledger?.apply(delta.removed, delta.added);
    return r;
  }

  async #applyDelta(committed: NftDesired, d: FragmentDelta, merge: () => NftDesired): Promise<ApplyResult> {
    const committer = await this.#netlinkCommitter();
    const tx = committer ? planNetlinkIncremental(d.prev, d.next) : null;
    if (committer && tx) {
      const r = await this.#applyNetlink(committer, d.prev, d.next, tx, merge);
      if (!r.fellBack && r.kind === 'incremental') {
        applyDelta(committed, d);
        this.#committed = committed;
      }
      return r;
    }
    const { text, stats } = renderIncremental(d.prev, d.next);
    if (!text) return { kind: 'noop', stats, lines: 0, via: 'nft' };
    this.#lastText = text;
    this.#lastDiff = null;
    try {
      await this.runner.apply(text);
    } catch (err) {
      this.#committed = null;
      throw err;
    }
    applyDelta(committed, d);
    return { kind: 'incremental', stats, lines: text.split('\n').length - 1, via: 'nft' };
  }

  async apply(desired: NftDesired, opts: { full?: boolean } = {}): Promise<ApplyResult> {
    const full = opts.full === true || this.#committed === null;
    const committer = full ? null : await this.#netlinkCommitter();
    if (committer) {
      const tx = planNetlinkIncremental(this.#committed!, desired);
      if (tx) {
        const prev = this.#committed!;
        const r = await this.#applyNetlink(committer, prev, desired, tx, () => desired);
        if (r.kind === 'incremental' && !r.fellBack) this.#committed = desired;
        // Merged states are mutated by later deltas: render the text now, not on demand.
        if (this.#lastDiff) this.#lastText = renderIncremental(prev, desired).text;
        this.#lastDiff = null;
        return r;
      }
      this.#log.debug({ op: 'nftSync', family: this.family }, 'change not expressible as netlink messages: sent through nft -f');
    }
    const { text, stats } = full ? renderFull(desired, await this.#existing()) : renderIncremental(this.#committed!, desired);
    if (!text) return { kind: 'noop', stats, lines: 0, via: 'nft' };
    this.#lastText = text;
    this.#lastDiff = null;
    try {
      await this.runner.apply(text);
    } catch (err) {
      this.#committed = null; // unknown kernel state: the next sync is a full one
      throw err;
    }
    this.#committed = desired;
    return { kind: full ? 'full' : 'incremental', stats, lines: text.split('\n').length - 1, via: 'nft' };
  }

  /** The netlink committer, opened on first use; if it cannot be opened, incremental syncs stay on `nft -f`. */
  async #netlinkCommitter(): Promise<NftBatchCommitter | null> {
    const open = this.#opts.netlink;
    if (!open) return null;
    try {
      this.#committer ??= open();
      return await this.#committer;
    } catch (err) {
      this.#opts.netlink = undefined;
      this.#log.warn({ op: 'nftSync', err: err instanceof Error ? err.message : String(err) }, 'cannot open a NETLINK_NETFILTER socket; incremental syncs go through nft -f');
      return null;
    }
  }

  /** Commit `tx` (prev → desired); on rejection, a full resync of `merge()` through nft -f. */
  async #applyNetlink(committer: NftBatchCommitter, prev: NftDesired, desired: NftDesired, tx: NetlinkTransaction, merge: () => NftDesired): Promise<ApplyResult> {
    if (tx.ops.length === 0) return { kind: 'noop', stats: tx.stats, lines: 0, via: 'netlink' };
    try {
      await committer.commit({ family: NFPROTO[this.family], table: TABLE, ops: tx.ops });
    } catch (err) {
      // The kernel rolled the whole batch back, so the table is as it was; but a rejection means our picture of
      // it is wrong (or the socket is): rebuild everything through the proven path, now.
      this.#committed = null;
      this.netlinkFallbacks++;
      this.#log.warn({ op: 'nftSync', family: this.family, err: err instanceof Error ? err.message : String(err) },
        'nf_tables netlink batch rejected (rolled back by the kernel); resyncing in full through nft -f');
      return { ...(await this.apply(merge(), { full: true })), fellBack: true };
    }
    this.#lastDiff = [prev, desired];
    this.lastOps = tx.ops;
    return { kind: 'incremental', stats: tx.stats, lines: tx.ops.length, via: 'netlink' };
  }

  /**
   * True when our table was flushed or deleted behind our back (then the next sync is full). Looks at one base
   * chain only: nat-prerouting must still jump to `services`. Over netlink that is one chain's rules; `nft list
   * chain` (the fallback) would dump every set element of the table first.
   */
  async driftDetected(): Promise<boolean> {
    if (this.#committed === null) return false;
    // The generation moves on every commit by anyone (ours too). Read BEFORE looking: a change made after the
    // read moves it again and is looked at next time; so "unchanged since an intact look" means intact.
    let gen: number | null = null;
    if (this.#opts.generation) {
      try {
        gen = await this.#opts.generation();
      } catch {
        gen = null; // look, as without a generation
      }
      if (gen !== null && gen === this.#intactAt) return false;
    }
    this.driftLooks++;
    let intact: boolean;
    try {
      if (this.#opts.chainVerdicts) {
        const rules = await this.#opts.chainVerdicts(NFPROTO[this.family], TABLE, 'nat-prerouting');
        intact = rules.some((targets) => targets.includes('services'));
      } else {
        const out = await this.runner.query(['-j', 'list', 'chain', this.family, TABLE, 'nat-prerouting']);
        intact = out !== null && out.includes('"rule"') && out.includes('services');
      }
    } catch {
      intact = false;
    }
    if (!intact) this.#committed = null;
    this.#intactAt = intact ? gen : null;
    return !intact;
  }

  /** Remove our table (mode switch, `podnetd proxy --cleanup`). */
  async cleanup(): Promise<void> {
    const chains = await this.runner.query(['-j', 'list', 'chain', this.family, TABLE, 'nat-prerouting']).catch(() => null);
    const table = chains ?? (await this.runner.query(['-j', 'list', 'chains', this.family]).catch(() => null));
    if (table?.includes(`"table": "${TABLE}"`)) await this.runner.apply(`delete table ${this.family} ${TABLE}\n`);
    this.#committed = null;
  }
}
