/**
 * @module services/nftables/nftApplier — keeps what was committed in memory and sends only the difference.
 *
 * - First sync, after any failure, and when the drift check fails: a full sync. It lists only the NAMES of our
 *   chains and sets (no rules, no elements) to adopt what a previous podnetd left, and rewrites everything in one
 *   transaction without flushing the table first (traffic never sees an empty table; affinity sets survive).
 * - Every other sync: the diff against the in-memory copy, one transaction, no listing at all.
 * - Drift check: list one tiny base chain (O(1)); empty or missing means someone flushed or deleted our table.
 */
import { TABLE } from './nftNames.ts';
import type { NftFamily } from './nftSkeleton.ts';
import type { NftDesired } from './nftPlanner.ts';
import { renderFull, renderIncremental, type ExistingObjects, type TransactionStats } from './nftTransaction.ts';
import type { NftRunner } from './nftRunner.ts';

export interface ApplyResult {
  kind: 'full' | 'incremental' | 'noop';
  stats: TransactionStats;
  /** Lines in the transaction sent (0 for noop). */
  lines: number;
}

interface NftJsonList {
  nftables?: Array<{ chain?: { table: string; name: string }; set?: { table: string; name: string }; rule?: unknown }>;
}

function namesIn(out: string | null, kind: 'chain' | 'set'): Set<string> {
  const names = new Set<string>();
  if (!out) return names;
  for (const item of (JSON.parse(out) as NftJsonList).nftables ?? []) {
    const o = item[kind];
    if (o && o.table === TABLE) names.add(o.name);
  }
  return names;
}

export class NftApplier {
  #committed: NftDesired | null = null;
  /** Text of the last transaction sent: tests assert an incremental sync carries only the change. */
  lastTransaction = '';

  constructor(readonly runner: NftRunner, readonly family: NftFamily) {}

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
    const sets = tableExists ? namesIn(await this.runner.query(['-j', 'list', 'sets', this.family]), 'set') : new Set<string>();
    return { tableExists, chains, sets };
  }

  async apply(desired: NftDesired, opts: { full?: boolean } = {}): Promise<ApplyResult> {
    const full = opts.full === true || this.#committed === null;
    const { text, stats } = full ? renderFull(desired, await this.#existing()) : renderIncremental(this.#committed!, desired);
    if (!text) return { kind: 'noop', stats, lines: 0 };
    this.lastTransaction = text;
    try {
      await this.runner.apply(text);
    } catch (err) {
      this.#committed = null; // unknown kernel state: the next sync is a full one
      throw err;
    }
    this.#committed = desired;
    return { kind: full ? 'full' : 'incremental', stats, lines: text.split('\n').length - 1 };
  }

  /** True when our table was flushed or deleted behind our back (then the next sync is full). */
  async driftDetected(): Promise<boolean> {
    if (this.#committed === null) return false;
    let out: string | null;
    try {
      out = await this.runner.query(['-j', 'list', 'chain', this.family, TABLE, 'nat-prerouting']);
    } catch {
      out = null;
    }
    const intact = out !== null && out.includes('"rule"') && out.includes('services');
    if (!intact) this.#committed = null;
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
