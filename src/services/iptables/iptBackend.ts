/**
 * iptables backend: `iptables-restore --noflush` of the PODNET-* chains only (other chains untouched), with
 * KEP-3453's partial restore: dispatch chains are rewritten every sync, per-service chains only when they
 * changed. The jumps from the built-in chains are ensured with `-C` / `-I` on full syncs. IPv4 only for now.
 */
import { runTool, findTool } from '../../common/systemTools.ts';
import { PodnetError } from '../../common/errors.ts';
import type { ProxyBackend, BackendSyncResult, BackendOptions } from '../backend.ts';
import type { ServiceModel } from '../serviceModel.ts';
import { planIptables, type IptDesired } from './iptPlanner.ts';

const JUMPS: Array<[string, string, string]> = [
  ['nat', 'PREROUTING', 'PODNET-SERVICES'],
  ['nat', 'OUTPUT', 'PODNET-SERVICES'],
  ['nat', 'POSTROUTING', 'PODNET-POSTROUTING'],
  ['filter', 'INPUT', 'PODNET-REJECT'],
  ['filter', 'FORWARD', 'PODNET-REJECT'],
  ['filter', 'OUTPUT', 'PODNET-REJECT'],
];

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);
}

/**
 * The restore text for one table: chains to (re)write and chains to delete. kube-proxy rewrites its dispatch
 * chains on every sync because it keeps no copy; we keep the committed chains, so only changed ones are sent.
 */
export function renderIptTable(table: 'nat' | 'filter', prev: Map<string, string[]> | null, next: Map<string, string[]>): string {
  const changed = [...next.entries()].filter(([name, rules]) => prev === null || !sameRules(prev.get(name), rules));
  const gone = prev ? [...prev.keys()].filter((n) => !next.has(n)) : [];
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
  #committed: IptDesired | null = null;
  lastRestore = '';

  constructor(readonly opts: BackendOptions) {
    if (!findTool('iptables-restore')) throw new PodnetError('PODNET_TOOL_MISSING', 'iptables-restore is not installed (Debian package iptables): the iptables proxy mode needs it');
  }

  #run(tool: string, args: string[], input?: string) {
    const [cmd, full] = this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, findTool(tool)!, ...args]] : [tool, args];
    return runTool(cmd, full, { allowFailure: true, timeoutMs: 600_000, ...(input !== undefined ? { input } : {}) });
  }

  async #ensureJumps(): Promise<void> {
    for (const [table, chain, target] of JUMPS) {
      const rule = ['-m', 'comment', '--comment', 'podnet service proxy', '-j', target];
      if ((await this.#run('iptables', ['-w', '-t', table, '-C', chain, ...rule])).code !== 0) {
        const r = await this.#run('iptables', ['-w', '-t', table, '-I', chain, '1', ...rule]);
        if (r.code !== 0) throw new PodnetError('PODNET_IPTABLES_FAILED', `adding the jump ${table}/${chain} → ${target}: ${r.stderr.trim()}`);
      }
    }
  }

  async sync(model: ServiceModel, opts: { full?: boolean } = {}): Promise<BackendSyncResult> {
    const next = planIptables(model, { clusterCIDRs: this.opts.clusterCIDRs });
    const prev = opts.full ? null : this.#committed;
    if (prev === null) this.#committed = null;
    const text = renderIptTable('nat', prev?.nat ?? null, next.nat) + renderIptTable('filter', prev?.filter ?? null, next.filter);
    if (text === '') return { kind: 'noop', chainsWritten: 0, elementsChanged: 0 };
    this.lastRestore = text;
    const r = await this.#run('iptables-restore', ['-w', '--noflush'], text);
    if (r.code !== 0) {
      this.#committed = null;
      throw new PodnetError('PODNET_IPTABLES_FAILED', `iptables-restore: ${r.stderr.trim().split('\n').slice(0, 4).join('; ')}`);
    }
    if (prev === null) await this.#ensureJumps(); // after the restore: the chains must exist first
    this.#committed = next;
    return { kind: prev === null ? 'full' : 'incremental', chainsWritten: (text.match(/^:/gm) ?? []).length, elementsChanged: 0 };
  }

  /** Canary: the PREROUTING jump; a flushed nat table loses it. */
  async driftDetected(): Promise<boolean> {
    if (this.#committed === null) return false;
    const ok = (await this.#run('iptables', ['-w', '-t', 'nat', '-C', 'PREROUTING', '-m', 'comment', '--comment', 'podnet service proxy', '-j', 'PODNET-SERVICES'])).code === 0;
    if (!ok) this.#committed = null;
    return !ok;
  }

  /** Remove the jumps and every PODNET-* chain (found by listing: only done on cleanup). */
  async cleanup(): Promise<void> {
    for (const [table, chain, target] of JUMPS) {
      await this.#run('iptables', ['-w', '-t', table, '-D', chain, '-m', 'comment', '--comment', 'podnet service proxy', '-j', target]);
    }
    for (const table of ['nat', 'filter']) {
      const saved = await this.#run('iptables-save', ['-t', table]);
      const chains = [...saved.stdout.matchAll(/^:(PODNET-\S+)/gm)].map((m) => m[1]!);
      if (chains.length === 0) continue;
      const text = [`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
      await this.#run('iptables-restore', ['-w', '--noflush'], text);
    }
    this.#committed = null;
  }
}
