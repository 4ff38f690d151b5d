/**
 * iptables backend: `iptables-restore --noflush` / `ip6tables-restore --noflush` of the PODNET-* chains only
 * (other chains untouched), with KEP-3453's partial restore: we keep the committed chains, so an incremental sync
 * sends only the chains whose rules changed (kube-proxy rewrites its dispatch chains every time because it keeps
 * no copy). A full sync (start, failure, drift) lists the PODNET-* chain names once (`iptables-save`) to delete
 * what a previous run left, rewrites every chain, and ensures the jumps from the built-in chains (`-C` / `-I`).
 * The ClusterIPs are an ipset per family (`ipset restore`, swapped in whole), rewritten only when they change.
 */
import { runTool, findTool } from '../../common/systemTools.ts';
import { PodnetError } from '../../common/errors.ts';
import type { ProxyBackend, BackendSyncResult, BackendOptions } from '../backend.ts';
import type { ServiceModel } from '../serviceModel.ts';
import type { IPFamily } from '../../store/types.ts';
import { planIptables, clusterIPSet, type IptDesired } from './iptPlanner.ts';

const JUMPS: Array<[string, string, string]> = [
  ['nat', 'PREROUTING', 'PODNET-SERVICES'],
  ['nat', 'OUTPUT', 'PODNET-SERVICES'],
  ['nat', 'POSTROUTING', 'PODNET-POSTROUTING'],
  ['filter', 'INPUT', 'PODNET-REJECT'],
  ['filter', 'FORWARD', 'PODNET-REJECT'],
  ['filter', 'OUTPUT', 'PODNET-REJECT'],
];
const JUMP_COMMENT = ['-m', 'comment', '--comment', 'podnet service proxy'];
const TABLES = ['nat', 'filter'] as const;
type Table = (typeof TABLES)[number];

interface FamilyTools { family: IPFamily; iptables: string; restore: string; save: string }
const FAMILY_TOOLS: FamilyTools[] = [
  { family: 'IPv4', iptables: 'iptables', restore: 'iptables-restore', save: 'iptables-save' },
  { family: 'IPv6', iptables: 'ip6tables', restore: 'ip6tables-restore', save: 'ip6tables-save' },
];

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);
}

/**
 * `ipset restore` text that makes `name` hold exactly `members`: filled aside and swapped in, so the REJECT rule
 * never sees a half-filled set; `-exist` makes the creates idempotent (full syncs after a restart).
 */
export function renderClusterIPSet(name: string, family: IPFamily, members: readonly string[]): string {
  const create = (n: string) => `create ${n} hash:ip family ${family === 'IPv4' ? 'inet' : 'inet6'} maxelem 1048576`;
  const tmp = `${name}-TMP`;
  return [create(name), create(tmp), `flush ${tmp}`, ...members.map((ip) => `add ${tmp} ${ip}`), `swap ${tmp} ${name}`, `destroy ${tmp}`, ''].join('\n');
}

/**
 * The restore text for one table: chains to (re)write and chains to delete. `prev` null = full: every chain is
 * written and `stale` (chains found in the kernel that `next` lacks) deleted.
 */
export function renderIptTable(table: Table, prev: Map<string, string[]> | null, next: Map<string, string[]>, stale: readonly string[] = []): string {
  const changed = [...next.entries()].filter(([name, rules]) => prev === null || !sameRules(prev.get(name), rules));
  const gone = prev ? [...prev.keys()].filter((n) => !next.has(n)) : stale.filter((n) => !next.has(n));
  if (changed.length === 0 && gone.length === 0) return '';
  const out = [`*${table}`];
  for (const [name] of changed) out.push(`:${name} - [0:0]`);
  for (const name of gone) out.push(`:${name} - [0:0]`);
  for (const [name, rules] of changed) for (const r of rules) out.push(`-A ${name} ${r}`);
  for (const name of gone) out.push(`-X ${name}`);
  out.push('COMMIT');
  return `${out.join('\n')}\n`;
}

export class IptBackend implements ProxyBackend {
  readonly mode = 'iptables' as const;
  #committed: Partial<Record<IPFamily, IptDesired>> = {};
  /** The restore text of the last sync (both families), for tests and debugging. */
  lastRestore = '';

  constructor(readonly opts: BackendOptions) {
    if (!findTool('iptables-restore')) throw new PodnetError('PODNET_TOOL_MISSING', 'iptables-restore is not installed (Debian package iptables): the iptables proxy mode needs it');
  }

  #run(tool: string, args: string[], input?: string) {
    const path = findTool(tool);
    if (!path) throw new PodnetError('PODNET_TOOL_MISSING', `${tool} is not installed (Debian package ${tool === 'ipset' ? 'ipset' : 'iptables'}): the iptables proxy mode needs it`);
    const [cmd, full] = this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, path, ...args]] : [tool, args];
    return runTool(cmd, full, { allowFailure: true, timeoutMs: 600_000, ...(input !== undefined ? { input } : {}) });
  }

  async #ensureJumps(t: FamilyTools): Promise<void> {
    for (const [table, chain, target] of JUMPS) {
      const rule = [...JUMP_COMMENT, '-j', target];
      if ((await this.#run(t.iptables, ['-w', '-t', table, '-C', chain, ...rule])).code !== 0) {
        const r = await this.#run(t.iptables, ['-w', '-t', table, '-I', chain, '1', ...rule]);
        if (r.code !== 0) throw new PodnetError('PODNET_IPTABLES_FAILED', `adding the jump ${t.iptables} ${table}/${chain} → ${target}: ${r.stderr.trim()}`);
      }
    }
  }

  /** PODNET-* chain names present in the kernel, per table (full syncs and cleanup only: O(ruleset)). */
  async #existingChains(t: FamilyTools): Promise<Record<Table, string[]>> {
    const out: Record<Table, string[]> = { nat: [], filter: [] };
    for (const table of TABLES) {
      const saved = await this.#run(t.save, ['-t', table]);
      out[table] = [...saved.stdout.matchAll(/^:(PODNET-\S+)/gm)].map((m) => m[1]!);
    }
    return out;
  }

  async #syncFamily(t: FamilyTools, model: ServiceModel, full: boolean): Promise<{ text: string; full: boolean }> {
    const next = planIptables(model, t.family, { clusterCIDRs: this.opts.clusterCIDRs, masqueradeAll: this.opts.masqueradeAll });
    const prev = full ? null : this.#committed[t.family] ?? null;
    delete this.#committed[t.family];
    const stale = prev === null ? await this.#existingChains(t) : { nat: [], filter: [] };
    const text = renderIptTable('nat', prev?.nat ?? null, next.nat, stale.nat) + renderIptTable('filter', prev?.filter ?? null, next.filter, stale.filter);
    // The set first: the restore's REJECT rule names it (and iptables-restore refuses a rule naming no set).
    if (prev === null || !sameRules(prev.clusterIPs, next.clusterIPs)) {
      const r = await this.#run('ipset', ['restore', '-exist'], renderClusterIPSet(clusterIPSet(t.family), t.family, next.clusterIPs));
      if (r.code !== 0) throw new PodnetError('PODNET_IPTABLES_FAILED', `ipset restore of ${clusterIPSet(t.family)}: ${r.stderr.trim().split('\n')[0]}`);
    }
    if (text !== '') {
      const r = await this.#run(t.restore, ['-w', '--noflush'], text);
      if (r.code !== 0) {
        throw new PodnetError('PODNET_IPTABLES_FAILED', `${t.restore}: ${r.stderr.trim().split('\n').slice(0, 4).join('; ')}`);
      }
    }
    if (prev === null) await this.#ensureJumps(t); // after the restore: the chains must exist first
    this.#committed[t.family] = next;
    return { text, full: prev === null };
  }

  async sync(model: ServiceModel, opts: { full?: boolean } = {}): Promise<BackendSyncResult> {
    let text = '';
    let full = false;
    for (const t of FAMILY_TOOLS) {
      const r = await this.#syncFamily(t, model, opts.full === true);
      text += r.text;
      full ||= r.full;
    }
    if (text !== '') this.lastRestore = text;
    if (text === '' && !full) return { kind: 'noop', chainsWritten: 0, elementsChanged: 0 };
    return { kind: full ? 'full' : 'incremental', chainsWritten: (text.match(/^:/gm) ?? []).length, elementsChanged: 0 };
  }

  /** Canary: the PREROUTING jump of each family; a flushed nat table loses it. */
  async driftDetected(): Promise<boolean> {
    let drifted = false;
    for (const t of FAMILY_TOOLS) {
      if (!this.#committed[t.family]) continue;
      const ok = (await this.#run(t.iptables, ['-w', '-t', 'nat', '-C', 'PREROUTING', ...JUMP_COMMENT, '-j', 'PODNET-SERVICES'])).code === 0;
      if (!ok) {
        delete this.#committed[t.family];
        drifted = true;
      }
    }
    return drifted;
  }

  /** Remove the jumps and every PODNET-* chain of both families (found by listing: only done on cleanup). */
  async cleanup(): Promise<void> {
    for (const t of FAMILY_TOOLS) {
      if (!findTool(t.restore)) continue;
      for (const [table, chain, target] of JUMPS) {
        // -D removes one copy: loop in case an older run inserted the jump more than once.
        for (let i = 0; i < 4; i++) {
          if ((await this.#run(t.iptables, ['-w', '-t', table, '-D', chain, ...JUMP_COMMENT, '-j', target])).code !== 0) break;
        }
      }
      const chains = await this.#existingChains(t);
      for (const table of TABLES) {
        const names = chains[table];
        if (names.length === 0) continue;
        const text = [`*${table}`, ...names.map((c) => `:${c} - [0:0]`), ...names.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
        const r = await this.#run(t.restore, ['-w', '--noflush'], text);
        if (r.code !== 0) throw new PodnetError('PODNET_IPTABLES_FAILED', `removing the PODNET-* chains (${t.restore} ${table}): ${r.stderr.trim().split('\n')[0]}`);
      }
      // No rule names the set any more; absent (never created) is fine.
      if (findTool('ipset')) await this.#run('ipset', ['destroy', clusterIPSet(t.family)]);
    }
    this.#committed = {};
  }
}
