/**
 * @module daemon/agentParts — the one table of the parts `podnetd agent` runs, in start order, and how each is
 * scheduled. `latency` parts answer the network or hold leases on a clock (DNS, BFD/BGP timers, ARP/NDP replies,
 * lease renewals, CNI hand-offs); `bulk` parts compile and commit work proportional to the cluster (the proxy's
 * syncs, the endpoints controller's reconciles) and run at a lower CPU priority, so on a busy node the kernel
 * scheduler, not the order of callbacks in one event loop, keeps the latency parts on time (src/daemon/README.md).
 */
import type { AgentPart } from '../common/agentPart.ts';
import { ConfigProblems } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import type { AgentConfig } from '../node/agentConfig.ts';

export type PartClass = 'latency' | 'bulk';

export interface PartEntry {
  name: string;
  /** Loaded on demand: a part's child process compiles and holds its own part's code only. */
  load(): Promise<AgentPart>;
  class: PartClass;
}

/** Start order: `node` first (it writes node.json, which the others read), then the rest together. */
export const AGENT_PARTS: readonly PartEntry[] = [
  { name: 'node', load: async () => (await import('../node/nodeAgentPart.ts')).nodeAgentPart(), class: 'latency' },
  { name: 'controller', load: async () => (await import('../controller/controllerAgentPart.ts')).controllerAgentPart(), class: 'bulk' },
  { name: 'routing', load: async () => (await import('../routing/routingAgentPart.ts')).routingAgentPart(), class: 'latency' },
  { name: 'proxy', load: async () => (await import('../services/proxyAgentPart.ts')).proxyAgentPart(), class: 'bulk' },
  { name: 'dns', load: async () => (await import('../dns/dnsAgentPart.ts')).dnsAgentPart(), class: 'latency' },
  { name: 'lb', load: async () => (await import('../lb/lbAgentPart.ts')).lbAgentPart(), class: 'latency' },
  { name: 'cni', load: async () => (await import('../cni/handoff/cniAgentPart.ts')).cniAgentPart(), class: 'latency' },
];

export function partEntry(name: string): PartEntry | undefined {
  return AGENT_PARTS.find((p) => p.name === name);
}

/**
 * Every part checks its section before anything starts; an operator fixing a config file sees every section's
 * problems in one run instead of one section per restart.
 */
export function checkAllParts(parts: readonly AgentPart[], config: AgentConfig, file?: string): void {
  const problems: string[] = [];
  for (const p of parts) {
    try {
      p.check?.(config, file);
    } catch (err) {
      if (err instanceof ConfigProblems) problems.push(...err.problems);
      else if (err instanceof ConfigError) problems.push(err.file && err.message.startsWith(`${err.file}: `) ? err.message.slice(err.file.length + 2) : err.message);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigProblems(problems, file);
}
